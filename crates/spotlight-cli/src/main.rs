//! The `spotlight` binary. Thin: parse the command line, load configuration
//! (exit 2 when it is invalid), and hand over to the command.

// A command-line tool: printing to stdout is its job.
#![allow(clippy::print_stdout)]

mod commands;

use clap::Parser;
use std::process::ExitCode;

// The server allocates many small, short-lived buffers per request; mimalloc
// serves those markedly faster than glibc's allocator under concurrency.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("spotlight: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(commands::run(cli))
}
