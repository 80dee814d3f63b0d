//! `cargo xtask`: build chores that need more than cargo.
mod bench;
mod bench_dashboard;
mod docs;
mod ebpf;
mod empty_program;
mod test;

use std::{
    path::PathBuf,
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Rebuild ebpf/objects/*.bpf.o from source (pinned nightly + bpf-linker,
    /// installed when missing).
    Ebpf(ebpf::EbpfArgs),
    /// Regenerate man/ and completions/ from the tools' command lines.
    Docs,
    /// Install the test dependencies and run every test (as root).
    Test {
        /// Passed to `cargo test` (e.g. a test name filter).
        #[arg(trailing_var_arg = true)]
        extra: Vec<String>,
    },
    /// Benchmarks against libbpf-tools, side by side (needs root).
    Bench(bench::BenchArgs),
}

fn main() {
    let result = match Cli::parse().command {
        Cmd::Ebpf(args) => ebpf::run_ebpf(args),
        Cmd::Docs => docs::run_docs(),
        Cmd::Test { extra } => test::run_tests(&extra),
        Cmd::Bench(args) => bench::run(args),
    };
    if let Err(e) = result {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

/// The workspace root (xtask lives one below it).
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a command with inherited stdio; a non-zero exit is an error.
pub fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// Runs a command and returns its stdout.
pub fn cmd_output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(Stdio::null())
        .output()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
