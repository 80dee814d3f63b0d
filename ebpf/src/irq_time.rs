//! Adding one handler's run time to a per-CPU [`IrqTime`] (hardirqs and
//! softirqs).

use ebpftop_common::irqtime::{IrqConfig, IrqTime, SLOTS};

/// Counts one handler run of `ns` into `v`: its count, total and, with
/// `--dist`, its log2 slot in the configured unit.
///
/// # Safety
/// `v` must be this CPU's value of a per-CPU map.
#[inline(always)]
pub unsafe fn add_time(v: *mut IrqTime, ns: u64, config: &IrqConfig) {
    // SAFETY: `config` is a plain static set before load.
    let (unit_ns, dist) = unsafe {
        (
            core::ptr::read_volatile(&raw const config.unit_ns),
            core::ptr::read_volatile(&raw const config.dist),
        )
    };
    // SAFETY: `v` is this CPU's value of a per-CPU map; a handler runs to
    // completion on its CPU before the next one of its kind starts.
    unsafe {
        (*v).count += 1;
        (*v).total_ns += ns;
        if dist != 0 {
            let value = if unit_ns > 1 { ns / unit_ns } else { ns };
            let slot = (63 - (value | 1).leading_zeros()) as usize;
            let slot = if slot >= SLOTS { SLOTS - 1 } else { slot };
            // SAFETY (volatile): keeps the bound check the verifier needs.
            let slot = core::ptr::read_volatile(&slot);
            if slot < SLOTS {
                (*v).slots[slot] += 1;
            }
        }
    }
}
