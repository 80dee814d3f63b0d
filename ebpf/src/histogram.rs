//! Counting into log-linear histograms (`ebpftop_common::loglinear`):
//! shared by syslat, runqlat, cpudist and biolatency.

use core::intrinsics::{AtomicOrdering, atomic_xadd};

use ebpftop_common::loglinear;

/// The bucket of `ns` counted in units of `unit_ns`.
#[inline(always)]
pub fn bucket_of(ns: u64, unit_ns: u64) -> Option<usize> {
    let value = if unit_ns > 1 { ns / unit_ns } else { ns };
    let i = loglinear::bucket(value);
    // The compiler knows the bucket is in range and drops a plain check;
    // the verifier cannot see it through the bit tricks. A volatile copy
    // keeps the check.
    // SAFETY: a read of a local.
    let i = unsafe { core::ptr::read_volatile(&i) };
    (i < loglinear::BUCKETS).then_some(i)
}

/// `*counter += v`, atomically: other CPUs add to the same value.
///
/// # Safety
/// `counter` must point into a map value.
#[inline(always)]
pub unsafe fn atomic_add(counter: *mut u64, v: u64) {
    // SAFETY: as the caller promises.
    unsafe { atomic_xadd::<u64, u64, { AtomicOrdering::Relaxed }>(counter, v) };
}
