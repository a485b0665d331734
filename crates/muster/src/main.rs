use clap::Parser;

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
