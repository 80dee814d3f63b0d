//! biolatency, user half: attach, then every interval read the kernel's
//! histograms once and print them bcc-style with percentiles.

use std::{io, process::ExitCode};

use anyhow::Context as _;
use biolatency::{
    HistLabel, Latencies, LatencyMap, check_layout, cli::Args, config, disk_filter, object,
    read_latencies, take_latencies,
};
use ebpftop_cli::{Deltas, IntervalSpec, IntervalTool, Stamp, run_intervals, run_main};
use ebpftop_common::block::HistKey;
use ebpftop_output::{
    Output,
    histogram::{LatencySummary, Log2HistJson, Unit},
    loglinear::{to_log2, to_summary},
};
use ebpftop_runtime::{FilterSpec, privileges};
use serde::Serialize;

#[derive(Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    stamp: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    disk: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rwbs: Option<&'a str>,
    total_ns: u64,
    hist: Log2HistJson<'a>,
    latency: &'a LatencySummary,
}

struct Biolatency {
    map: LatencyMap,
    deltas: Deltas<HistKey, Latencies>,
    per_disk: bool,
    per_flags: bool,
    unit: Unit,
}

impl IntervalTool for Biolatency {
    fn report(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        let (changed, _) = self.deltas.update(read_latencies(&self.map)?);
        let mut rows: Vec<(HistLabel, Latencies)> = changed
            .into_iter()
            .map(|(k, l)| (HistLabel::of(&k, self.per_disk, self.per_flags), l))
            .collect();
        // By disk name, then busiest first: stable and easy to scan.
        rows.sort_by(|(ka, a), (kb, b)| {
            let name = |k: &HistLabel| k.disk.as_ref().map(|d| d.1.clone());
            name(ka)
                .cmp(&name(kb))
                .then(b.count.cmp(&a.count))
                .then(ka.rwbs.cmp(&kb.rwbs))
        });
        let label = self.unit.label();
        for (key, l) in rows {
            let log2 = to_log2(&l.buckets);
            let summary = to_summary(&l.buckets);
            if out.is_json() {
                out.emit_value(
                    "biolatency",
                    &Record {
                        stamp,
                        disk: key.disk.as_ref().map(|d| d.1.as_str()),
                        flags: key.flags.map(|f| f.label()),
                        rwbs: key.rwbs.as_deref(),
                        total_ns: l.total_ns,
                        hist: log2.json(label),
                        latency: &summary,
                    },
                )?;
                continue;
            }
            let mut heading = Vec::new();
            if let Some((_, name)) = &key.disk {
                heading.push(format!("disk = {name}"));
            }
            if let Some(f) = key.flags {
                heading.push(format!("flags = {}", f.label()));
            }
            if !heading.is_empty() {
                out.text(&format!("{}\n", heading.join(", ")))?;
            }
            out.histogram(&log2, &summary, self.unit)?;
        }
        Ok(())
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let disk = disk_filter(args.disk.as_deref()).map_err(anyhow::Error::msg)?;
    // Reading tracefs needs root: say so first, plainly.
    privileges::check("biolatency")?;
    check_layout(args.queued).context("checking the block tracepoints")?;
    let config = config(args.disks, args.flags, args.queued, args.milliseconds);
    let spec = IntervalSpec {
        object: object(args.queued),
        filter: FilterSpec::default(),
        globals: vec![
            (biolatency::CONFIG_GLOBAL, (&config).into()),
            (biolatency::DISK_GLOBAL, (&disk).into()),
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
    let (per_disk, per_flags) = (args.disks, args.flags);
    run_intervals(spec, |ebpf| {
        Ok(Biolatency {
            map: take_latencies(ebpf)?,
            deltas: Deltas::default(),
            per_disk,
            per_flags,
            unit,
        })
    })
}

fn main() -> ExitCode {
    run_main("biolatency", |a: &Args| a.run.run.verbose, run)
}
