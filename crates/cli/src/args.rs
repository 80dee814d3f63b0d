//! The one flag grammar of every ebpftop tool. A tool flattens the groups
//! it supports into its own clap struct; the letters mean the same
//! everywhere.

use std::time::Duration;

use clap::Args;
use ebpftop_output::OutputOptions;
use ebpftop_runtime::FilterSpec;

/// Which tasks to trace.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Filters")]
pub struct FilterArgs {
    /// Trace this process only.
    #[arg(short = 'p', long = "pid", value_name = "PID")]
    pub pid: Option<u32>,
    /// Trace this thread only.
    #[arg(short = 't', long = "tid", value_name = "TID")]
    pub tid: Option<u32>,
    /// Trace this user id only.
    #[arg(short = 'u', long = "uid", value_name = "UID")]
    pub uid: Option<u32>,
    /// Trace processes with this exact name (comm, at most 15 bytes).
    #[arg(short = 'c', long = "comm", value_name = "COMM")]
    pub comm: Option<String>,
    /// Trace this cgroup v2 only: a directory, a path relative to the
    /// cgroup v2 mount, or a cgroup id.
    #[arg(long = "cgroup", value_name = "PATH|ID")]
    pub cgroup: Option<String>,
}

impl FilterArgs {
    pub fn spec(&self, failed_only: bool) -> FilterSpec {
        FilterSpec {
            pid: self.pid,
            tid: self.tid,
            uid: self.uid,
            comm: self.comm.clone(),
            cgroup: self.cgroup.clone(),
            failed_only,
        }
    }
}

/// [`FilterArgs`] for tools whose own `-t` means something else
/// (exitsnoop's `--threads`): the thread filter is `--tid` only.
#[derive(Args, Debug, Clone, Default)]
#[command(mut_arg("tid", |a| a.short(None)))]
pub struct ProcessFilterArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
}

impl ProcessFilterArgs {
    pub fn spec(&self, failed_only: bool) -> FilterSpec {
        self.filter.spec(failed_only)
    }
}

/// [`FilterArgs`] for tools where bcc's `-c` means count mode (tcpconnect,
/// tcpretrans): their users type `-c` for that, so the comm filter is
/// `--comm` only.
#[derive(Args, Debug, Clone, Default)]
#[command(mut_arg("comm", |a| a.short(None)))]
pub struct CountingFilterArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
}

impl CountingFilterArgs {
    pub fn spec(&self, failed_only: bool) -> FilterSpec {
        self.filter.spec(failed_only)
    }
}

/// How to print.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print a timestamp (local time) on each line.
    #[arg(short = 'T', long = "timestamp")]
    pub timestamp: bool,
    /// Print the user id on each line.
    #[arg(short = 'U', long = "print-uid")]
    pub print_uid: bool,
    /// Print JSON lines instead of a table (schema in ebpftop(7) and the README).
    #[arg(long = "json")]
    pub json: bool,
}

impl OutputArgs {
    pub fn options(&self) -> OutputOptions {
        OutputOptions {
            json: self.json,
            timestamp: self.timestamp,
            print_uid: self.print_uid,
        }
    }
}

/// How long to run and how much to say about it.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Run")]
pub struct RunArgs {
    /// Stop after this many seconds (fractions allowed).
    #[arg(short = 'd', long = "duration", value_name = "SECS", value_parser = parse_seconds)]
    pub duration: Option<Duration>,
    /// Say which attach path each program took, and other details, on stderr.
    #[arg(short = 'v', long = "verbose")]
    pub verbose: bool,
}

/// Seconds as a positive, finite number: `10`, `0.5`.
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("{s:?} must be a positive number of seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_filter_frees_short_t() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Tool {
            #[arg(short = 't')]
            threads: bool,
            #[command(flatten)]
            filter: ProcessFilterArgs,
        }
        Tool::command().debug_assert();
        let t = Tool::try_parse_from(["tool", "-t", "--tid", "1", "-p", "2"]).unwrap();
        assert!(t.threads);
        assert_eq!(t.filter.spec(false).tid, Some(1));
        assert_eq!(t.filter.spec(false).pid, Some(2));
    }

    #[test]
    fn counting_filter_frees_short_c() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Tool {
            #[arg(short = 'c', long = "count")]
            count: bool,
            #[command(flatten)]
            filter: CountingFilterArgs,
        }
        Tool::command().debug_assert();
        let t = Tool::try_parse_from(["tool", "-c", "--comm", "curl"]).unwrap();
        assert!(t.count);
        assert_eq!(t.filter.spec(false).comm.as_deref(), Some("curl"));
        assert!(Tool::try_parse_from(["tool", "-c", "curl"]).is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_seconds("0.25").unwrap(), Duration::from_millis(250));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("abc").is_err());
        assert!(parse_seconds("inf").is_err());
    }
}
