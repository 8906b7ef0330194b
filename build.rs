//! Tells the test suite which of its environment-dependent tests can run: `postgres_tests` when
//! `CHILDHUB_TEST_POSTGRES` names a server, `browser_tests` when Chromium and the browser tests' npm
//! packages are installed, `compose_tests`
//! when docker-compose is (to render the compose file; no container engine is needed). Tests that cannot
//! run are marked ignored (with the reason), so `cargo test` counts them as ignored, never as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rustc-check-cfg=cfg(browser_tests)");
    println!("cargo::rustc-check-cfg=cfg(compose_tests)");
    println!("cargo::rerun-if-env-changed=CHILDHUB_TEST_POSTGRES");
    println!("cargo::rerun-if-env-changed=CHILDHUB_CHROMIUM");
    if std::env::var("CHILDHUB_TEST_POSTGRES").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
    let chromium =
        std::env::var("CHILDHUB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    println!("cargo::rerun-if-changed={chromium}");
    // Browser tests drive Chromium with Playwright and sign in at the test identity provider: both are
    // npm packages of tests/browser (`npm ci --prefix tests/browser`).
    let packages = "tests/browser/node_modules/.package-lock.json";
    println!("cargo::rerun-if-changed={packages}");
    if std::path::Path::new(&chromium).exists() && std::path::Path::new(packages).exists() {
        println!("cargo::rustc-cfg=browser_tests");
    }
    let compose = docker_compose();
    println!("cargo::rerun-if-env-changed=CHILDHUB_DOCKER_COMPOSE");
    println!("cargo::rerun-if-changed={compose}");
    if std::path::Path::new(&compose).exists() {
        println!("cargo::rustc-cfg=compose_tests");
    }
}

/// The docker-compose program the compose test renders the file with.
fn docker_compose() -> String {
    std::env::var("CHILDHUB_DOCKER_COMPOSE")
        .unwrap_or_else(|_| "/usr/bin/docker-compose".to_owned())
}
