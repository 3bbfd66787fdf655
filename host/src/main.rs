//! The `molotov` command: parse the flags, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use molotov::cli::{Cli, Command};

/// The run completed but `-x` or `-f` failed it.
const EXIT_FAILED: u8 = 1;
/// The run could not happen: bad flags, an unusable component, a failed global setup.
const EXIT_CANNOT_RUN: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    match cli.command {
        Command::Serve(args) => {
            match runtime.block_on(molotov::serve::serve(([127, 0, 0, 1], args.port).into())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::from(EXIT_CANNOT_RUN)
                }
            }
        }
        Command::Run(args) => {
            let quiet = args.quiet;
            let json = args.json.clone();
            match runtime.block_on(molotov::runner::run(*args)) {
                Ok(outcome) => {
                    if !quiet {
                        print!("{}", outcome.report.summary());
                    }
                    if let Some(path) = json
                        && let Err(error) = outcome.report.write_json(&path)
                    {
                        eprintln!("error: {error:#}");
                        return ExitCode::from(EXIT_CANNOT_RUN);
                    }
                    if outcome.failed {
                        ExitCode::from(EXIT_FAILED)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                Err(error) => {
                    eprintln!("error: {error:#}");
                    ExitCode::from(EXIT_CANNOT_RUN)
                }
            }
        }
    }
}
