//! syslat, user half: attach, then every interval read the kernel's
//! histograms once and print them bcc-style with percentiles.

use std::{fmt::Write as _, io, process::ExitCode};

use aya::maps::{HashMap, MapData};
use ebpftop_cli::{Deltas, IntervalSpec, IntervalTool, Stamp, run_intervals, run_main, syscalls};
use ebpftop_common::syslat::{SyscallLatency, SyslatConfig, SyslatKey};
use ebpftop_output::{
    Comm, Output,
    histogram::Unit,
    loglinear::{to_log2, to_summary},
    syscalls::syscall_name,
    text::{escape_terminal, until_nul},
};
use ebpftop_runtime::SYSCALL_REGS_GLOBAL;
use syslat::{
    cli::Args,
    latency::{Latencies, selection},
    object::{SyslatRecord, kernel_half, read_latencies},
};

struct Syslat {
    map: HashMap<MapData, SyslatKey, SyscallLatency>,
    deltas: Deltas<SyslatKey, Latencies>,
    process: bool,
    unit: Unit,
}

impl Syslat {
    fn read(&self) -> io::Result<Vec<(SyslatKey, Latencies)>> {
        read_latencies(&self.map)
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
                    &SyslatRecord {
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
            out.histogram(&log2, &summary, self.unit)?;
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
    let (object, regs) = kernel_half();
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
