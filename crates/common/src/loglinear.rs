//! Log-linear histogram buckets, computed the same way by the kernel half
//! (which counts into them) and the user half (which prints them).
//!
//! Values below [`SUB`] each have a bucket of their own; above, every power
//! of two `[2^e, 2^(e+1))` is split into [`SUB`] equal buckets, so a bucket
//! is at most 1/32 (3.1%) of its values wide. A bucket never straddles a
//! power of two, so the buckets fold exactly into log2 slots
//! ([`log2_slot_of`]) for bcc-style printing, while percentiles read from
//! them are within a few percent instead of a factor of two.

/// log2 of the number of linear buckets per power of two.
pub const SUB_BITS: u32 = 5;
/// Linear buckets per power of two.
pub const SUB: usize = 1 << SUB_BITS;
/// The highest power of two with buckets of its own: values of
/// `2^(MAX_EXP + 1)` and more are counted in the last bucket (in usecs,
/// that is above 38 hours).
pub const MAX_EXP: u32 = 36;
/// Buckets in a histogram: the exact ones below [`SUB`], then [`SUB`] per
/// power of two from `2^SUB_BITS` to `2^MAX_EXP`.
pub const BUCKETS: usize = SUB + (MAX_EXP - SUB_BITS + 1) as usize * SUB;

/// The bucket of `v`. Branch-light and loop-free, for BPF.
#[inline(always)]
pub fn bucket(v: u64) -> usize {
    if v < SUB as u64 {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    if exp > MAX_EXP {
        return BUCKETS - 1;
    }
    let sub = (v >> (exp - SUB_BITS)) as usize & (SUB - 1);
    SUB + (exp - SUB_BITS) as usize * SUB + sub
}

/// The inclusive range of values counted in bucket `i` (the last one's
/// high end is `u64::MAX`, since it takes everything above).
pub const fn bucket_range(i: usize) -> (u64, u64) {
    if i < SUB {
        return (i as u64, i as u64);
    }
    let exp = ((i - SUB) / SUB) as u32 + SUB_BITS;
    let sub = ((i - SUB) % SUB) as u64;
    let width = 1u64 << (exp - SUB_BITS);
    let low = (1u64 << exp) + sub * width;
    if i == BUCKETS - 1 {
        return (low, u64::MAX);
    }
    (low, low + width - 1)
}

/// The log2 slot (`floor(log2(v))`, 0 and 1 in slot 0) that holds every
/// value of bucket `i`.
pub const fn log2_slot_of(i: usize) -> usize {
    if i < SUB {
        // floor(log2(i)), with 0 in slot 0.
        return (63 - (i as u64 | 1).leading_zeros()) as usize;
    }
    (i - SUB) / SUB + SUB_BITS as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log2(v: u64) -> usize {
        (63 - (v | 1).leading_zeros()) as usize
    }

    #[test]
    fn small_values_are_exact() {
        for v in 0..SUB as u64 {
            assert_eq!(bucket(v), v as usize);
            assert_eq!(bucket_range(v as usize), (v, v));
        }
    }

    #[test]
    fn ranges_tile_the_line_and_fold_into_log2() {
        let mut next = 0u64;
        for i in 0..BUCKETS {
            let (low, high) = bucket_range(i);
            assert_eq!(
                low,
                next,
                "bucket {i} starts where {} ended",
                i.wrapping_sub(1)
            );
            assert!(high >= low);
            assert_eq!(bucket(low), i);
            assert_eq!(log2_slot_of(i), log2(low), "bucket {i}");
            if i < BUCKETS - 1 {
                assert_eq!(bucket(high), i);
                assert_eq!(log2(high), log2(low), "bucket {i} straddles a power of two");
                // At most 1/32 of its values wide.
                assert!((high - low + 1) * SUB as u64 <= low.max(SUB as u64));
                next = high + 1;
            }
        }
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket(1 << (MAX_EXP + 1)), BUCKETS - 1);
        // The last bucket is the top slice of 2^MAX_EXP and everything above.
        assert_eq!(bucket((1 << (MAX_EXP + 1)) - 1), BUCKETS - 1);
        assert_eq!(log2_slot_of(BUCKETS - 1), MAX_EXP as usize);
    }

    #[test]
    fn ten_millisecond_sleeps_in_usecs() {
        // 10.06 ms: log2 slot 13 (8192..16383 us), a bucket 256 us wide.
        let i = bucket(10_060);
        assert_eq!(log2_slot_of(i), 13);
        assert_eq!(bucket_range(i), (9_984, 10_239));
    }
}
