//! Handler runs the programs never saw, found by comparing their counts
//! with the kernel's own: /proc/interrupts counts each hard IRQ as its
//! flow handler takes it (one handler run per action), /proc/softirqs each
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

/// How long a report waits to read the programs' sums again when they
/// fall short of the kernel's counts read just before: runs the kernel
/// counted as they started may still be running on another CPU (a hard
/// IRQ handler takes microseconds and a softirq run milliseconds, but a
/// VM's CPU can be held up in one; with 20 ms the timer softirq was now
/// and then one run short here, with 300 ms never).
pub const SETTLE: Duration = Duration::from_millis(250);

impl IrqKind {
    /// The kernel's own count of runs, summed over CPUs: by IRQ number
    /// (/proc/interrupts, numbered lines only) or by softirq vector
    /// (/proc/softirqs, whose rows are in vector order).
    pub fn kernel_counts(self) -> io::Result<HashMap<u32, u64>> {
        match self {
            IrqKind::Hard => std::fs::read_to_string("/proc/interrupts").map(|t| interrupts(&t)),
            IrqKind::Soft => std::fs::read_to_string("/proc/softirqs").map(|t| softirqs(&t)),
        }
    }
}

/// The number of CPU columns: the header line's words.
fn cpu_columns(text: &str) -> usize {
    text.lines()
        .next()
        .map_or(0, |l| l.split_whitespace().count())
}

/// Sums the first `cpus` numbers after a row's `name:`.
fn row_total(rest: &str, cpus: usize) -> u64 {
    rest.split_whitespace()
        .take(cpus)
        .map_while(|f| f.parse::<u64>().ok())
        .sum()
}

/// /proc/interrupts: numbered IRQs' totals over CPUs.
pub fn interrupts(text: &str) -> HashMap<u32, u64> {
    let cpus = cpu_columns(text);
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (irq, rest) = l.split_once(':')?;
            Some((irq.trim().parse().ok()?, row_total(rest, cpus)))
        })
        .collect()
}

/// /proc/softirqs: each vector's total over CPUs, the vector being the
/// row's place.
pub fn softirqs(text: &str) -> HashMap<u32, u64> {
    let cpus = cpu_columns(text);
    text.lines()
        .skip(1)
        .filter_map(|l| l.split_once(':').map(|(_, rest)| row_total(rest, cpus)))
        .zip(0..)
        .map(|(total, vec)| (vec, total))
        .collect()
}

/// Runs the kernel counted since the check started that the programs did
/// not count since they were attached, per row, summed. Only rows the
/// programs report are compared: an IRQ whose flow handler runs no
/// handler tracepoint (nested threaded IRQs) never gets one.
#[derive(Debug)]
pub struct Unseen {
    base: HashMap<u32, u64>,
    total: u64,
}

impl Unseen {
    /// Starts from the kernel's counts read after the programs were
    /// attached: runs between attaching and this read can only make the
    /// programs' counts the larger, never a run look unseen. Rows of an
    /// IRQ the kernel did not list then are not compared.
    pub fn start(base: HashMap<u32, u64>) -> Unseen {
        Unseen { base, total: 0 }
    }

    /// Each row's runs the kernel counted (`kernel`, read before the
    /// programs' sums `rows`, totals since attach) beyond the programs'.
    fn short(&self, kernel: &HashMap<u32, u64>, rows: &[(IrqId, IrqTotals)]) -> Vec<(u64, u64)> {
        rows.iter()
            .map(|(id, t)| {
                let ran = kernel
                    .get(&id.number)
                    .zip(self.base.get(&id.number))
                    .map_or(0, |(now, base)| now.saturating_sub(*base));
                (ran, ran.saturating_sub(t.count))
            })
            .collect()
    }

    /// Whether `rows` show more runs unseen than found so far: then the
    /// report reads them again after [`SETTLE`].
    pub fn grew(&self, kernel: &HashMap<u32, u64>, rows: &[(IrqId, IrqTotals)]) -> bool {
        self.short(kernel, rows).iter().map(|(_, s)| s).sum::<u64>() > self.total
    }

    /// Compares the kernel's counts with the programs' sums and returns
    /// the most runs found unseen so far.
    pub fn update(&mut self, kernel: &HashMap<u32, u64>, rows: &[(IrqId, IrqTotals)]) -> u64 {
        let mut unseen = 0;
        for ((id, t), (ran, short)) in rows.iter().zip(self.short(kernel, rows)) {
            if short > 0 {
                log::info!(
                    "{} ({}): the kernel counted {ran} runs since start, the programs {}",
                    id.name,
                    id.number,
                    t.count
                );
            }
            unseen += short;
        }
        self.total = self.total.max(unseen);
        self.total
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

    const INTERRUPTS: &str = "           CPU0       CPU1       \n\
  36:          0       2040   PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0\n\
  42:          3         70   PCI-MSIX-0000:00:04.0   2-edge      virtio3-tx\n\
 NMI:          0          0   Non-maskable interrupts\n\
 LOC:      14000      13000   Local timer interrupts\n";

    const SOFTIRQS: &str = "                    CPU0       CPU1\n\
          HI:          1          0\n\
       TIMER:        100        200\n\
      NET_TX:          2          3\n\
      NET_RX:         40         50\n\
       BLOCK:          0       2000\n";

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
    fn parses_the_kernels_tables() {
        let irqs = interrupts(INTERRUPTS);
        assert_eq!(irqs.len(), 2, "{irqs:?}");
        assert_eq!((irqs[&36], irqs[&42]), (2040, 73));
        let soft = softirqs(SOFTIRQS);
        assert_eq!((soft[&0], soft[&1], soft[&3], soft[&4]), (1, 300, 90, 2000));
    }

    #[test]
    fn counts_runs_the_kernel_saw_and_the_programs_did_not() {
        let base = interrupts(INTERRUPTS);
        let mut u = Unseen::start(base.clone());
        let mut now = base.clone();
        *now.get_mut(&36).unwrap() += 2000;
        *now.get_mut(&42).unwrap() += 5;
        // IRQ 36 seen 1956 times (44 unseen); 42 seen more often than the
        // kernel counted since the start (runs before it); 99 is not a
        // numbered IRQ any more.
        let rows = [
            row(36, "virtio1-req.0", 1956),
            row(42, "virtio3-tx", 9),
            row(99, "x", 1),
        ];
        assert!(u.grew(&now, &rows));
        assert_eq!(u.update(&now, &rows), 44);
        assert!(!u.grew(&now, &rows));
        // A later report with everything seen does not lower the total.
        let rows = [row(36, "virtio1-req.0", 2000), row(42, "virtio3-tx", 9)];
        assert_eq!(u.update(&now, &rows), 44);
        assert_eq!(u.total(), 44);
    }

    #[test]
    fn each_action_of_a_shared_irq_runs_once_per_interrupt() {
        let base = interrupts(INTERRUPTS);
        let mut u = Unseen::start(base.clone());
        let mut now = base.clone();
        *now.get_mut(&36).unwrap() += 10;
        let rows = [row(36, "a", 10), row(36, "b", 7)];
        assert_eq!(u.update(&now, &rows), 3);
    }
}
