//! syslat, user half: attach, then every interval read the kernel's
//! histograms once and print them bcc-style with percentiles.

use std::{fmt::Write as _, io, process::ExitCode};

use aya::maps::{HashMap, MapData};
use ebpftop_cli::{Deltas, IntervalSpec, IntervalTool, Stamp, run_intervals, run_main, syscalls};
use ebpftop_common::syscall_latency::SyscallRegs;
use ebpftop_common::syslat::{SyscallLatency, SyslatConfig, SyslatKey};
use ebpftop_output::{
    Comm, Output,
    histogram::{LatencySummary, Log2HistJson, Unit},
    loglinear::{to_log2, to_summary},
    syscalls::syscall_name,
    text::{escape_terminal, until_nul},
};
use ebpftop_runtime::{
    AttachPoint, Candidate, Hook, SYSCALL_REGS_GLOBAL, ToolObject, embedded_object, syscall_regs,
};
use serde::Serialize;
use syslat::{
    cli::Args,
    latency::{Latencies, selection},
};

/// Raw tracepoints first: the kernel builds no trace record for them, which
/// is most of the cost per call. The classic ones are the fallback.
const ENTER: Hook = Hook {
    name: "syscall entry",
    candidates: &[
        Candidate {
            program: "syslat_enter_raw",
            at: AttachPoint::RawTracepoint { name: "sys_enter" },
        },
        Candidate {
            program: "syslat_enter",
            at: AttachPoint::Tracepoint {
                category: "raw_syscalls",
                name: "sys_enter",
            },
        },
    ],
    required: true,
};
const TP_EXIT: Candidate = Candidate {
    program: "syslat_exit",
    at: AttachPoint::Tracepoint {
        category: "raw_syscalls",
        name: "sys_exit",
    },
};
const EXIT: Hook = Hook {
    name: "syscall exit",
    candidates: &[
        Candidate {
            program: "syslat_exit_raw",
            at: AttachPoint::RawTracepoint { name: "sys_exit" },
        },
        TP_EXIT,
    ],
    required: true,
};
/// Without `pt_regs` offsets from BTF the raw exit cannot find the number.
const EXIT_CLASSIC: Hook = Hook {
    name: "syscall exit",
    candidates: &[TP_EXIT],
    required: true,
};

fn object(raw_exit: bool) -> ToolObject {
    ToolObject {
        tool: "syslat",
        bytes: embedded_object!("syslat"),
        hooks: if raw_exit {
            &[ENTER, EXIT]
        } else {
            &[ENTER, EXIT_CLASSIC]
        },
    }
}

#[derive(Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    stamp: Stamp,
    syscall: &'a str,
    nr: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<Comm>,
    total_ns: u64,
    hist: Log2HistJson<'a>,
    latency: &'a LatencySummary,
}

struct Syslat {
    map: HashMap<MapData, SyslatKey, SyscallLatency>,
    deltas: Deltas<SyslatKey, Latencies>,
    process: bool,
    unit: Unit,
}

impl Syslat {
    fn read(&self) -> io::Result<Vec<(SyslatKey, Latencies)>> {
        self.map
            .iter()
            .map(|r| {
                r.map(|(k, v)| (k, Latencies::from(&v)))
                    .map_err(io::Error::other)
            })
            .collect()
    }
}

impl IntervalTool for Syslat {
    fn report(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        let (mut changed, idle) = self.deltas.update(self.read()?);
        if self.process {
            for key in idle {
                if self.map.remove(&key).is_ok() {
                    self.deltas.forget(&key);
                }
            }
        }
        // Busiest first; ties by key, so output is stable.
        changed.sort_by(|(ka, a), (kb, b)| {
            b.count
                .cmp(&a.count)
                .then((ka.pid, ka.nr).cmp(&(kb.pid, kb.nr)))
        });
        let label = self.unit.label();
        for (key, l) in changed {
            let name = syscall_name(u64::from(key.nr));
            let log2 = to_log2(&l.buckets);
            let summary = to_summary(&l.buckets);
            if out.is_json() {
                out.emit_value(
                    "syslat",
                    &Record {
                        stamp,
                        syscall: &name,
                        nr: key.nr,
                        pid: self.process.then_some(key.pid),
                        comm: self.process.then_some(Comm(l.comm)),
                        total_ns: l.total_ns,
                        hist: log2.json(label),
                        latency: &summary,
                    },
                )?;
                continue;
            }
            let mut text = String::new();
            if self.process {
                let comm = escape_terminal(until_nul(&l.comm));
                let _ = writeln!(text, "pid = {} {comm}, syscall = {name}", key.pid);
            } else {
                let _ = writeln!(text, "syscall = {name}");
            }
            out.text(&text)?;
            let mut hist = Vec::new();
            log2.print(&mut hist, label)?;
            out.text(&String::from_utf8_lossy(&hist))?;
            out.text(&format!("{}\n\n", summary.line(self.unit)))?;
        }
        Ok(())
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let mut config = SyslatConfig {
        unit_ns: if args.milliseconds { 1_000_000 } else { 1_000 },
        per_process: u32::from(args.process),
        ..SyslatConfig::DEFAULT
    };
    if let Some(nrs) = &args.syscalls {
        config.select = 1;
        config.selected = selection(&nrs.0).map_err(anyhow::Error::msg)?;
    }
    let no_return = syscalls::no_return();
    // The raw exit tracepoint reads the syscall number from pt_regs, at an
    // offset only the kernel's BTF gives; without it, classic tracepoints.
    let regs = syscall_regs()
        .inspect_err(|e| log::info!("raw sys_exit tracepoint not used: {e}"))
        .ok();
    let object = object(regs.is_some());
    let regs = regs.unwrap_or(SyscallRegs::UNSET);
    let spec = IntervalSpec {
        object: &object,
        filter: args.filter.spec(false),
        globals: vec![
            ("SYSLAT", (&config).into()),
            ("NO_RETURN", (&no_return).into()),
            (SYSCALL_REGS_GLOBAL, (&regs).into()),
        ],
        output: &args.output,
        columns: &[],
        run: &args.run,
    };
    let (process, unit) = (
        args.process,
        if args.milliseconds {
            Unit::Msecs
        } else {
            Unit::Usecs
        },
    );
    run_intervals(spec, |ebpf| {
        let map = ebpf
            .take_map("LATENCIES")
            .ok_or_else(|| anyhow::anyhow!("the syslat object has no LATENCIES map"))?;
        Ok(Syslat {
            map: HashMap::try_from(map)?,
            deltas: Deltas::default(),
            process,
            unit,
        })
    })
}

fn main() -> ExitCode {
    run_main("syslat", |a: &Args| a.run.run.verbose, run)
}
