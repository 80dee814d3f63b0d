//! runqlat, user half: attach, then every interval read the kernel's
//! histograms once and print them bcc-style with percentiles, or with
//! `--preemptors` who held the CPU while each group waited.

use std::{fmt::Write as _, io, process::ExitCode};

use ebpftop_cli::{Deltas, IntervalSpec, IntervalTool, Stamp, run_intervals, run_main};
use ebpftop_common::runqlat::{RunqKey, RunqlatConfig, StolenKey};
use ebpftop_output::{
    Comm, Output,
    histogram::{LatencySummary, Log2HistJson, Unit},
    loglinear::to_log2,
    text::{escape_terminal, until_nul},
};
use runqlat::{
    cli::Args,
    object::{
        CONFIG_GLOBAL, CgroupNames, Latencies, Nanos, RunqlatMaps, WaitTotalDelta, kernel_half,
        needs_task, proc_comm,
    },
    preemptors::{Victim, rank},
};
use serde::Serialize;

#[derive(Serialize)]
struct HistRecord<'a> {
    #[serde(flatten)]
    stamp: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comm: Option<Comm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cgroup_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cgroup: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pidns: Option<u64>,
    total_ns: u64,
    hist: Log2HistJson<'a>,
    latency: &'a LatencySummary,
}

#[derive(Serialize)]
struct PreemptorJson {
    id: u64,
    name: Option<String>,
    stolen_ns: u64,
    share: f64,
}

#[derive(Serialize)]
struct VictimRecord {
    #[serde(flatten)]
    stamp: Stamp,
    by: &'static str,
    id: u64,
    name: Option<String>,
    wait_ns: u64,
    count: u64,
    unattributed_ns: u64,
    preemptors: Vec<PreemptorJson>,
}

struct Runqlat {
    maps: RunqlatMaps,
    key: u32,
    /// `--preemptors` group (`RunqlatConfig::GROUP_*`).
    group: u32,
    top: usize,
    unit: Unit,
    system: Deltas<(), Latencies>,
    keyed: Deltas<RunqKey, Latencies>,
    waits: Deltas<u64, WaitTotalDelta>,
    stolen: Deltas<StolenKey, Nanos>,
    names: CgroupNames,
}

impl Runqlat {
    fn group_name(&mut self, id: u64) -> Option<String> {
        if self.group == RunqlatConfig::GROUP_PID {
            proc_comm(id as u32)
        } else {
            self.names.path(id)
        }
    }

    fn report_preemptors(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        let (waits, _) = self.waits.update(self.maps.waits()?);
        let (stolen, _) = self.stolen.update(self.maps.stolen()?);
        let waits: Vec<_> = waits.into_iter().map(|(k, w)| (k, w.0)).collect();
        let stolen: Vec<_> = stolen.into_iter().map(|(k, n)| (k, n.0)).collect();
        let by = if self.group == RunqlatConfig::GROUP_PID {
            "pid"
        } else {
            "cgroup"
        };
        for v in rank(&waits, &stolen, self.top) {
            if out.is_json() {
                let r = self.victim_record(stamp, by, &v);
                out.emit_value("preemptors", &r)?;
            } else {
                let text = self.victim_text(by, &v);
                out.text(&text)?;
            }
        }
        Ok(())
    }

    fn victim_record(&mut self, stamp: Stamp, by: &'static str, v: &Victim) -> VictimRecord {
        VictimRecord {
            stamp,
            by,
            id: v.id,
            name: self.group_name(v.id),
            wait_ns: v.wait_ns,
            count: v.count,
            unattributed_ns: v.unattributed_ns,
            preemptors: v
                .preemptors
                .iter()
                .map(|p| PreemptorJson {
                    id: p.id,
                    name: self.group_name(p.id),
                    stolen_ns: p.stolen_ns,
                    share: p.share,
                })
                .collect(),
        }
    }

    fn victim_text(&mut self, by: &str, v: &Victim) -> String {
        let ms = |ns: u64| ns as f64 / 1e6;
        let label = |me: &mut Self, id: u64| match me.group_name(id) {
            Some(n) if by == "pid" => format!("{id} {}", escape_terminal(n.as_bytes())),
            Some(n) => escape_terminal(n.as_bytes()).into_owned(),
            None => format!("{by} {id}"),
        };
        let mut t = String::new();
        let name = label(self, v.id);
        let _ = writeln!(
            t,
            "{by} = {name}: waited {:.3} ms in {} waits (avg {:.3} ms)",
            ms(v.wait_ns),
            v.count,
            ms(v.wait_ns) / v.count.max(1) as f64
        );
        let _ = writeln!(
            t,
            "    {:<40} {:>12} {:>7}",
            "PREEMPTOR", "STOLEN(ms)", "SHARE"
        );
        for p in &v.preemptors {
            let n = label(self, p.id);
            let _ = writeln!(
                t,
                "    {n:<40} {:>12.3} {:>6.1}%",
                ms(p.stolen_ns),
                p.share * 100.0
            );
        }
        let un = v.unattributed_ns;
        let share = if v.wait_ns == 0 {
            0.0
        } else {
            un as f64 * 100.0 / v.wait_ns as f64
        };
        let _ = writeln!(
            t,
            "    {:<40} {:>12.3} {share:>6.1}%\n",
            "(unattributed)",
            ms(un)
        );
        t
    }

    fn report_histograms(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        if self.key == RunqlatConfig::KEY_NONE {
            let (changed, _) = self.system.update(vec![((), self.maps.system()?)]);
            let l = match changed.into_iter().next() {
                Some((_, l)) => l,
                None => Latencies::from(&ebpftop_common::runqlat::RunqLatency::ZERO),
            };
            return self.print_one(stamp, out, None, &l);
        }
        let (mut changed, idle) = self.keyed.update(self.maps.keyed()?);
        if matches!(self.key, RunqlatConfig::KEY_PID | RunqlatConfig::KEY_TID) {
            for key in idle {
                if self.maps.remove_keyed(&key) {
                    self.keyed.forget(&key);
                }
            }
        }
        changed.sort_by(|(ka, a), (kb, b)| b.count.cmp(&a.count).then(ka.id.cmp(&kb.id)));
        for (key, l) in changed {
            self.print_one(stamp, out, Some(key), &l)?;
        }
        Ok(())
    }

    fn print_one(
        &mut self,
        stamp: Stamp,
        out: &mut Output,
        key: Option<RunqKey>,
        l: &Latencies,
    ) -> io::Result<()> {
        let log2 = to_log2(&l.buckets);
        let summary = l.summary();
        let label = self.unit.label();
        let id = key.map(|k| k.id);
        let by_task = matches!(self.key, RunqlatConfig::KEY_PID | RunqlatConfig::KEY_TID);
        let mut comm = l.comm;
        if by_task && comm[0] == 0 {
            // Classic tracepoints do not give the name: /proc may.
            if let Some(n) = id.and_then(|id| proc_comm(id as u32)) {
                let b = n.as_bytes();
                let len = b.len().min(comm.len() - 1);
                comm[..len].copy_from_slice(&b[..len]);
            }
        }
        let cgroup =
            (self.key == RunqlatConfig::KEY_CGROUP).then(|| id.and_then(|id| self.names.path(id)));
        if out.is_json() {
            let pick = |k: u32| id.filter(|_| self.key == k);
            return out.emit_value(
                "runqlat",
                &HistRecord {
                    stamp,
                    pid: pick(RunqlatConfig::KEY_PID),
                    tid: pick(RunqlatConfig::KEY_TID),
                    comm: by_task.then_some(Comm(comm)),
                    cgroup_id: pick(RunqlatConfig::KEY_CGROUP),
                    cgroup,
                    pidns: pick(RunqlatConfig::KEY_PIDNS),
                    total_ns: l.total_ns,
                    hist: log2.json(label),
                    latency: &summary,
                },
            );
        }
        let mut text = String::new();
        if let Some(id) = id {
            let name = escape_terminal(until_nul(&comm));
            let _ = match self.key {
                RunqlatConfig::KEY_PID => writeln!(text, "pid = {id} {name}"),
                RunqlatConfig::KEY_TID => writeln!(text, "tid = {id} {name}"),
                RunqlatConfig::KEY_CGROUP => match &cgroup {
                    Some(Some(path)) => writeln!(
                        text,
                        "cgroup = {} (id {id})",
                        escape_terminal(path.as_bytes())
                    ),
                    _ => writeln!(text, "cgroup = id {id}"),
                },
                _ => writeln!(text, "pidns = {id}"),
            };
        }
        out.text(&text)?;
        out.histogram(&log2, &summary, self.unit)
    }
}

impl IntervalTool for Runqlat {
    fn report(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        if self.group != RunqlatConfig::GROUP_OFF {
            self.report_preemptors(stamp, out)
        } else {
            self.report_histograms(stamp, out)
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let key = if args.preemptors {
        RunqlatConfig::KEY_NONE
    } else if args.pids {
        RunqlatConfig::KEY_PID
    } else if args.tids {
        RunqlatConfig::KEY_TID
    } else if args.cgroups {
        RunqlatConfig::KEY_CGROUP
    } else if args.pidnss {
        RunqlatConfig::KEY_PIDNS
    } else {
        RunqlatConfig::KEY_NONE
    };
    let group = match (args.preemptors, args.pids) {
        (false, _) => RunqlatConfig::GROUP_OFF,
        (true, true) => RunqlatConfig::GROUP_PID,
        (true, false) => RunqlatConfig::GROUP_CGROUP,
    };
    let config = RunqlatConfig {
        unit_ns: if args.milliseconds { 1_000_000 } else { 1_000 },
        key,
        preemptors: group,
    };
    let filter = args.filter();
    let filtered = filter.pid.is_some() || filter.cgroup.is_some();
    ebpftop_runtime::privileges::check("runqlat")?;
    let (object, globals) = kernel_half(config, needs_task(&config, filtered))?;
    let run = args.intervals();
    let spec = IntervalSpec {
        object: &object,
        filter,
        globals: globals.to_globals(CONFIG_GLOBAL),
        output: &args.output,
        columns: &[],
        run: &run,
    };
    let unit = if args.milliseconds {
        Unit::Msecs
    } else {
        Unit::Usecs
    };
    let top = args.top;
    run_intervals(spec, |ebpf| {
        Ok(Runqlat {
            maps: RunqlatMaps::take(ebpf)?,
            key,
            group,
            top,
            unit,
            system: Deltas::default(),
            keyed: Deltas::default(),
            waits: Deltas::default(),
            stolen: Deltas::default(),
            names: CgroupNames::new(),
        })
    })
}

fn main() -> ExitCode {
    run_main("runqlat", |a: &Args| a.run.run.verbose, run)
}
