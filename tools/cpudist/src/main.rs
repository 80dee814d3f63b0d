//! cpudist, user half: attach to sched_switch, then every interval read
//! the kernel's histograms once and print them bcc-style with percentiles.

use std::{fmt::Write as _, io, process::ExitCode};

use aya::maps::{HashMap, MapData};
use cpudist::{CONFIG_GLOBAL, HIST_MAP, KeyBy, Owner, Slices, TASK_GLOBAL, cli::Args, object};
use ebpftop_cli::{Deltas, IntervalSpec, IntervalTool, Stamp, run_intervals, run_main};
use ebpftop_common::cpudist::{CpuTimeHist, CpudistConfig, CpudistKey};
use ebpftop_output::{
    Comm, Output,
    histogram::{LatencySummary, Log2HistJson, Unit},
    loglinear::{to_log2, to_summary},
    text::{escape_terminal, until_nul},
};
use ebpftop_runtime::privileges;
use serde::Serialize;

#[derive(Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    stamp: Stamp,
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<Comm>,
    total_ns: u64,
    hist: Log2HistJson<'a>,
    latency: &'a LatencySummary,
}

struct Cpudist {
    map: HashMap<MapData, CpudistKey, CpuTimeHist>,
    deltas: Deltas<CpudistKey, Slices>,
    by: KeyBy,
    mode: &'static str,
    unit: Unit,
}

impl Cpudist {
    fn read(&self) -> io::Result<Vec<(CpudistKey, Slices)>> {
        self.map
            .iter()
            .map(|r| {
                r.map(|(k, v)| (k, Slices::from(&v)))
                    .map_err(io::Error::other)
            })
            .collect()
    }
}

impl IntervalTool for Cpudist {
    fn report(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        let (mut changed, idle) = self.deltas.update(self.read()?);
        if self.by != KeyBy::All {
            // Keys of tasks that did not run since the last report: most
            // have exited; deleted so the map does not fill with them.
            for key in idle {
                if self.map.remove(&key).is_ok() {
                    self.deltas.forget(&key);
                }
            }
        }
        changed.sort_by(|(ka, a), (kb, b)| {
            b.total_ns
                .cmp(&a.total_ns)
                .then((ka.tgid, ka.id).cmp(&(kb.tgid, kb.id)))
        });
        let label = self.unit.label();
        for (key, s) in changed {
            let owner = Owner::from_key(&key, self.by);
            let log2 = to_log2(&s.buckets);
            let summary = to_summary(&s.buckets);
            if out.is_json() {
                let (pid, tid) = match owner {
                    Owner::All => (None, None),
                    Owner::Process { pid } => (Some(pid), None),
                    Owner::Thread { pid, tid } => (Some(pid), Some(tid)),
                };
                out.emit_value(
                    "cpudist",
                    &Record {
                        stamp,
                        mode: self.mode,
                        pid,
                        tid,
                        comm: pid.map(|_| Comm(s.comm)),
                        total_ns: s.total_ns,
                        hist: log2.json(label),
                        latency: &summary,
                    },
                )?;
                continue;
            }
            let mut text = String::new();
            let comm = escape_terminal(until_nul(&s.comm));
            match owner {
                Owner::All => {}
                Owner::Process { pid } => {
                    let _ = writeln!(text, "pid = {pid} {comm}");
                }
                Owner::Thread { pid, tid } => {
                    let _ = writeln!(text, "tid = {tid} {comm} (pid {pid})");
                }
            }
            out.text(&text)?;
            out.histogram(&log2, &summary, self.unit)?;
        }
        Ok(())
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    // Reading tracefs and BTF needs root: say so first, plainly.
    privileges::check("cpudist")?;
    let by = if args.pids {
        KeyBy::Process
    } else if args.tids {
        KeyBy::Thread
    } else {
        KeyBy::All
    };
    let config = CpudistConfig {
        unit_ns: if args.milliseconds { 1_000_000 } else { 1_000 },
        key_by: by.config_value(),
        off_cpu: u32::from(args.offcpu),
    };
    let (object, offsets) = object()?;
    let spec = IntervalSpec {
        object: &object,
        filter: args.filter.spec(false),
        globals: vec![
            (CONFIG_GLOBAL, (&config).into()),
            (TASK_GLOBAL, (&offsets).into()),
        ],
        output: &args.output,
        columns: &[],
        run: &args.run,
    };
    let unit = if args.milliseconds {
        Unit::Msecs
    } else {
        Unit::Usecs
    };
    let mode = if args.offcpu { "off-cpu" } else { "on-cpu" };
    run_intervals(spec, |ebpf| {
        let map = ebpf
            .take_map(HIST_MAP)
            .ok_or_else(|| anyhow::anyhow!("the cpudist object has no {HIST_MAP} map"))?;
        Ok(Cpudist {
            map: HashMap::try_from(map)?,
            deltas: Deltas::default(),
            by,
            mode,
            unit,
        })
    })
}

fn main() -> ExitCode {
    run_main("cpudist", |a: &Args| a.run.run.verbose, run)
}
