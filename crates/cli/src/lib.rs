//! What every tool's `main` shares: the flag grammar ([`args`]), error and
//! exit-code conventions ([`run_main`]) and the trace lifecycle
//! ([`trace`]): load, attach, read, print, count losses, stop cleanly.

pub mod args;
pub mod interval;
pub mod latencies;
mod logger;
pub mod syscalls;
mod trace;

use std::process::ExitCode;

pub use args::{CountingFilterArgs, FilterArgs, OutputArgs, ProcessFilterArgs, RunArgs};
pub use interval::{
    Cumulative, Deltas, IntervalArgs, IntervalSpec, IntervalTool, Stamp, SummaryOutputArgs,
    run_intervals,
};
pub use latencies::Latencies;
pub use trace::{RecordHandler, TraceSpec, emit_decoded, short_record, trace, trace_with};

/// Runs a tool's `run` and turns its result into one line and an exit code:
/// `tool: cause: cause` and 1 on error, 0 when the output's reader went
/// away (`tool | head -1`).
pub fn run_main<A: clap::Parser>(
    tool: &'static str,
    verbose: impl Fn(&A) -> bool,
    run: impl FnOnce(A) -> anyhow::Result<()>,
) -> ExitCode {
    let args = match A::try_parse() {
        Ok(a) => a,
        Err(e) => return usage_error(tool, e),
    };
    logger::init(tool, verbose(&args));
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{tool}: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Help and version print as clap formats them; a bad command line is one
/// line, `tool: what is wrong (try --help)`, and exit status 2.
fn usage_error(tool: &str, e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "{tool}: {} (try --help)",
        usage_line(&e.render().to_string())
    );
    ExitCode::from(2)
}

/// The first line of clap's rendered error, without its `error: ` label.
fn usage_line(rendered: &str) -> &str {
    let first = rendered.lines().next().unwrap_or("invalid command line");
    first.strip_prefix("error: ").unwrap_or(first).trim_end()
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `cause: cause: cause`, with repeats (a context that quotes its source)
/// and line breaks removed.
fn one_line(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string().replace('\n', " ");
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Demo {
        #[arg(short = 'p')]
        pid: Option<u32>,
    }

    #[test]
    fn clap_errors_become_one_line() {
        for argv in [&["demo", "-p", "abc"][..], &["demo", "--bogus"]] {
            let e = Demo::try_parse_from(argv).unwrap_err();
            let line = super::usage_line(&e.render().to_string()).to_string();
            assert!(!line.contains('\n') && !line.starts_with("error"), "{line}");
            assert!(line.contains("abc") || line.contains("--bogus"), "{line}");
        }
    }
}
