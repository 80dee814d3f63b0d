//! Handler runs the programs never saw, found by comparing their counts
//! with the kernel's own (/proc/stat): it counts each hard IRQ as its flow
//! handler takes it (each of its handlers then runs once), and each
//! softirq run as it starts.
//!
//! Why: a tracepoint can fire without running the BPF programs attached
//! to it and count nothing anywhere. On the test VM (Linux 6.18 guest)
//! every BPF program on `irq:irq_handler_entry`/`exit` and
//! `softirq_entry`, raw or classic, went without the same runs in windows
//! of a few milliseconds (up to 75 of 2,000 disk IRQs), while perf and
//! ftrace saw each run, and no run was counted as skipped. A tool that
//! sums in the kernel cannot see such a gap itself; the kernel's own
//! counts can.

use std::{collections::HashMap, io, time::Duration};

use crate::{IrqId, IrqKind, IrqTotals};

/// How long the last report waits to read the programs' sums again when
/// they fall short of the kernel's counts read just before: runs the
/// kernel counted as they started may still be running on another CPU (a
/// hard IRQ handler takes microseconds and a softirq run milliseconds, but
/// a VM's CPU can be held up in one; waiting 20 ms, the timer softirq was
/// now and then one run short here, waiting 300 ms never in 30 runs).
/// Earlier reports compare with the counts of the report before instead,
/// and never wait.
pub const SETTLE: Duration = Duration::from_millis(250);

impl IrqKind {
    /// The kernel's own count of runs by IRQ number or softirq vector,
    /// from /proc/stat: summed over every possible CPU, so a CPU going
    /// on- or offline changes nothing (/proc/interrupts has columns for
    /// online CPUs only).
    pub fn kernel_counts(self) -> io::Result<HashMap<u32, u64>> {
        std::fs::read_to_string("/proc/stat").map(|t| self.stat_counts(&t))
    }

    /// The `intr` (by IRQ number) or `softirq` (by vector) line of
    /// /proc/stat: a total, then one count per number from 0.
    pub fn stat_counts(self, stat: &str) -> HashMap<u32, u64> {
        let key = match self {
            IrqKind::Hard => "intr ",
            IrqKind::Soft => "softirq ",
        };
        let Some(line) = stat.lines().find_map(|l| l.strip_prefix(key)) else {
            return HashMap::new();
        };
        line.split_whitespace()
            .skip(1)
            .zip(0..)
            .filter_map(|(v, n)| Some((n, v.parse().ok()?)))
            .collect()
    }
}

/// Runs of `number` between two readings of the kernel's counts. They are
/// 32-bit in the kernel and wrap.
fn ran(number: u32, from: &HashMap<u32, u64>, to: &HashMap<u32, u64>) -> u64 {
    match (from.get(&number), to.get(&number)) {
        (Some(&a), Some(&b)) => u64::from((b as u32).wrapping_sub(a as u32)),
        _ => 0,
    }
}

/// Runs the kernel counted since the check started that the programs did
/// not count since they were attached. It is a lower bound: the kernel
/// does not count a handler's reruns for an edge IRQ that arrived while it
/// ran on another CPU.
///
/// Per IRQ number, the programs' count is the most any of its rows (one
/// per handler of a shared IRQ, each run once per interrupt) counted, so
/// a handler added or freed during the run is not taken for missed runs.
/// Only numbers the programs report are compared: an IRQ whose flow
/// handler runs no handler tracepoint (nested threaded IRQs) never gets a
/// row.
#[derive(Debug)]
pub struct Unseen {
    base: HashMap<u32, u64>,
    /// The kernel's counts at the last report.
    previous: HashMap<u32, u64>,
    total: u64,
    /// Each number's shortfall last logged.
    logged: HashMap<u32, u64>,
}

impl Unseen {
    /// Starts from the kernel's counts read after the programs were
    /// attached: runs between attaching and this read can only make the
    /// programs' counts the larger, never a run look unseen.
    pub fn start(base: HashMap<u32, u64>) -> Unseen {
        Unseen {
            previous: base.clone(),
            base,
            total: 0,
            logged: HashMap::new(),
        }
    }

    /// Each reported number's runs by the kernel's counts `kernel` (read
    /// before the programs' sums `rows`, totals since attach), and how
    /// many of them the programs did not count.
    fn short(
        &self,
        kernel: &HashMap<u32, u64>,
        rows: &[(IrqId, IrqTotals)],
    ) -> HashMap<u32, (u64, u64)> {
        let mut seen: HashMap<u32, u64> = HashMap::new();
        for (id, t) in rows {
            let s = seen.entry(id.number).or_default();
            *s = (*s).max(t.count);
        }
        seen.into_iter()
            .map(|(n, count)| {
                let ran = ran(n, &self.base, kernel);
                (n, (ran, ran.saturating_sub(count)))
            })
            .collect()
    }

    /// Runs the programs did not count by `kernel`'s counts.
    pub fn short_total(&self, kernel: &HashMap<u32, u64>, rows: &[(IrqId, IrqTotals)]) -> u64 {
        self.short(kernel, rows).values().map(|(_, s)| s).sum()
    }

    /// Compares the kernel's counts `kernel`, read before `rows`, with the
    /// programs' sums, and keeps the most runs found unseen so far.
    pub fn update(&mut self, kernel: &HashMap<u32, u64>, rows: &[(IrqId, IrqTotals)]) {
        let short = self.short(kernel, rows);
        for (n, &(ran, s)) in &short {
            let logged = self.logged.entry(*n).or_default();
            if s > *logged {
                *logged = s;
                let names: Vec<&str> = rows
                    .iter()
                    .filter(|(id, _)| id.number == *n)
                    .map(|(id, _)| id.name.as_str())
                    .collect();
                log::info!(
                    "{} ({n}): {s} of the {ran} runs the kernel counted since the start not \
                     counted by the programs",
                    names.join(", ")
                );
            }
        }
        self.total = self.total.max(short.values().map(|(_, s)| s).sum());
    }

    /// Takes the kernel's counts of this report, to compare the next
    /// report's sums with, and returns those of the report before: every
    /// run they counted has long ended.
    pub fn advance(&mut self, kernel: HashMap<u32, u64>) -> HashMap<u32, u64> {
        std::mem::replace(&mut self.previous, kernel)
    }

    pub fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IrqTotals;
    use ebpftop_common::irqtime::SLOTS;

    const STAT: &str = concat!(
        "cpu  100 0 50 1000 0 0 0 0 0 0\n",
        "cpu0 50 0 25 500 0 0 0 0 0 0\n",
        "intr 2123 0 0 0 10 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2040 0 0 0 0 0 73\n",
        "ctxt 5000\n",
        "softirq 2391 1 300 5 90 2000 0 0 0 0 4294967295\n",
    );

    fn row(number: u32, name: &str, count: u64) -> (IrqId, IrqTotals) {
        (
            IrqId {
                number,
                name: name.into(),
            },
            IrqTotals {
                count,
                total_ns: 0,
                slots: [0; SLOTS],
            },
        )
    }

    #[test]
    fn reads_the_kernels_counts_from_proc_stat() {
        let irqs = IrqKind::Hard.stat_counts(STAT);
        assert_eq!(
            (irqs[&3], irqs[&36], irqs[&42], irqs[&0]),
            (10, 2040, 73, 0)
        );
        assert_eq!(irqs.len(), 43);
        let soft = IrqKind::Soft.stat_counts(STAT);
        assert_eq!((soft[&0], soft[&1], soft[&3], soft[&4]), (1, 300, 90, 2000));
        assert_eq!(soft[&9], u64::from(u32::MAX));
        assert!(IrqKind::Hard.stat_counts("cpu 1 2\n").is_empty());
    }

    fn plus(base: &HashMap<u32, u64>, n: u32, by: u64) -> HashMap<u32, u64> {
        let mut now = base.clone();
        *now.get_mut(&n).unwrap() += by;
        now
    }

    #[test]
    fn counts_runs_the_kernel_saw_and_the_programs_did_not() {
        let base = IrqKind::Hard.stat_counts(STAT);
        let mut u = Unseen::start(base.clone());
        let now = plus(&plus(&base, 36, 2000), 42, 5);
        // IRQ 36 seen 1956 times (44 unseen); 42 seen more often than the
        // kernel counted since the start (runs before it); 99 is not in
        // /proc/stat.
        let rows = [
            row(36, "virtio1-req.0", 1956),
            row(42, "virtio3-tx", 9),
            row(99, "x", 1),
        ];
        assert_eq!(u.short_total(&now, &rows), 44);
        u.update(&now, &rows);
        assert_eq!(u.total(), 44);
        // A later report with everything seen does not lower the total.
        u.update(&now, &[row(36, "virtio1-req.0", 2000)]);
        assert_eq!(u.total(), 44);
    }

    #[test]
    fn a_shared_irq_is_short_only_where_none_of_its_handlers_ran() {
        let base = IrqKind::Hard.stat_counts(STAT);
        let mut u = Unseen::start(base.clone());
        let now = plus(&base, 36, 10);
        // "b" was freed (or added) halfway: the IRQ ran 10 times, and "a"
        // saw all 10.
        u.update(&now, &[row(36, "a", 10), row(36, "b", 5)]);
        assert_eq!(u.total(), 0);
        u.update(&now, &[row(36, "a", 7), row(36, "b", 5)]);
        assert_eq!(u.total(), 3);
    }

    #[test]
    fn counts_wrap_at_32_bits() {
        let soft = IrqKind::Soft.stat_counts(STAT);
        let mut u = Unseen::start(soft.clone());
        let mut now = soft.clone();
        now.insert(9, 4);
        u.update(&now, &[row(9, "rcu", 3)]);
        assert_eq!(u.total(), 2);
    }

    #[test]
    fn the_previous_reports_counts_come_back_once() {
        let base = IrqKind::Hard.stat_counts(STAT);
        let mut u = Unseen::start(base.clone());
        let now = plus(&base, 36, 1);
        assert_eq!(u.advance(now.clone()), base);
        assert_eq!(u.advance(base.clone()), now);
    }
}
