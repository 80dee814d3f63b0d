//! The lifecycle of a tool that aggregates in the kernel (syscount,
//! syslat, and later runqlat, biolatency...): load and attach, then every
//! interval read the maps once and print, until Ctrl-C, SIGTERM,
//! `--duration` or `--count` intervals. Nothing is read between intervals.

use std::{io, time::Duration};

use clap::Args;
use ebpftop_common::LostReason;
use ebpftop_output::{Column, Output, OutputOptions};
use ebpftop_runtime::{
    Clock, Consumer, EventLoop, FilterSpec, LoadOptions, LostCounter, Stop, ToolObject,
};
use serde::Serialize;

use crate::args::{RunArgs, parse_seconds};

/// When to print.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Run")]
pub struct IntervalArgs {
    /// Print and reset every SECS seconds (fractions allowed), instead of
    /// once at the end.
    #[arg(short = 'i', long = "interval", value_name = "SECS", value_parser = parse_seconds)]
    pub interval: Option<Duration>,
    /// Stop after this many intervals.
    #[arg(long = "count", value_name = "N", requires = "interval",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// How to print aggregates: a table per interval, or JSON lines.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct SummaryOutputArgs {
    /// Head each interval's table with the local time, [HH:MM:SS].
    #[arg(short = 'T', long = "timestamp")]
    pub timestamp: bool,
    /// Print JSON lines instead of tables: one object per row per interval,
    /// then an "interval" object with the losses.
    #[arg(long = "json")]
    pub json: bool,
}

/// Everything [`run_intervals`] needs from a tool.
pub struct IntervalSpec<'a> {
    pub object: &'a ToolObject,
    pub filter: FilterSpec,
    /// Extra read-only globals for the tool's programs.
    pub globals: Vec<(&'static str, aya::GlobalData<'a>)>,
    pub output: &'a SummaryOutputArgs,
    /// The tool's table columns.
    pub columns: &'a [Column],
    pub run: &'a IntervalArgs,
}

/// Where and when a report is made: every JSON row carries `ts_ns` and
/// `interval` (1, 2, ...), flattened in.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Stamp {
    pub ts_ns: u64,
    pub interval: u64,
}

/// What a tool does every interval.
pub trait IntervalTool {
    /// Reads what the kernel aggregated since the last report and prints
    /// it; with `-T` the time line is already printed.
    fn report(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()>;

    /// Says that the next report is the last, which a tool may take
    /// longer over to make exact.
    fn finishing(&mut self) {}

    /// Runs the tool found its programs did not count, by other means
    /// than theirs (see `LostCounter::set_unseen`), as a total since
    /// start; read after each report.
    fn unseen(&self) -> Option<(LostReason, u64)> {
        None
    }
}

/// Loads and attaches the tool, lets `setup` take its maps, then reports
/// every interval (or once, at the end, without `-i`).
pub fn run_intervals<T: IntervalTool>(
    spec: IntervalSpec<'_>,
    setup: impl FnOnce(&mut aya::Ebpf) -> anyhow::Result<T>,
) -> anyhow::Result<()> {
    let tool = spec.object.tool;
    let filter = spec.filter.build()?;
    // Before attaching: a Ctrl-C from here on is read by the loop.
    let mut event_loop = EventLoop::new()?;
    let mut loaded = spec.object.load(LoadOptions {
        filter,
        globals: spec.globals,
        // No events go through it; the smallest ring the loader takes.
        ring_bytes: 4096,
    })?;
    let opts = OutputOptions {
        json: spec.output.json,
        ..OutputOptions::default()
    };
    let mut reporter = Reporter {
        tool: setup(&mut loaded.ebpf)?,
        out: Output::stdout(tool, opts, spec.columns),
        timestamp: spec.output.timestamp && !spec.output.json,
        lost: loaded.lost.take(),
        clock: Clock::new(),
        reports: 0,
        count: spec.run.count,
    };
    log::info!("tracing; Ctrl-C to stop");
    // Without -i the loop only waits for the end: a tick that never comes.
    let tick = spec
        .run
        .interval
        .unwrap_or(Duration::from_secs(365 * 24 * 3600));
    let stop = event_loop.run(&mut reporter, spec.run.run.duration, tick)?;
    log::debug!("stopped: {stop:?}");
    match stop {
        Stop::OutputClosed | Stop::Done => {}
        Stop::Signal(_) | Stop::Duration => {
            reporter.tool.finishing();
            match reporter.report() {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
                r => r?,
            }
        }
    }
    if let Some(lost) = &reporter.lost {
        lost.log_programs();
        let total: u64 = lost.totals()?.iter().sum();
        if total > 0 {
            eprintln!("{tool}: {total} events lost in total");
        }
    }
    drop(loaded);
    Ok(())
}

struct Reporter<T> {
    tool: T,
    out: Output,
    timestamp: bool,
    lost: Option<LostCounter>,
    clock: Clock,
    reports: u64,
    count: Option<u64>,
}

/// JSON: after each interval's rows, what could not be counted in it.
#[derive(Serialize)]
struct IntervalEnd {
    #[serde(flatten)]
    stamp: Stamp,
    /// Events the kernel could not count in this interval, and since start.
    lost: u64,
    lost_total: u64,
}

impl<T: IntervalTool> Reporter<T> {
    fn report(&mut self) -> io::Result<()> {
        self.reports += 1;
        let stamp = Stamp {
            ts_ns: self.clock.to_unix_ns(Clock::monotonic_now_ns()),
            interval: self.reports,
        };
        if self.timestamp {
            self.out.time_line(stamp.ts_ns)?;
        }
        self.tool.report(stamp, &mut self.out)?;
        let (mut new_lost, mut total_lost) = (0, 0);
        if let Some(lost) = self.lost.as_mut() {
            if let Some((reason, total)) = self.tool.unseen() {
                lost.set_unseen(reason, total);
            }
            let new = lost.take_new().map_err(io::Error::other)?;
            let totals = lost.totals().map_err(io::Error::other)?;
            total_lost = totals.iter().sum();
            for (reason, count) in new {
                new_lost += count;
                self.out.lost(
                    stamp.ts_ns,
                    count,
                    totals[reason as usize],
                    LostReason::describe(reason),
                )?;
            }
        }
        if self.out.is_json() {
            self.out.emit_value(
                "interval",
                &IntervalEnd {
                    stamp,
                    lost: new_lost,
                    lost_total: total_lost,
                },
            )?;
        }
        self.out.flush()
    }
}

impl<T: IntervalTool> Consumer for Reporter<T> {
    fn record(&mut self, _data: &[u8]) -> io::Result<()> {
        Ok(())
    }

    fn batch_done(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn tick(&mut self) -> io::Result<bool> {
        if self.count.is_some_and(|c| self.reports + 1 >= c) {
            self.tool.finishing();
        }
        self.report()?;
        Ok(self.count.is_none_or(|c| self.reports < c))
    }
}

/// What changed in a kernel map whose values only grow: the kernel's
/// counters are never reset under it (a reset would race the programs and
/// lose their updates), so each report is the difference from the last.
pub trait Cumulative: Clone {
    /// `self - earlier`, field by field.
    fn since(&self, earlier: &Self) -> Self;
    fn is_zero(&self) -> bool;
}

/// The previous snapshot of a map, by key.
#[derive(Debug)]
pub struct Deltas<K, V> {
    prev: std::collections::HashMap<K, V>,
}

impl<K, V> Default for Deltas<K, V> {
    fn default() -> Self {
        Deltas {
            prev: std::collections::HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone, V: Cumulative> Deltas<K, V> {
    /// Takes the map's current values; returns what grew since the last
    /// call, and the keys that did not grow at all (the caller may delete
    /// them from the kernel map, so that it does not fill up with the keys
    /// of processes long gone, and then [`forget`](Self::forget) them).
    pub fn update(&mut self, now: Vec<(K, V)>) -> (Vec<(K, V)>, Vec<K>) {
        let mut changed = Vec::new();
        let mut idle = Vec::new();
        let mut next = std::collections::HashMap::with_capacity(now.len());
        for (k, v) in now {
            let d = match self.prev.get(&k) {
                Some(p) => v.since(p),
                None => v.clone(),
            };
            if d.is_zero() {
                idle.push(k.clone());
            } else {
                changed.push((k.clone(), d));
            }
            next.insert(k, v);
        }
        self.prev = next;
        (changed, idle)
    }

    /// The kernel's entry for `key` was deleted: it counts from zero again.
    pub fn forget(&mut self, key: &K) {
        self.prev.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Count(u64);

    impl Cumulative for Count {
        fn since(&self, earlier: &Self) -> Self {
            Count(self.0.saturating_sub(earlier.0))
        }
        fn is_zero(&self) -> bool {
            self.0 == 0
        }
    }

    #[test]
    fn deltas_report_growth_and_idle_keys() {
        let mut d = Deltas::default();
        let (c, idle) = d.update(vec![(1, Count(5)), (2, Count(0))]);
        assert_eq!(c, vec![(1, Count(5))]);
        assert_eq!(idle, vec![2]);
        let (c, idle) = d.update(vec![(1, Count(7)), (3, Count(1))]);
        assert_eq!(c, vec![(1, Count(2)), (3, Count(1))]);
        assert!(idle.is_empty());
        // Key 1 idle: reported as such, and still remembered.
        let (c, idle) = d.update(vec![(1, Count(7)), (3, Count(4))]);
        assert_eq!(c, vec![(3, Count(3))]);
        assert_eq!(idle, vec![1]);
        let (c, _) = d.update(vec![(1, Count(9)), (3, Count(4))]);
        assert_eq!(c, vec![(1, Count(2))]);
        // Deleted in the kernel and forgotten: it counts from zero again.
        d.forget(&1);
        let (c, _) = d.update(vec![(1, Count(2))]);
        assert_eq!(c, vec![(1, Count(2))]);
    }

    #[test]
    fn interval_flags() {
        use clap::{CommandFactory, Parser};
        #[derive(Parser)]
        struct Tool {
            #[command(flatten)]
            run: IntervalArgs,
            #[command(flatten)]
            out: SummaryOutputArgs,
        }
        Tool::command().debug_assert();
        let t = Tool::try_parse_from(["t", "-i", "0.5", "--count", "3", "-T", "-d", "2"]).unwrap();
        assert_eq!(t.run.interval, Some(Duration::from_millis(500)));
        assert_eq!(t.run.count, Some(3));
        assert!(t.out.timestamp);
        assert!(Tool::try_parse_from(["t", "--count", "3"]).is_err());
        assert!(Tool::try_parse_from(["t", "-i", "1", "--count", "0"]).is_err());
    }
}
