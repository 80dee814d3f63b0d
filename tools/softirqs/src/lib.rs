//! softirqs: the kernel object and its hooks, the command line, and the
//! kernel's per-CPU sums decoded into Rust values. A library, so that
//! `cargo xtask docs` can generate the man page and the `ebpftop`
//! dashboard can run the same programs.

pub mod cli;

use std::io;

use aya::maps::{MapData, PerCpuArray};
use ebpftop_common::irqtime::{IrqTime, SOFTIRQ_VEC_OFFSET, SOFTIRQ_VECS};
use ebpftop_irqtime::{IrqId, IrqTotals};
use ebpftop_runtime::{AttachPoint, Candidate, Hook, ToolObject, embedded_object, tracefs};

/// The per-CPU array of sums, by vector.
pub const TIMES_MAP: &str = "SOFTIRQ_TIMES";

/// Vector names as bcc prints them (the kernel's `softirq_to_name`, lower
/// case), by vector number.
pub const VEC_NAMES: [&str; SOFTIRQ_VECS as usize] = [
    "hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched", "hrtimer", "rcu",
];

/// A vector's name; numbers past the known ones as `vec<N>`.
pub fn vec_name(vec: u32) -> String {
    VEC_NAMES
        .get(vec as usize)
        .map_or_else(|| format!("vec{vec}"), |n| (*n).to_string())
}

const ENTRY_RAW: Candidate = Candidate {
    program: "softirq_entry_raw",
    at: AttachPoint::RawTracepoint {
        name: "softirq_entry",
    },
};
const ENTRY_CLASSIC: Candidate = Candidate {
    program: "softirq_entry",
    at: AttachPoint::Tracepoint {
        category: "irq",
        name: "softirq_entry",
    },
};
const EXIT_RAW: Candidate = Candidate {
    program: "softirq_exit_raw",
    at: AttachPoint::RawTracepoint {
        name: "softirq_exit",
    },
};
const EXIT_CLASSIC: Candidate = Candidate {
    program: "softirq_exit",
    at: AttachPoint::Tracepoint {
        category: "irq",
        name: "softirq_exit",
    },
};

const fn hooks(entry: &'static [Candidate], exit: &'static [Candidate]) -> [Hook; 2] {
    [
        Hook {
            name: "softirq entry",
            candidates: entry,
            required: true,
            shared: false,
        },
        Hook {
            name: "softirq exit",
            candidates: exit,
            required: true,
            shared: false,
        },
    ]
}

/// Raw tracepoints first: the kernel builds no trace record for them, and
/// does not skip them when the softirq interrupts another tracing program
/// (it does skip classic tracepoint programs then).
static ALL_HOOKS: [Hook; 2] = hooks(&[ENTRY_RAW, ENTRY_CLASSIC], &[EXIT_RAW, EXIT_CLASSIC]);
static RAW_HOOKS: [Hook; 2] = hooks(&[ENTRY_RAW], &[EXIT_RAW]);

/// The object, with the classic fallback only where the kernel's records
/// keep `vec` where the classic programs read it.
pub fn object() -> ToolObject {
    let classic = check_layout()
        .inspect_err(|e| log::info!("classic softirq tracepoints not used: {e}"))
        .is_ok();
    ToolObject {
        tool: "softirqs",
        bytes: embedded_object!("softirqs"),
        hooks: if classic { &ALL_HOOKS } else { &RAW_HOOKS },
    }
}

/// Checks that the classic softirq tracepoints keep `vec` where the
/// fallback programs read it (the raw ones get it as an argument).
pub fn check_layout() -> Result<(), ebpftop_runtime::Error> {
    for name in ["softirq_entry", "softirq_exit"] {
        tracefs::check_fields("irq", name, &[("vec", SOFTIRQ_VEC_OFFSET, 4)])?;
    }
    Ok(())
}

/// Every vector's totals (all CPUs) since the programs were attached.
pub fn read_times(map: &PerCpuArray<MapData, IrqTime>) -> io::Result<Vec<(IrqId, IrqTotals)>> {
    (0..SOFTIRQ_VECS)
        .map(|vec| {
            let per_cpu = map.get(&vec, 0).map_err(io::Error::other)?;
            Ok((
                IrqId {
                    number: vec,
                    name: vec_name(vec),
                },
                IrqTotals::sum(per_cpu.iter()),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(vec_name(3), "net_rx");
        assert_eq!(vec_name(9), "rcu");
        assert_eq!(vec_name(12), "vec12");
    }
}
