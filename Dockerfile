# childhub: build the release binary, run it on a slim Debian image.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin childhub

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/childhub /usr/local/bin/childhub
WORKDIR /var/lib/childhub
ENV CHILDHUB_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["childhub"]
CMD ["serve"]
