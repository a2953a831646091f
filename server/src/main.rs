//! `switchyard`: see `server::cli` for the commands.

use std::{process::ExitCode, sync::mpsc, time::Duration};

use clap::Parser;

/// How long the runtime's threads get to stop once the server has stopped.
const THREADS_STOP_TIMEOUT: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let cli = server::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("switchyard: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(server::cli::run(cli));
    // Dropping a runtime waits for every worker and blocking thread, without limit. The
    // server has stopped in order (or given up at its deadline) by now, so a thread that
    // does not stop is stuck and must not keep the process alive; it is worth a loud line.
    let (stopped, threads_stopped) = mpsc::channel();
    std::thread::spawn(move || {
        drop(runtime);
        let _ = stopped.send(());
    });
    if threads_stopped.recv_timeout(THREADS_STOP_TIMEOUT).is_err() {
        tracing::error!(
            timeout_secs = THREADS_STOP_TIMEOUT.as_secs(),
            "a runtime thread did not stop after the server stopped; exiting without it"
        );
    }
    code
}
