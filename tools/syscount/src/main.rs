//! syscount, user half: attach, then every interval read the kernel's
//! per-CPU counts once and print the top rows.

use std::{io, process::ExitCode};

use aya::maps::{MapData, PerCpuArray, PerCpuHashMap};
use ebpftop_cli::{Deltas, IntervalSpec, IntervalTool, Stamp, run_intervals, run_main, syscalls};
use ebpftop_common::{
    syscall_latency::SyscallRegs,
    syscount::{SyscallCount, SyscountConfig},
};
use ebpftop_output::{Column, Comm, Output, syscalls::syscall_name};
use ebpftop_runtime::{
    AttachPoint, Candidate, Hook, SYSCALL_REGS_GLOBAL, ToolObject, embedded_object, syscall_regs,
};
use serde::Serialize;
use syscount::{
    cli::Args,
    rows::{Totals, ranked},
};

/// Raw tracepoints first: the kernel builds no trace record for them, which
/// is most of the cost per call. The classic ones are the fallback.
const RAW_EXIT: Candidate = Candidate {
    program: "syscount_exit_raw",
    at: AttachPoint::RawTracepoint { name: "sys_exit" },
};
const TP_EXIT: Candidate = Candidate {
    program: "syscount_exit",
    at: AttachPoint::Tracepoint {
        category: "raw_syscalls",
        name: "sys_exit",
    },
};
const EXIT: Hook = Hook {
    name: "syscall exit",
    candidates: &[RAW_EXIT, TP_EXIT],
    required: true,
    shared: false,
};
/// For a kernel whose `pt_regs` could not be resolved: the raw exit could
/// not find the syscall number.
const EXIT_CLASSIC: Hook = Hook {
    name: "syscall exit",
    candidates: &[TP_EXIT],
    required: true,
    shared: false,
};
const ENTER: Hook = Hook {
    name: "syscall entry",
    candidates: &[
        Candidate {
            program: "syscount_enter_raw",
            at: AttachPoint::RawTracepoint { name: "sys_enter" },
        },
        Candidate {
            program: "syscount_enter",
            at: AttachPoint::Tracepoint {
                category: "raw_syscalls",
                name: "sys_enter",
            },
        },
    ],
    required: true,
    shared: false,
};

/// Counting needs only the exit (its number and `ret`); timing, the entry
/// too.
fn object(latency: bool, raw_exit: bool) -> ToolObject {
    ToolObject {
        tool: "syscount",
        bytes: embedded_object!("syscount"),
        hooks: match (latency, raw_exit) {
            (false, true) => &[EXIT],
            (false, false) => &[EXIT_CLASSIC],
            (true, true) => &[ENTER, EXIT],
            (true, false) => &[ENTER, EXIT_CLASSIC],
        },
    }
}

#[derive(Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    stamp: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    syscall: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nr: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<Comm>,
    count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    timed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_ns: Option<u64>,
    /// Null with -L when no call of the row was timed.
    #[serde(skip_serializing_if = "Option::is_none")]
    avg_ns: Option<Option<u64>>,
}

struct Syscount {
    /// By pid with -P; otherwise syscall numbers beyond `by_nr`.
    counts: PerCpuHashMap<MapData, u32, SyscallCount>,
    /// By syscall number, without -P.
    by_nr: Option<PerCpuArray<MapData, SyscallCount>>,
    deltas: Deltas<u32, Totals>,
    args: Args,
}

impl Syscount {
    /// Every key's totals since load, read once.
    fn read(&self) -> io::Result<Vec<(u32, Totals)>> {
        let mut all: Vec<(u32, Totals)> = self
            .counts
            .iter()
            .map(|r| {
                r.map(|(k, per_cpu)| (k, Totals::sum(per_cpu.iter())))
                    .map_err(io::Error::other)
            })
            .collect::<io::Result<_>>()?;
        if let Some(by_nr) = &self.by_nr {
            for (nr, r) in (0u32..).zip(by_nr.iter()) {
                let t = Totals::sum(r.map_err(io::Error::other)?.iter());
                // Slots of syscalls never made are not rows.
                if t.count != 0 {
                    all.push((nr, t));
                }
            }
        }
        Ok(all)
    }
}

impl IntervalTool for Syscount {
    fn report(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        let (changed, idle) = self.deltas.update(self.read()?);
        // Processes that made no call for a whole interval are dropped from
        // the kernel map, which would otherwise fill with dead pids.
        if self.args.process {
            for pid in idle {
                if self.counts.remove(&pid).is_ok() {
                    self.deltas.forget(&pid);
                }
            }
        }
        let a = &self.args;
        let rows = ranked(changed, a.latency, a.top as usize);
        let per_unit = if a.milliseconds { 1e6 } else { 1e3 };
        if !out.is_json() {
            out.header()?;
        }
        for (key, t) in rows {
            if out.is_json() {
                let name = syscall_name(u64::from(key));
                out.emit_value(
                    "syscount",
                    &Row {
                        stamp,
                        syscall: (!a.process).then_some(&*name),
                        nr: (!a.process).then_some(key),
                        pid: a.process.then_some(key),
                        comm: a.process.then_some(Comm(t.comm)),
                        count: t.count,
                        timed: a.latency.then_some(t.timed),
                        total_ns: a.latency.then_some(t.total_ns),
                        avg_ns: a.latency.then_some(t.avg_ns()),
                    },
                )?;
                continue;
            }
            out.row(|row| {
                if a.process {
                    row.cell(key)
                        .bytes(ebpftop_output::text::until_nul(&t.comm));
                } else {
                    row.cell(syscall_name(u64::from(key)));
                }
                row.cell(t.count);
                if a.latency {
                    row.cell(format_args!("{:.3}", t.total_ns as f64 / per_unit));
                    match t.avg_ns() {
                        Some(ns) => row.cell(format_args!("{:.3}", ns as f64 / per_unit)),
                        None => row.cell("-"),
                    };
                }
            })?;
        }
        if !out.is_json() {
            out.text("\n")?;
        }
        Ok(())
    }
}

fn columns(a: &Args) -> Vec<Column> {
    let mut cols = if a.process {
        vec![Column::left("PID", 7), Column::left("COMM", 15)]
    } else {
        vec![Column::left("SYSCALL", 22)]
    };
    cols.push(Column::right("COUNT", 9));
    if a.latency {
        let (total, avg) = if a.milliseconds {
            ("TIME (ms)", "AVG (ms)")
        } else {
            ("TIME (us)", "AVG (us)")
        };
        cols.push(Column::right(total, 16));
        cols.push(Column::right(avg, 12));
    }
    cols
}

fn run(args: Args) -> anyhow::Result<()> {
    if args.list {
        print!("{}", syscalls::list());
        return Ok(());
    }
    let config = SyscountConfig {
        errno: args.errno.unwrap_or(0),
        per_process: u32::from(args.process),
        latency: u32::from(args.latency),
        _pad: 0,
    };
    let no_return = syscalls::no_return();
    // The raw exit tracepoint reads the syscall number from pt_regs, at an
    // offset only the kernel's BTF gives; without it, classic tracepoints.
    let regs = syscall_regs()
        .inspect_err(|e| log::info!("raw sys_exit tracepoint not used: {e}"))
        .ok();
    let object = object(args.latency, regs.is_some());
    let regs = regs.unwrap_or(SyscallRegs::UNSET);
    let columns = columns(&args);
    let spec = IntervalSpec {
        object: &object,
        // -e implies failed calls; the kernel checks the errno itself.
        filter: args.filter.spec(args.failures || args.errno.is_some()),
        globals: vec![
            ("SYSCOUNT", (&config).into()),
            ("NO_RETURN", (&no_return).into()),
            (SYSCALL_REGS_GLOBAL, (&regs).into()),
        ],
        output: &args.output,
        columns: &columns,
        run: &args.run,
    };
    let args_for_report = args.clone();
    run_intervals(spec, |ebpf| {
        let map = ebpf
            .take_map("COUNTS")
            .ok_or_else(|| anyhow::anyhow!("the syscount object has no COUNTS map"))?;
        let by_nr = match args_for_report.process {
            true => None,
            false => {
                let map = ebpf
                    .take_map("BY_NR")
                    .ok_or_else(|| anyhow::anyhow!("the syscount object has no BY_NR map"))?;
                Some(PerCpuArray::try_from(map)?)
            }
        };
        Ok(Syscount {
            counts: PerCpuHashMap::try_from(map)?,
            by_nr,
            deltas: Deltas::default(),
            args: args_for_report,
        })
    })
}

fn main() -> ExitCode {
    run_main("syscount", |a: &Args| a.run.run.verbose, run)
}
