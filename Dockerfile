# syntax=docker/dockerfile:1
# childhub: build the release binary, run it on a slim Debian image as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first: fetched in a layer of their own, from the manifests alone, so a change to the
# sources does not download them again; the cache mounts keep compiled dependencies between builds.
COPY Cargo.toml Cargo.lock ./
COPY entity/Cargo.toml entity/Cargo.toml
COPY migration/Cargo.toml migration/Cargo.toml
RUN mkdir -p src entity/src migration/src \
    && touch src/lib.rs entity/src/lib.rs migration/src/lib.rs \
    && echo 'fn main() {}' > src/main.rs && echo 'fn main() {}' > build.rs \
    && cargo fetch --locked
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin childhub \
    && cp target/release/childhub /usr/local/bin/childhub

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/childhub --create-home childhub
COPY --from=build /usr/local/bin/childhub /usr/local/bin/childhub
USER childhub
WORKDIR /var/lib/childhub
ENV CHILDHUB_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD ["childhub", "healthcheck"]
ENTRYPOINT ["childhub"]
CMD ["serve"]
