//! The `childhub` binary: parse the command line and run it. Everything else lives in the library.

use clap::Parser;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: allocation was a fifth of the CPU of a page of values
/// (bench/compare); the library and its tests keep the default.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = childhub::cli::Cli::parse();
    match childhub::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e);
            ExitCode::FAILURE
        }
    }
}
