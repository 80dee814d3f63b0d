//! execsnoop, user half: which hooks to attach, pairing each exec's entry
//! and exit records, and turning them into records.

use std::process::ExitCode;

use anyhow::Context as _;
use ebpftop_cli::{RecordHandler, TraceSpec, run_main, short_record, trace_with};
use ebpftop_common::execsnoop::{ExecConfig, ExecEntryFixed, ExecExit, KIND_ENTRY, KIND_EXIT};
use ebpftop_output::{Column, Comm, Output};
use ebpftop_runtime::{Clock, TASK_OFFSETS_GLOBAL, read_record, task_offsets};
use execsnoop::{
    argv,
    cli::Args,
    pairing::{Pairs, Pending},
    record::{OBJECT, PAIR_TIMEOUT_NS, exec_record, split_args},
};
use regex::bytes::Regex;

const COLUMNS: &[Column] = &[
    Column::left("PCOMM", 16),
    Column::left("PID", 7),
    Column::left("PPID", 7),
    Column::right("RET", 3),
    Column::left("ARGS", 0),
];

/// What the user asked to see, beyond the kernel's filter.
struct Show {
    failed_only: bool,
    quote: bool,
    name: Option<Regex>,
    line: Option<Regex>,
    max_bytes: usize,
}

struct Execs {
    pairs: Pairs,
    show: Show,
    line: String,
}

impl Execs {
    /// Prints one exec: its entry record, and the exit's when it came.
    fn emit(
        &mut self,
        entry: &[u8],
        exit: Option<&ExecExit>,
        clock: &Clock,
        out: &mut Output,
    ) -> std::io::Result<()> {
        let Some(e) = read_record::<ExecEntryFixed>(entry) else {
            return Err(short_record(entry));
        };
        let ret = exit.map(|x| x.ret);
        let failed = ret.is_some_and(|r| r < 0);
        if self.show.failed_only && !failed {
            return Ok(());
        }
        let a = split_args(entry, &e, self.show.max_bytes);
        // The command name after the exec; the caller's when it failed or
        // its result never came.
        let comm = exit.map_or(e.header.comm, |x| x.header.comm);
        if self
            .show
            .name
            .as_ref()
            .is_some_and(|re| !re.is_match(Comm(comm).as_bytes()))
        {
            return Ok(());
        }
        if let Some(re) = &self.show.line
            && !re.is_match(&argv::joined(&a.args))
        {
            return Ok(());
        }
        self.line = argv::line(&a.args, self.show.quote, a.truncated);
        out.emit(&exec_record(&e, &a, exit, clock, &self.line))
    }

    fn emit_unpaired(
        &mut self,
        waiting: Vec<Pending>,
        clock: &Clock,
        out: &mut Output,
    ) -> std::io::Result<()> {
        for p in waiting {
            self.emit(&p.record, None, clock, out)?;
        }
        Ok(())
    }
}

impl RecordHandler for Execs {
    fn record(&mut self, data: &[u8], clock: &Clock, out: &mut Output) -> std::io::Result<()> {
        match read_record::<u32>(data) {
            Some(KIND_ENTRY) => {
                let e = read_record::<ExecEntryFixed>(data).ok_or_else(|| short_record(data))?;
                let stale = self.pairs.entry(Pending {
                    tid: e.header.tid,
                    pid: e.header.pid,
                    ts_ns: e.header.ts_ns,
                    record: data.to_vec(),
                });
                if let Some(p) = stale {
                    self.emit(&p.record, None, clock, out)?;
                }
                Ok(())
            }
            Some(KIND_EXIT) => {
                let x = read_record::<ExecExit>(data).ok_or_else(|| short_record(data))?;
                // No entry: it was lost, and counted as lost by the kernel.
                match self.pairs.exit(x.header.tid, x.header.pid) {
                    Some(p) => self.emit(&p.record, Some(&x), clock, out),
                    None => Ok(()),
                }
            }
            _ => Err(std::io::Error::other(format!(
                "unknown record of {} bytes from the kernel",
                data.len()
            ))),
        }
    }

    fn tick(&mut self, clock: &Clock, out: &mut Output) -> std::io::Result<()> {
        let before = Clock::monotonic_now_ns().saturating_sub(PAIR_TIMEOUT_NS);
        let waiting = self.pairs.expired(before);
        self.emit_unpaired(waiting, clock, out)
    }

    fn finish(&mut self, clock: &Clock, out: &mut Output) -> std::io::Result<()> {
        let waiting = self.pairs.drain();
        self.emit_unpaired(waiting, clock, out)
    }
}

/// A regular expression from the command line; a bad one is one line.
fn regex(flag: &str, pattern: Option<&str>) -> anyhow::Result<Option<Regex>> {
    let Some(p) = pattern else {
        return Ok(None);
    };
    Regex::new(p).map(Some).map_err(|e| {
        // The parser's message spans lines, pointing at the error; its
        // last line says what is wrong.
        let text = e.to_string();
        let why = text.lines().last().unwrap_or("").trim();
        let why = why.strip_prefix("error: ").unwrap_or(why);
        anyhow::anyhow!("invalid {flag} regular expression {p:?}: {why}")
    })
}

fn run(args: Args) -> anyhow::Result<()> {
    let show = Show {
        failed_only: args.failed,
        quote: args.quote,
        name: regex("--name", args.name.as_deref())?,
        line: regex("--line", args.line.as_deref())?,
        max_bytes: args.max_bytes as usize,
    };
    let offsets = task_offsets().context("resolving task_struct offsets for the parent pid")?;
    let config = ExecConfig {
        max_args: args.max_args,
        max_bytes: args.max_bytes,
    };
    let spec = TraceSpec {
        object: &OBJECT,
        // -x is applied in user space: argv is copied at entry, before the
        // result is known.
        filter: args.filter.spec(false),
        output: args.output.options(),
        columns: COLUMNS,
        run: &args.run,
        globals: vec![
            (TASK_OFFSETS_GLOBAL, (&offsets).into()),
            ("EXEC_CONFIG", (&config).into()),
        ],
    };
    trace_with(
        spec,
        Execs {
            pairs: Pairs::default(),
            show,
            line: String::new(),
        },
    )
}

fn main() -> ExitCode {
    run_main("execsnoop", |a: &Args| a.run.verbose, run)
}
