//! Tells the test suite which of its environment-dependent tests can run: `postgres_tests` when
//! `CHILDHUB_TEST_POSTGRES` names a server, `browser_tests` when Chromium is installed. Tests that cannot
//! run are marked ignored (with the reason), so `cargo test` counts them as ignored, never as passed.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(postgres_tests)");
    println!("cargo::rustc-check-cfg=cfg(browser_tests)");
    println!("cargo::rerun-if-env-changed=CHILDHUB_TEST_POSTGRES");
    println!("cargo::rerun-if-env-changed=CHILDHUB_CHROMIUM");
    if std::env::var("CHILDHUB_TEST_POSTGRES").is_ok_and(|v| !v.is_empty()) {
        println!("cargo::rustc-cfg=postgres_tests");
    }
    let chromium =
        std::env::var("CHILDHUB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    println!("cargo::rerun-if-changed={chromium}");
    if std::path::Path::new(&chromium).exists() {
        println!("cargo::rustc-cfg=browser_tests");
    }
}
