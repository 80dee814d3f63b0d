//! Records into a per-CPU area (see `ebpftop_common::cpu_records`)
//! instead of the ring buffer. A ring buffer record costs two helper calls
//! and a lock taken with interrupts off, about 120 ns on a VM with
//! retpolines; here the map lookups are inlined by the verifier and a
//! record costs a compare-and-swap, its copy and a store. Needs BPF atomics
//! (Linux 5.12): programs for older kernels emit through [`RingOut`].
//!
//! A tool declares its area with [`cpu_records!`] and writes through the
//! [`Emit`] it names; its handlers are generic over [`Emit`].

use core::intrinsics::{AtomicOrdering::SeqCst, atomic_cxchg, atomic_xchg};

use aya_ebpf::{helpers::generated::bpf_get_smp_processor_id, maps::Array};
use ebpftop_common::{
    LostReason,
    cpu_records::{CpuSlot, HEAD, KNOWN_TAIL, LAST_WAKE, TAIL, WORDS_PER_CPU},
};

use crate::{EVENTS, count_lost, ring_doorbell, submit};

/// Slots per CPU in the area, a power of two; set by user space, which
/// sizes the maps to match. 0 (not set) loses every record, counted, as
/// does a CPU beyond the maps' size.
#[unsafe(no_mangle)]
static CPU_SLOTS: u64 = 0;

/// Set by user space where the kernel's CPU keeps stores in order, as seen
/// by other CPUs (x86's TSO).
#[unsafe(no_mangle)]
static CPU_STORES_ORDERED: u64 = 0;

/// Where a tool's handlers send records of type `T`.
pub trait Emit<T> {
    /// Emits `rec`, stamped `now_ns`; a full buffer is counted as lost.
    fn emit(rec: &T, now_ns: u64);
}

/// Through the ring buffer `EVENTS`.
pub struct RingOut;

impl<T: Copy + 'static> Emit<T> for RingOut {
    #[inline(always)]
    fn emit(rec: &T, now_ns: u64) {
        let Some(mut entry) = EVENTS.reserve::<T>(0) else {
            count_lost(LostReason::RingBufFull);
            return;
        };
        entry.write(*rec);
        submit(entry, now_ns);
    }
}

/// Declares `CPU_RECORDS` and `CPU_HEADS` for records of type `$t` in a
/// tool's binary (maps declared here would be created for every tool),
/// and `$name`, the [`Emit`] that writes to them. User space sizes both.
#[macro_export]
macro_rules! cpu_records {
    ($name:ident: $t:ty) => {
        #[aya_ebpf::macros::map]
        static CPU_RECORDS: aya_ebpf::maps::Array<ebpftop_common::cpu_records::CpuSlot<$t>> =
            aya_ebpf::maps::Array::with_max_entries(1, aya_ebpf::bindings::BPF_F_MMAPABLE);
        #[aya_ebpf::macros::map]
        static CPU_HEADS: aya_ebpf::maps::Array<u64> =
            aya_ebpf::maps::Array::with_max_entries(1, aya_ebpf::bindings::BPF_F_MMAPABLE);
        struct $name;
        impl $crate::records::Emit<$t> for $name {
            #[inline(always)]
            fn emit(rec: &$t, now_ns: u64) {
                $crate::records::emit_to(&CPU_RECORDS, &CPU_HEADS, rec, now_ns);
            }
        }
    };
}

/// Writes `rec` into this CPU's slots of `records`, with its head and
/// tail in `heads`.
#[inline(always)]
pub fn emit_to<T: Copy>(records: &Array<CpuSlot<T>>, heads: &Array<u64>, rec: &T, now_ns: u64) {
    // SAFETY: a plain static, set before load and never written here.
    let slots = unsafe { core::ptr::read_volatile(&raw const CPU_SLOTS) };
    // SAFETY: helper call without arguments (inlined by the verifier).
    let cpu = unsafe { bpf_get_smp_processor_id() };
    let at = cpu * WORDS_PER_CPU;
    let (Some(head), Some(tail), Some(last_wake), Some(known_tail)) = (
        heads.get_ptr_mut(at + HEAD),
        heads.get_ptr_mut(at + TAIL),
        heads.get_ptr_mut(at + LAST_WAKE),
        heads.get_ptr_mut(at + KNOWN_TAIL),
    ) else {
        count_lost(LostReason::RingBufFull);
        return;
    };
    // A slot taken is published whatever happens, or the reader would wait
    // for it for ever: make sure now that this CPU's last slot exists.
    if records
        .get_ptr_mut((cpu as u64 * slots + slots - 1) as u32)
        .is_none()
    {
        count_lost(LostReason::RingBufFull);
        return;
    }
    // The tail only moves on, so the fill measured against the tail last
    // read is never less than the true one. The tail itself, on the
    // reader's line, is a cache miss: read only once that fill is a
    // quarter of the slots (as the wake-ups need to know, and before the
    // area can look full).
    // SAFETY: map values, written by the reader (tail) and by writers on
    // this CPU (the rest), only as whole aligned u64s. Nested writers may
    // race on the known tail, leaving an older one: still not past it.
    let t = unsafe {
        let known = core::ptr::read_volatile(known_tail);
        if core::ptr::read_volatile(head).wrapping_sub(known) < slots / 4 {
            known
        } else {
            let t = core::ptr::read_volatile(tail);
            core::ptr::write_volatile(known_tail, t);
            t
        }
    };
    let Some(h) = take_slot(head, t, slots).or_else(|| take_slot(head, t, slots)) else {
        count_lost(LostReason::RingBufFull);
        return;
    };
    // Cannot fail: this CPU's last slot exists (checked above).
    let index = (cpu as u64 * slots + (h & (slots - 1))) as u32;
    let Some(slot) = records.get_ptr_mut(index) else {
        return;
    };
    // SAFETY: slot `h` is ours until its seq says it is complete.
    unsafe {
        (&raw mut (*slot).rec).write(*rec);
        let seq = &raw mut (*slot).seq;
        // The reader must see the record's stores before the seq's. Where
        // the CPU keeps stores in order (x86), a plain store after a
        // compiler barrier (an empty asm block clobbers memory) is enough,
        // and it does not wait for the record's cache lines as a locked
        // exchange would.
        if core::ptr::read_volatile(&raw const CPU_STORES_ORDERED) != 0 {
            core::arch::asm!("");
            core::ptr::write_volatile(seq, h + 1);
        } else {
            atomic_xchg::<u64, { SeqCst }>(seq, h + 1);
        }
    }
    // SAFETY: this CPU's word, next to its head; writers nested on this
    // CPU may race it, which at worst wakes the reader twice.
    ring_doorbell(
        unsafe { &mut *last_wake },
        h.wrapping_sub(t) >= slots / 4,
        now_ns,
    );
}

/// Takes the next slot of a CPU whose reader has consumed `tail`: its
/// number, or `None` when the area is full or a writer nested on this
/// CPU took it first (then, once more, the caller tries again; losing
/// twice in a row to nested writers is counted as a full area).
#[inline(always)]
fn take_slot(head: *mut u64, tail: u64, slots: u64) -> Option<u64> {
    // SAFETY: a map value, only ever written as a whole aligned u64.
    let h = unsafe { core::ptr::read_volatile(head) };
    if h.wrapping_sub(tail) >= slots {
        return None;
    }
    // SAFETY: as above; compare-and-swap, atomic against nested writers.
    let (seen, ok) = unsafe { atomic_cxchg::<u64, { SeqCst }, { SeqCst }>(head, h, h + 1) };
    (ok && seen == h).then_some(h)
}
