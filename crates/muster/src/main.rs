use clap::Parser;

/// mimalloc: a request allocates many small, short-lived objects on two runtime threads; glibc
/// malloc spent ~15 % of a read's CPU on them and kept freed memory after large answers.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    muster::telemetry::init();
    match muster::cli::run(muster::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
