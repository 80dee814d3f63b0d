//! What hardirqs and softirqs share: their flags, the per-CPU sums the
//! kernel keeps turned into one total per IRQ (or vector), and the report
//! every interval: a table sorted by time, bcc's log2 histograms, or JSON.

pub mod unseen;

use std::{fmt::Write as _, io};

use clap::Args;
use ebpftop_cli::{Cumulative, Deltas, IntervalTool, Stamp};
use ebpftop_common::{
    LostReason,
    irqtime::{IrqConfig, IrqTime, SLOTS},
};
use ebpftop_output::{
    Output,
    histogram::{Log2Hist, Log2HistJson, Unit},
    text::escape_terminal,
};
use serde::Serialize;
use unseen::Unseen;

/// The flags of hardirqs and softirqs. `-d` is `--duration` in every
/// ebpftop tool, so bcc's `-d` (distribution) is `--dist` here; `--count`
/// is the number of intervals, so bcc's `-C`/`--count` is `-C`/`--counts`.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Report")]
pub struct IrqTimeArgs {
    /// Show a log2 histogram of handler times per IRQ (bcc's -d; -d is
    /// --duration here).
    #[arg(long = "dist")]
    pub dist: bool,
    /// Show how many times each handler ran instead of its time (bcc's
    /// -C/--count; --count is the number of intervals here).
    #[arg(short = 'C', long = "counts", conflicts_with = "dist")]
    pub counts: bool,
    /// Times in nanoseconds instead of microseconds.
    #[arg(short = 'N', long = "nanoseconds")]
    pub nanoseconds: bool,
}

impl IrqTimeArgs {
    /// The programs' read-only global.
    pub fn config(&self) -> IrqConfig {
        IrqConfig {
            unit_ns: if self.nanoseconds { 1 } else { 1000 },
            dist: u32::from(self.dist),
            _pad: 0,
        }
    }

    pub fn unit(&self) -> Unit {
        if self.nanoseconds {
            Unit::Nsecs
        } else {
            Unit::Usecs
        }
    }
}

/// The global the programs read [`IrqConfig`] from.
pub const CONFIG_GLOBAL: &str = "IRQ_CONFIG";

/// One IRQ handler (by number and name) or softirq vector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IrqId {
    /// The IRQ number, or the softirq vector.
    pub number: u32,
    pub name: String,
}

/// What one IRQ or vector cost, summed over CPUs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IrqTotals {
    pub count: u64,
    pub total_ns: u64,
    /// Handler times by log2 slot, in the configured unit (`--dist`).
    pub slots: [u64; SLOTS],
}

impl IrqTotals {
    /// The sum of each CPU's value.
    pub fn sum<'a>(per_cpu: impl IntoIterator<Item = &'a IrqTime>) -> IrqTotals {
        let mut t = IrqTotals {
            count: 0,
            total_ns: 0,
            slots: [0; SLOTS],
        };
        for v in per_cpu {
            t.count = t.count.saturating_add(v.count);
            t.total_ns = t.total_ns.saturating_add(v.total_ns);
            for (s, c) in t.slots.iter_mut().zip(&v.slots) {
                *s = s.saturating_add(*c);
            }
        }
        t
    }

    pub fn hist(&self) -> Log2Hist {
        Log2Hist::from_buckets(&self.slots)
    }
}

impl Cumulative for IrqTotals {
    fn since(&self, e: &Self) -> Self {
        let mut slots = [0; SLOTS];
        for (i, s) in slots.iter_mut().enumerate() {
            *s = self.slots[i].saturating_sub(e.slots[i]);
        }
        IrqTotals {
            count: self.count.saturating_sub(e.count),
            total_ns: self.total_ns.saturating_sub(e.total_ns),
            slots,
        }
    }

    fn is_zero(&self) -> bool {
        self.count == 0
    }
}

/// Hard IRQs or softirqs: the words each prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqKind {
    Hard,
    Soft,
}

impl IrqKind {
    /// The JSON `event`.
    pub fn event(self) -> &'static str {
        match self {
            IrqKind::Hard => "hardirqs",
            IrqKind::Soft => "softirqs",
        }
    }

    fn column(self) -> (&'static str, usize) {
        match self {
            IrqKind::Hard => ("HARDIRQ", 26),
            IrqKind::Soft => ("SOFTIRQ", 16),
        }
    }

    fn section(self) -> &'static str {
        match self {
            IrqKind::Hard => "hardirq",
            IrqKind::Soft => "softirq",
        }
    }
}

#[derive(Serialize)]
struct Record<'a> {
    #[serde(flatten)]
    stamp: Stamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    irq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vec: Option<u32>,
    name: &'a str,
    count: u64,
    total_ns: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    hist: Option<Log2HistJson<'a>>,
}

/// Rows with what grew since the last report, busiest first.
pub fn busiest(mut rows: Vec<(IrqId, IrqTotals)>, by_count: bool) -> Vec<(IrqId, IrqTotals)> {
    rows.sort_by(|(ia, a), (ib, b)| {
        let (x, y) = if by_count {
            (a.count, b.count)
        } else {
            (a.total_ns, b.total_ns)
        };
        y.cmp(&x).then(ia.cmp(ib))
    });
    rows
}

/// The interval report of either tool; `read` returns every IRQ's
/// (vector's) totals since the programs were attached.
pub struct IrqReporter<R> {
    pub read: R,
    pub kind: IrqKind,
    pub args: IrqTimeArgs,
    deltas: Deltas<IrqId, IrqTotals>,
    unseen: Option<Unseen>,
    /// The next report is the last.
    last: bool,
}

impl<R> IrqReporter<R> {
    pub fn new(read: R, kind: IrqKind, args: IrqTimeArgs) -> Self {
        IrqReporter {
            read,
            kind,
            args,
            deltas: Deltas::default(),
            unseen: None,
            last: false,
        }
    }

    /// Also counts as lost the runs the kernel counted and the programs
    /// did not (see [`unseen`]), from now on: call it once they are
    /// attached. Without the kernel's counts (a /proc without them) the
    /// tool runs on without the check and says so under `--verbose`.
    pub fn check_unseen(mut self) -> Self {
        match self.kind.kernel_counts() {
            Ok(base) => self.unseen = Some(Unseen::start(base)),
            Err(e) => log::info!("runs the programs miss are not looked for: {e}"),
        }
        self
    }
}

impl<R: FnMut() -> io::Result<Vec<(IrqId, IrqTotals)>>> IntervalTool for IrqReporter<R> {
    fn report(&mut self, stamp: Stamp, out: &mut Output) -> io::Result<()> {
        let kernel = match self.unseen {
            Some(_) => self
                .kind
                .kernel_counts()
                .inspect_err(|e| log::info!("runs the programs miss not looked for now: {e}"))
                .ok(),
            None => None,
        };
        let mut all = (self.read)()?;
        if let (Some(u), Some(now)) = (self.unseen.as_mut(), kernel) {
            let previous = u.advance(now.clone());
            if self.last {
                // Nothing comes after: compare with the counts just read,
                // giving runs still in flight time to end if need be.
                if u.short_total(&now, &all) > u.total() {
                    std::thread::sleep(unseen::SETTLE);
                    all = (self.read)()?;
                }
                u.update(&now, &all);
            } else {
                // Runs counted by the kernel at the last report have ended
                // by now: no wait.
                u.update(&previous, &all);
            }
        }
        let (changed, _) = self.deltas.update(all);
        let rows = busiest(changed, self.args.counts);
        let unit = self.args.unit();
        if out.is_json() {
            for (id, t) in &rows {
                let hist = t.hist();
                let (irq, vec) = match self.kind {
                    IrqKind::Hard => (Some(id.number), None),
                    IrqKind::Soft => (None, Some(id.number)),
                };
                out.emit_value(
                    self.kind.event(),
                    &Record {
                        stamp,
                        irq,
                        vec,
                        name: &id.name,
                        count: t.count,
                        total_ns: t.total_ns,
                        hist: self.args.dist.then(|| hist.json(unit.label())),
                    },
                )?;
            }
            return Ok(());
        }
        out.text(&self.text(&rows))
    }

    fn finishing(&mut self) {
        self.last = true;
    }

    fn unseen(&self) -> Option<(LostReason, u64)> {
        self.unseen
            .as_ref()
            .map(|u| (LostReason::NotRun, u.total()))
    }
}

impl<R> IrqReporter<R> {
    /// bcc's table (`HARDIRQ  TOTAL_usecs`) or, with `--dist`, one
    /// `hardirq = NAME` histogram per IRQ.
    pub fn text(&self, rows: &[(IrqId, IrqTotals)]) -> String {
        let unit = self.args.unit();
        let (head, width) = self.kind.column();
        let mut s = String::new();
        if self.args.dist {
            for (id, t) in rows {
                let _ = writeln!(
                    s,
                    "{} = {}",
                    self.kind.section(),
                    escape_terminal(id.name.as_bytes())
                );
                let mut hist = Vec::new();
                let _ = t.hist().print(&mut hist, unit.label());
                s.push_str(&String::from_utf8_lossy(&hist));
                s.push('\n');
            }
            return s;
        }
        let total = if self.args.counts {
            "TOTAL_count".to_string()
        } else {
            format!("TOTAL_{}", unit.label())
        };
        let _ = writeln!(s, "{head:<width$} {total:>11}");
        for (id, t) in rows {
            let v = if self.args.counts {
                t.count
            } else if self.args.nanoseconds {
                t.total_ns
            } else {
                t.total_ns / 1000
            };
            let _ = writeln!(s, "{:<width$} {v:>11}", escape_terminal(id.name.as_bytes()));
        }
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(count: u64, total_ns: u64, slot: usize) -> IrqTime {
        let mut v = IrqTime::ZERO;
        v.count = count;
        v.total_ns = total_ns;
        v.slots[slot] = count;
        v
    }

    #[test]
    fn sums_cpus_and_takes_growth() {
        let t = IrqTotals::sum(&[time(2, 3000, 1), time(1, 5000, 2)]);
        assert_eq!(
            (t.count, t.total_ns, t.slots[1], t.slots[2]),
            (3, 8000, 2, 1)
        );
        let later = IrqTotals::sum(&[time(4, 9000, 1), time(1, 5000, 2)]);
        let d = later.since(&t);
        assert_eq!(
            (d.count, d.total_ns, d.slots[1], d.slots[2]),
            (2, 6000, 2, 0)
        );
    }

    fn id(n: u32, name: &str) -> IrqId {
        IrqId {
            number: n,
            name: name.into(),
        }
    }

    #[test]
    fn table_is_sorted_by_time_or_count() {
        let rows = vec![
            (id(1, "a"), IrqTotals::sum(&[time(10, 1_000, 0)])),
            (id(2, "b"), IrqTotals::sum(&[time(1, 50_000, 0)])),
        ];
        let by_time = busiest(rows.clone(), false);
        assert_eq!(by_time[0].0.name, "b");
        let by_count = busiest(rows, true);
        assert_eq!(by_count[0].0.name, "a");
        let r = IrqReporter::new((), IrqKind::Hard, IrqTimeArgs::default());
        let text = r.text(&by_time);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("{:<26} {:>11}", "HARDIRQ", "TOTAL_usecs"));
        assert_eq!(lines[1], format!("{:<26} {:>11}", "b", 50));
        assert_eq!(lines[2], format!("{:<26} {:>11}", "a", 1));
    }
}
