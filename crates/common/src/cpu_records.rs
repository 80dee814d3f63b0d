//! Per-CPU record areas: where a tool's kernel programs write fixed-size
//! records without `bpf_ringbuf_reserve`/`submit`.
//!
//! Two mmapable arrays. `CPU_RECORDS` holds `slots` [`CpuSlot`]s per CPU,
//! CPU `c`'s at `c * slots ..`, used as a ring. `CPU_HEADS` holds
//! [`WORDS_PER_CPU`] u64s per CPU: the count of slots its writers have
//! taken ([`HEAD`], with their own bookkeeping on its line) and of records
//! the reader has consumed ([`TAIL`]), on cache lines of their own. A writer takes slot `h` by moving the head
//! from `h` to `h + 1` with a compare-and-swap (writers nested on the same
//! CPU, in interrupts, may race it), writes its record, then sets the
//! slot's `seq` to `h + 1`. The reader consumes slot `t` once its `seq` is
//! `t + 1`, in order, and moves the tail past what it consumed. A writer
//! that finds `slots` records unconsumed loses its record, counted.

/// u64 words per CPU in `CPU_HEADS`.
pub const WORDS_PER_CPU: u32 = 16;
/// Where a CPU's head is among its words.
pub const HEAD: u32 = 0;
/// When the CPU's writers last woke the reader (`bpf_ktime_get_ns`), on
/// the head's line, which a writer touches anyway.
pub const LAST_WAKE: u32 = 1;
/// The tail as the CPU's writers last read it, on the head's line too.
pub const KNOWN_TAIL: u32 = 2;
/// Where its tail is: a cache line away from the head.
pub const TAIL: u32 = 8;
/// A record of this 8-byte value in the tool's ring buffer only wakes the
/// reader: records in the areas wake nobody by themselves.
pub const DOORBELL: u64 = u64::from_le_bytes(*b"doorbell");
/// Fewest and most slots per CPU. Like perf buffers, the areas grow with
/// the CPU count: at least `MIN_SLOTS` records each, so that one busy CPU
/// has room for a burst between polls (the reader is woken once an area
/// is a quarter full).
pub const MIN_SLOTS: u64 = 512;
pub const MAX_SLOTS: u64 = 16384;

/// One slot: the record and the lap it belongs to.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CpuSlot<T> {
    /// `h + 1` once the record taken as slot `h` is complete.
    pub seq: u64,
    pub rec: T,
}

/// Slots per CPU for records of about 128 bytes (a TCP event takes 144
/// with its `seq`) in `budget_bytes` over `cpus` CPUs: a power of two
/// within [`MIN_SLOTS`, `MAX_SLOTS`].
pub fn slots_per_cpu(budget_bytes: u64, cpus: u64) -> u64 {
    let fit = budget_bytes / 128 / cpus.max(1);
    let pow = if fit == 0 {
        1
    } else {
        1u64 << (63 - fit.leading_zeros())
    };
    pow.clamp(MIN_SLOTS, MAX_SLOTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_a_power_of_two_within_bounds() {
        assert_eq!(slots_per_cpu(1 << 22, 2), 16384);
        assert_eq!(slots_per_cpu(1 << 22, 3), 8192);
        assert_eq!(slots_per_cpu(1 << 22, 32), 1024);
        assert_eq!(slots_per_cpu(1 << 22, 512), MIN_SLOTS);
        assert_eq!(slots_per_cpu(1 << 30, 1), MAX_SLOTS);
        assert_eq!(slots_per_cpu(0, 0), MIN_SLOTS);
    }
}
