//! Log2 and HDR histograms: how every distribution tool (runqlat,
//! biolatency, cpudist, ...) shows its data.
//!
//! - [`Log2Hist`]: power-of-two buckets, the shape the kernel half keeps in a
//!   map (one counter per slot: no allocation, no division, no loop in BPF).
//!   Printed byte for byte like libbpf-tools' `print_log2_hist`, so output
//!   diffs cleanly against the tools people already know.
//! - [`LatencySummary`]: an HDR histogram for percentiles, fed every value
//!   on the user side, or approximated from a `Log2Hist`
//!   ([`LatencySummary::from_log2_hist`]).

use std::{
    fmt::{self, Write as _},
    io::{self, Write},
};

use hdrhistogram::Histogram;
use serde::{Serialize, Serializer, ser::SerializeStruct};

/// Slots a `u64` can need: `log2_slot(u64::MAX) == 63`.
pub const MAX_SLOTS: usize = 64;

/// The log2 slot of `v`: `floor(log2(v))`, with 0 counted in slot 0 too.
///
/// Slot 0 holds `[0, 1]`; slot `i >= 1` holds `[2^i, 2^(i+1) - 1]` (see
/// [`slot_range`]). So 0, 1 → 0; 2, 3 → 1; 4..=7 → 2; `u64::MAX` → 63.
///
/// This is the slot libbpf-tools' `log2l()` (bits.bpf.h) computes, and the
/// kernel half must compute exactly the same one, or every bucket shifts:
/// change both or neither. In BPF either this expression or a branch-free
/// shift cascade works; neither needs a loop, which the verifier would reject
/// or bound.
#[inline]
pub const fn log2_slot(v: u64) -> usize {
    // `| 1` puts 0 in slot 0 without a branch (leading_zeros(0) would be 64).
    (63 - (v | 1).leading_zeros()) as usize
}

/// The inclusive range of values in `slot`, what bcc prints as `low -> high`.
///
/// # Panics
/// If `slot >= MAX_SLOTS`.
pub const fn slot_range(slot: usize) -> (u64, u64) {
    assert!(slot < MAX_SLOTS, "log2 slot out of range");
    if slot == 0 {
        return (0, 1);
    }
    let low = 1u64 << slot;
    // 2^(i+1) - 1 written so that slot 63 gives u64::MAX, not an overflow.
    (low, low + (low - 1))
}

/// One bucket of a [`Log2Hist`]: `count` values in `low..=high`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub low: u64,
    pub high: u64,
    pub count: u64,
}

/// A log2 histogram: `buckets[i]` counts the values `v` with
/// `log2_slot(v) == i`.
///
/// Trailing empty buckets are never stored, so two histograms with the same
/// counts compare equal whatever slot array length they came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log2Hist {
    buckets: Vec<u64>,
}

impl Log2Hist {
    pub fn new() -> Self {
        Self::default()
    }

    /// From a kernel slot array (index = slot), e.g. the per-CPU values of
    /// a map already summed. Counts past slot 63 are added to slot 63: no
    /// `u64` lands there, so they can only come from a kernel side that
    /// clamps to its last slot, which then means "this or more" as well.
    pub fn from_buckets(buckets: &[u64]) -> Self {
        Self::from_counts(buckets.iter().copied())
    }

    /// [`from_buckets`](Self::from_buckets) for `u32` slots, the width
    /// libbpf-tools' kernel halves use.
    pub fn from_u32_buckets(buckets: &[u32]) -> Self {
        Self::from_counts(buckets.iter().map(|&c| u64::from(c)))
    }

    fn from_counts(counts: impl Iterator<Item = u64>) -> Self {
        let mut h = Self::new();
        for (slot, count) in counts.enumerate() {
            h.add_to_slot(slot.min(MAX_SLOTS - 1), count);
        }
        h.trim();
        h
    }

    /// Counts one value.
    pub fn add(&mut self, value: u64) {
        self.add_to_slot(log2_slot(value), 1);
    }

    /// Adds `other`'s counts to this histogram's (e.g. per-CPU or per-key
    /// histograms into one).
    pub fn merge(&mut self, other: &Log2Hist) {
        for (slot, &count) in other.buckets.iter().enumerate() {
            self.add_to_slot(slot, count);
        }
    }

    fn add_to_slot(&mut self, slot: usize, count: u64) {
        if count == 0 {
            // Keeps the no-trailing-zero invariant without a trim.
            return;
        }
        if self.buckets.len() <= slot {
            self.buckets.resize(slot + 1, 0);
        }
        // Saturate: a wrapped counter would print as a tiny one.
        self.buckets[slot] = self.buckets[slot].saturating_add(count);
    }

    fn trim(&mut self) {
        let len = self
            .buckets
            .iter()
            .rposition(|&c| c != 0)
            .map_or(0, |i| i + 1);
        self.buckets.truncate(len);
    }

    /// Values counted (saturating).
    pub fn total(&self) -> u64 {
        self.buckets.iter().fold(0u64, |t, &c| t.saturating_add(c))
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Counts by slot, up to the last non-empty one.
    pub fn buckets(&self) -> &[u64] {
        &self.buckets
    }

    /// The buckets from the first non-empty one to the last, empty ones in
    /// between included; nothing if the histogram is empty.
    pub fn nonempty_range(&self) -> impl Iterator<Item = Bucket> + '_ {
        let first = self.buckets.iter().position(|&c| c != 0).unwrap_or(0);
        self.buckets[first..]
            .iter()
            .enumerate()
            .map(move |(i, &count)| {
                let (low, high) = slot_range(first + i);
                Bucket { low, high, count }
            })
    }

    /// Prints the histogram exactly as libbpf-tools' `print_log2_hist` does:
    ///
    /// ```text
    ///      usecs               : count    distribution
    ///          0 -> 1          : 0        |                                        |
    ///          2 -> 3          : 3        |****************************************|
    /// ```
    ///
    /// Rows run from slot 0 (empty leading rows included, as bcc shows them)
    /// to the last non-empty slot; the bar is 40 columns, scaled so the
    /// largest bucket fills it (rounded down). When the last slot is above
    /// 32, its bounds no longer fit 10 digits and, like bcc, every column
    /// doubles: 20-digit bounds, a 20-column bar. An empty histogram prints
    /// nothing at all, again like bcc.
    ///
    /// The text is written with a single `write_all`.
    pub fn print(&self, w: &mut impl Write, unit_label: &str) -> io::Result<()> {
        self.print_from(w, unit_label, false)
    }

    /// [`print`](Self::print) without the empty rows before the first
    /// non-empty bucket, like bcc's `strip_leading_zero` (useful for
    /// nanosecond histograms, whose first rows are nearly always empty).
    pub fn print_skip_leading(&self, w: &mut impl Write, unit_label: &str) -> io::Result<()> {
        self.print_from(w, unit_label, true)
    }

    fn print_from(&self, w: &mut impl Write, unit_label: &str, skip: bool) -> io::Result<()> {
        let Some(&max) = self.buckets.iter().max() else {
            return Ok(());
        };
        let last = self.buckets.len() - 1;
        let wide = last > 32;
        let (indent, label_w, num_w, bar_w) = if wide {
            (15, 29, 20, 20)
        } else {
            (5, 19, 10, 40)
        };
        let first = if skip {
            self.buckets.iter().position(|&c| c != 0).unwrap_or(0)
        } else {
            0
        };

        let mut out = String::with_capacity((last + 2 - first) * (3 * num_w + bar_w + 20));
        let _ = writeln!(
            out,
            "{:indent$}{unit_label:<label_w$} : count    distribution",
            ""
        );
        for (slot, &count) in self.buckets.iter().enumerate().skip(first) {
            let (low, high) = slot_range(slot);
            // Widened so count * width cannot overflow (bcc's unsigned int can).
            let stars = (u128::from(count) * bar_w as u128 / u128::from(max)) as usize;
            let _ = writeln!(
                out,
                "{low:>num_w$} -> {high:<num_w$} : {count:<8} |{:<bar_w$}|",
                &STARS[..stars]
            );
        }
        w.write_all(out.as_bytes())
    }

    /// A JSON view: `{"unit":"usecs","buckets":[{"low":0,"high":1,"count":0},...]}`,
    /// buckets as [`nonempty_range`](Self::nonempty_range) gives them.
    pub fn json<'a>(&'a self, unit: &'a str) -> Log2HistJson<'a> {
        Log2HistJson { hist: self, unit }
    }
}

const STARS: &str = "****************************************";

/// Serializes a [`Log2Hist`] with its unit; see [`Log2Hist::json`].
#[derive(Clone, Copy, Debug)]
pub struct Log2HistJson<'a> {
    hist: &'a Log2Hist,
    unit: &'a str,
}

impl Serialize for Log2HistJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Buckets<'a>(&'a Log2Hist);
        impl Serialize for Buckets<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.nonempty_range())
            }
        }
        let mut st = s.serialize_struct("Log2Hist", 2)?;
        st.serialize_field("unit", self.unit)?;
        st.serialize_field("buckets", &Buckets(self.hist))?;
        st.end()
    }
}

/// The unit values are recorded in, for labels and human-readable output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Nsecs,
    Usecs,
    Msecs,
    Secs,
    /// Anything else (`"kbytes"`, `"pages"`...): printed unscaled, with
    /// this label after the number.
    Other(&'static str),
}

impl Unit {
    /// The label bcc prints in a histogram header: `nsecs`, `usecs`,
    /// `msecs`, `secs`, or the `Other` label.
    pub const fn label(self) -> &'static str {
        match self {
            Unit::Nsecs => "nsecs",
            Unit::Usecs => "usecs",
            Unit::Msecs => "msecs",
            Unit::Secs => "secs",
            Unit::Other(l) => l,
        }
    }

    /// `v` (in this unit) for people: times scaled to ns/us/ms/s with three
    /// significant figures (`850us`, `10.2ms`, `1.50s`), never below the
    /// recording unit, so values under 1000 stay exact integers; `Other`
    /// values as `"<v> <label>"`.
    pub const fn human(self, v: u64) -> Human {
        Human { v, unit: self }
    }
}

/// See [`Unit::human`].
#[derive(Clone, Copy, Debug)]
pub struct Human {
    v: u64,
    unit: Unit,
}

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SUFFIX: [&str; 4] = ["ns", "us", "ms", "s"];
        let mut k = match self.unit {
            Unit::Nsecs => 0,
            Unit::Usecs => 1,
            Unit::Msecs => 2,
            Unit::Secs => 3,
            Unit::Other("") => return write!(f, "{}", self.v),
            Unit::Other(label) => return write!(f, "{} {label}", self.v),
        };
        if self.v < 1000 || k == 3 {
            return write!(f, "{}{}", self.v, SUFFIX[k]);
        }
        let mut x = self.v as f64;
        loop {
            x /= 1000.0;
            k += 1;
            // 999.5 and up would round to "1000": show it as 1.00 of the
            // next unit instead.
            if x < 999.5 || k == 3 {
                break;
            }
        }
        let prec = if x < 9.995 {
            2
        } else if x < 99.95 {
            1
        } else {
            0
        };
        write!(f, "{x:.prec$}{}", SUFFIX[k])
    }
}

/// Percentiles, exact count, min, max and mean of a latency distribution.
///
/// Built on an auto-resizing `hdrhistogram::Histogram<u64>` with 3
/// significant figures: percentiles are within 0.1% of the recorded values
/// whatever their range, in a few hundred KB at most. Min, max and the sum
/// (so the mean) are also kept exactly beside it, since HDR would round them
/// to its bucket edges; percentiles are clamped to `[min, max]` so p99 never
/// prints above max.
#[derive(Clone)]
pub struct LatencySummary {
    hist: Histogram<u64>,
    /// Exact; `u64::MAX` while empty.
    min: u64,
    /// Exact; 0 while empty.
    max: u64,
    /// Exact (saturating) sum, for the mean.
    sum: u128,
}

const SIGFIG: u8 = 3;
// Only a usize too small for the counts array can fail an auto-resizing
// histogram; for u64 values that array is ~55k entries.
const RESIZES: &str = "auto-resizing HDR histogram holds any u64";

impl Default for LatencySummary {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LatencySummary {
    // Not derived: the HDR counts array is thousands of entries.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LatencySummary")
            .field("count", &self.count())
            .field("min", &self.min())
            .field("max", &self.max())
            .field("mean", &self.mean())
            .finish()
    }
}

impl LatencySummary {
    pub fn new() -> Self {
        LatencySummary {
            hist: Histogram::new(SIGFIG).expect("3 significant figures is valid"),
            min: u64::MAX,
            max: 0,
            sum: 0,
        }
    }

    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Records `value` `n` times.
    pub fn record_n(&mut self, value: u64, n: u64) {
        if n == 0 {
            return;
        }
        self.hist.record_n(value, n).expect(RESIZES);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.sum = self
            .sum
            .saturating_add(u128::from(value).saturating_mul(u128::from(n)));
    }

    pub fn merge(&mut self, other: &LatencySummary) {
        if other.is_empty() {
            return;
        }
        self.hist.add(&other.hist).expect(RESIZES);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum = self.sum.saturating_add(other.sum);
    }

    /// An approximation from log2 buckets, when the kernel only kept those:
    /// each bucket's count is recorded at the middle of its range taken as
    /// half-open, `[2^i, 2^(i+1))`, i.e. at `1.5 * 2^i` (1 for slot 0).
    ///
    /// Error bound: the count is exact, and each estimate (min, max, any
    /// percentile) is the midpoint of the bucket that holds the true value,
    /// so `estimate / true` lies in `(0.75, 1.5]`: at most 50% high (true
    /// value at the bottom of its bucket) and under 25% low (at the top);
    /// percentiles may add HDR's 0.1%. Being a weighted average of such
    /// estimates, the mean has the same bound. In slot 0 (true value 0 or
    /// 1) the estimate is 1, off by at most 1. Print these as "~" values.
    pub fn from_log2_hist(h: &Log2Hist) -> Self {
        let mut s = Self::new();
        for (slot, &count) in h.buckets().iter().enumerate() {
            s.record_n(slot_midpoint(slot), count);
        }
        s
    }

    /// Values recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// The value at percentile `p` (0 to 100: `percentile(99.0)` is p99),
    /// to 3 significant figures, within `[min, max]`; 0 if empty.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.is_empty() {
            return 0;
        }
        self.hist.value_at_percentile(p).clamp(self.min, self.max)
    }

    /// The smallest value recorded, exactly; 0 if empty.
    pub fn min(&self) -> u64 {
        if self.is_empty() { 0 } else { self.min }
    }

    /// The largest value recorded, exactly; 0 if empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean of the values recorded, exact to f64 precision; 0 if empty.
    pub fn mean(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.sum as f64 / self.count() as f64
    }

    /// The underlying HDR histogram, for anything not exposed here.
    pub fn histogram(&self) -> &Histogram<u64> {
        &self.hist
    }

    /// A one-line summary, `count 1000  p50 10.2ms  p90 12.9ms  p99 15.0ms
    /// max 31.4ms` (two spaces between fields), values in `unit` made
    /// readable by [`Unit::human`]; just `count 0` when empty.
    pub fn line(&self, unit: Unit) -> SummaryLine<'_> {
        SummaryLine { s: self, unit }
    }
}

/// The middle of `slot` taken as the half-open range `[low, high + 1)`.
fn slot_midpoint(slot: usize) -> u64 {
    if slot == 0 {
        return 1;
    }
    // 3 * 2^(i-1) = 1.5 * 2^i: exact, and below u64::MAX even for slot 63.
    3u64 << (slot.min(MAX_SLOTS - 1) - 1)
}

/// `{"count":..,"min":..,"mean":..,"p50":..,"p90":..,"p99":..,"max":..}`, in
/// the recording unit (the record holding it names the unit).
impl Serialize for LatencySummary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("LatencySummary", 7)?;
        st.serialize_field("count", &self.count())?;
        st.serialize_field("min", &self.min())?;
        st.serialize_field("mean", &self.mean())?;
        st.serialize_field("p50", &self.percentile(50.0))?;
        st.serialize_field("p90", &self.percentile(90.0))?;
        st.serialize_field("p99", &self.percentile(99.0))?;
        st.serialize_field("max", &self.max())?;
        st.end()
    }
}

/// See [`LatencySummary::line`].
#[derive(Clone, Copy, Debug)]
pub struct SummaryLine<'a> {
    s: &'a LatencySummary,
    unit: Unit,
}

impl fmt::Display for SummaryLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (s, u) = (self.s, self.unit);
        write!(f, "count {}", s.count())?;
        if s.is_empty() {
            return Ok(());
        }
        write!(
            f,
            "  p50 {}  p90 {}  p99 {}  max {}",
            u.human(s.percentile(50.0)),
            u.human(s.percentile(90.0)),
            u.human(s.percentile(99.0)),
            u.human(s.max())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(h: &Log2Hist, unit: &str) -> String {
        let mut out = Vec::new();
        h.print(&mut out, unit).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// libbpf-tools' log2l() (bits.bpf.h), the shift cascade a BPF program
    /// may use instead: the slots must agree.
    fn cascade_log2l(v: u64) -> usize {
        fn log2(mut v: u32) -> u32 {
            let mut r = u32::from(v > 0xffff) << 4;
            v >>= r;
            let mut shift = u32::from(v > 0xff) << 3;
            v >>= shift;
            r |= shift;
            shift = u32::from(v > 0xf) << 2;
            v >>= shift;
            r |= shift;
            shift = u32::from(v > 0x3) << 1;
            v >>= shift;
            r |= shift;
            r | (v >> 1)
        }
        let hi = (v >> 32) as u32;
        (if hi != 0 {
            log2(hi) + 32
        } else {
            log2(v as u32)
        }) as usize
    }

    #[test]
    fn slots_at_boundaries() {
        let cases = [
            (0, 0),
            (1, 0),
            (2, 1),
            (3, 1),
            (4, 2),
            (7, 2),
            (8, 3),
            ((1 << 32) - 1, 31),
            (1 << 32, 32),
            (1 << 63, 63),
            (u64::MAX, 63),
        ];
        for (v, slot) in cases {
            assert_eq!(log2_slot(v), slot, "log2_slot({v})");
        }
        for i in 0..64 {
            for v in [1u64 << i, (1u64 << i).wrapping_sub(1), (1u64 << i) + 1] {
                assert_eq!(log2_slot(v), cascade_log2l(v), "v = {v}");
                let (low, high) = slot_range(log2_slot(v));
                assert!(low <= v && v <= high, "{v} outside {low}..={high}");
            }
        }
        assert_eq!(slot_range(0), (0, 1));
        assert_eq!(slot_range(1), (2, 3));
        assert_eq!(slot_range(2), (4, 7));
        assert_eq!(slot_range(63), (1 << 63, u64::MAX));
    }

    // Expected texts below come from libbpf-tools' printf formats compiled
    // as C, not from this code.
    #[test]
    fn prints_like_bcc() {
        let h = Log2Hist::from_buckets(&[0, 1, 4, 2, 0, 0]);
        assert_eq!(
            printed(&h, "usecs"),
            "     usecs               : count    distribution\n\
             \x20        0 -> 1          : 0        |                                        |\n\
             \x20        2 -> 3          : 1        |**********                              |\n\
             \x20        4 -> 7          : 4        |****************************************|\n\
             \x20        8 -> 15         : 2        |********************                    |\n"
        );
    }

    #[test]
    fn stars_round_down_and_counts_widen_their_row() {
        let h = Log2Hist::from_buckets(&[3, 7, 107374182, 1]);
        assert_eq!(
            printed(&h, "msecs"),
            "     msecs               : count    distribution\n\
             \x20        0 -> 1          : 3        |                                        |\n\
             \x20        2 -> 3          : 7        |                                        |\n\
             \x20        4 -> 7          : 107374182 |****************************************|\n\
             \x20        8 -> 15         : 1        |                                        |\n"
        );
        let h = Log2Hist::from_buckets(&[39, 40, 21, 1]);
        let text = printed(&h, "usecs");
        let bars: Vec<usize> = text
            .lines()
            .skip(1)
            .map(|l| l.split('|').nth(1).unwrap().matches('*').count())
            .collect();
        // 39 * 40 / 40, 40 * 40 / 40, 21 * 40 / 40, 1 * 40 / 40
        assert_eq!(bars, [39, 40, 21, 1]);
        let h = Log2Hist::from_buckets(&[1, 3]);
        assert!(
            printed(&h, "usecs").contains(": 1        |*************                           |")
        );
    }

    #[test]
    fn slot_32_is_still_narrow() {
        let mut buckets = [0u64; 33];
        buckets[32] = 1;
        let text = printed(&Log2Hist::from_buckets(&buckets), "nsecs");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 34);
        assert_eq!(lines[0], "     nsecs               : count    distribution");
        assert_eq!(
            lines[33],
            "4294967296 -> 8589934591 : 1        |****************************************|"
        );
    }

    #[test]
    fn prints_wide_above_32_bits() {
        let mut buckets = [0u64; 34];
        buckets[1] = 7;
        buckets[20] = 40;
        buckets[33] = 13;
        let expected = concat!(
            "               nsecs                         : count    distribution\n",
            "                   0 -> 1                    : 0        |                    |\n",
            "                   2 -> 3                    : 7        |***                 |\n",
            "                   4 -> 7                    : 0        |                    |\n",
            "                   8 -> 15                   : 0        |                    |\n",
            "                  16 -> 31                   : 0        |                    |\n",
            "                  32 -> 63                   : 0        |                    |\n",
            "                  64 -> 127                  : 0        |                    |\n",
            "                 128 -> 255                  : 0        |                    |\n",
            "                 256 -> 511                  : 0        |                    |\n",
            "                 512 -> 1023                 : 0        |                    |\n",
            "                1024 -> 2047                 : 0        |                    |\n",
            "                2048 -> 4095                 : 0        |                    |\n",
            "                4096 -> 8191                 : 0        |                    |\n",
            "                8192 -> 16383                : 0        |                    |\n",
            "               16384 -> 32767                : 0        |                    |\n",
            "               32768 -> 65535                : 0        |                    |\n",
            "               65536 -> 131071               : 0        |                    |\n",
            "              131072 -> 262143               : 0        |                    |\n",
            "              262144 -> 524287               : 0        |                    |\n",
            "              524288 -> 1048575              : 0        |                    |\n",
            "             1048576 -> 2097151              : 40       |********************|\n",
            "             2097152 -> 4194303              : 0        |                    |\n",
            "             4194304 -> 8388607              : 0        |                    |\n",
            "             8388608 -> 16777215             : 0        |                    |\n",
            "            16777216 -> 33554431             : 0        |                    |\n",
            "            33554432 -> 67108863             : 0        |                    |\n",
            "            67108864 -> 134217727            : 0        |                    |\n",
            "           134217728 -> 268435455            : 0        |                    |\n",
            "           268435456 -> 536870911            : 0        |                    |\n",
            "           536870912 -> 1073741823           : 0        |                    |\n",
            "          1073741824 -> 2147483647           : 0        |                    |\n",
            "          2147483648 -> 4294967295           : 0        |                    |\n",
            "          4294967296 -> 8589934591           : 0        |                    |\n",
            "          8589934592 -> 17179869183          : 13       |******              |\n",
        );
        assert_eq!(
            printed(&Log2Hist::from_buckets(&buckets), "nsecs"),
            expected
        );
    }

    #[test]
    fn top_slot_prints_full_u64_range() {
        let mut h = Log2Hist::new();
        h.add(u64::MAX);
        let text = printed(&h, "nsecs");
        assert_eq!(text.lines().count(), 65);
        assert_eq!(
            text.lines().last().unwrap(),
            " 9223372036854775808 -> 18446744073709551615 : 1        |********************|"
        );
    }

    #[test]
    fn skip_leading_starts_at_first_nonempty() {
        let h = Log2Hist::from_buckets(&[0, 0, 0, 5, 0, 10]);
        let mut out = Vec::new();
        h.print_skip_leading(&mut out, "usecs").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "     usecs               : count    distribution\n\
             \x20        8 -> 15         : 5        |********************                    |\n\
             \x20       16 -> 31         : 0        |                                        |\n\
             \x20       32 -> 63         : 10       |****************************************|\n"
        );
    }

    #[test]
    fn empty_prints_nothing_like_bcc() {
        assert_eq!(printed(&Log2Hist::new(), "usecs"), "");
        assert_eq!(printed(&Log2Hist::from_buckets(&[0; 27]), "usecs"), "");
        let mut out = Vec::new();
        Log2Hist::new()
            .print_skip_leading(&mut out, "usecs")
            .unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn add_merge_total() {
        let mut a = Log2Hist::new();
        for v in [0, 1, 2, 3, 4, 100] {
            a.add(v);
        }
        assert_eq!(a.buckets(), &[2, 2, 1, 0, 0, 0, 1]);
        let b = Log2Hist::from_u32_buckets(&[1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0]);
        a.merge(&b);
        assert_eq!(a.buckets(), &[3, 2, 1, 0, 0, 0, 1, 0, 3]);
        assert_eq!(a.total(), 10);
        // Trailing zeros don't matter; slots past 63 fold into 63.
        assert_eq!(
            Log2Hist::from_buckets(&[1, 0, 0]),
            Log2Hist::from_buckets(&[1])
        );
        let mut long = vec![0u64; 70];
        long[63] = 1;
        long[69] = 2;
        assert_eq!(Log2Hist::from_buckets(&long).buckets()[63], 3);
        let mut full = Log2Hist::from_buckets(&[u64::MAX]);
        full.add(0);
        assert_eq!(full.total(), u64::MAX);
    }

    #[test]
    fn json_shape() {
        let h = Log2Hist::from_buckets(&[0, 0, 4, 0, 1, 0, 0]);
        let v = serde_json::to_string(&h.json("usecs")).unwrap();
        assert_eq!(
            v,
            r#"{"unit":"usecs","buckets":[{"low":4,"high":7,"count":4},{"low":8,"high":15,"count":0},{"low":16,"high":31,"count":1}]}"#
        );
        let v = serde_json::to_string(&Log2Hist::from_buckets(&[2]).json("msecs")).unwrap();
        assert_eq!(
            v,
            r#"{"unit":"msecs","buckets":[{"low":0,"high":1,"count":2}]}"#
        );
        let v = serde_json::to_string(&Log2Hist::new().json("usecs")).unwrap();
        assert_eq!(v, r#"{"unit":"usecs","buckets":[]}"#);
    }

    #[test]
    fn percentiles_on_known_data() {
        let mut s = LatencySummary::new();
        for v in 1..=1000 {
            s.record(v);
        }
        assert_eq!(s.count(), 1000);
        assert_eq!(s.min(), 1);
        assert_eq!(s.max(), 1000);
        assert_eq!(s.mean(), 500.5);
        // Below 2048, 3 significant figures keep every value exact.
        assert_eq!(s.percentile(50.0), 500);
        assert_eq!(s.percentile(90.0), 900);
        assert_eq!(s.percentile(99.0), 990);
        assert_eq!(s.percentile(100.0), 1000);
        assert_eq!(s.percentile(0.0), 1);

        // Large values: within 0.1%, and never above the exact max.
        let mut s = LatencySummary::new();
        s.record_n(10_200_000, 99);
        s.record(31_400_000);
        let p50 = s.percentile(50.0);
        assert!((10_200_000..=10_210_200).contains(&p50), "{p50}");
        assert_eq!(s.max(), 31_400_000);
        assert_eq!(s.percentile(100.0), 31_400_000);
        assert_eq!(s.min(), 10_200_000);
        s.record_n(5, 0);
        assert_eq!((s.count(), s.min()), (100, 10_200_000));
    }

    #[test]
    fn merge_and_empty_summary() {
        let mut a = LatencySummary::new();
        let mut b = LatencySummary::new();
        a.record(10);
        b.record_n(30, 3);
        b.record(u64::MAX);
        a.merge(&b);
        a.merge(&LatencySummary::new());
        assert_eq!(a.count(), 5);
        assert_eq!((a.min(), a.max()), (10, u64::MAX));
        assert_eq!(a.percentile(50.0), 30);

        let e = LatencySummary::new();
        assert_eq!(
            (e.count(), e.min(), e.max(), e.percentile(99.0)),
            (0, 0, 0, 0)
        );
        assert_eq!(e.mean(), 0.0);
        assert_eq!(e.line(Unit::Usecs).to_string(), "count 0");
    }

    #[test]
    fn summary_json_shape() {
        let mut s = LatencySummary::new();
        for v in [10, 20, 30, 40] {
            s.record(v);
        }
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"count":4,"min":10,"mean":25.0,"p50":20,"p90":40,"p99":40,"max":40}"#
        );
        assert_eq!(
            serde_json::to_string(&LatencySummary::new()).unwrap(),
            r#"{"count":0,"min":0,"mean":0.0,"p50":0,"p90":0,"p99":0,"max":0}"#
        );
    }

    #[test]
    fn summary_line() {
        let mut s = LatencySummary::new();
        s.record_n(10_200, 900);
        s.record_n(12_900, 90);
        s.record_n(15_000, 9);
        s.record(31_400);
        assert_eq!(
            s.line(Unit::Usecs).to_string(),
            "count 1000  p50 10.2ms  p90 10.2ms  p99 12.9ms  max 31.4ms"
        );
        let mut s = LatencySummary::new();
        s.record(4);
        assert_eq!(
            s.line(Unit::Other("kbytes")).to_string(),
            "count 1  p50 4 kbytes  p90 4 kbytes  p99 4 kbytes  max 4 kbytes"
        );
    }

    #[test]
    fn human_units() {
        let cases = [
            (Unit::Nsecs, 0, "0ns"),
            (Unit::Nsecs, 999, "999ns"),
            (Unit::Nsecs, 1000, "1.00us"),
            (Unit::Nsecs, 10_249, "10.2us"),
            (Unit::Nsecs, 999_499, "999us"),
            (Unit::Nsecs, 999_500, "1.00ms"),
            (Unit::Usecs, 850, "850us"),
            (Unit::Usecs, 123_456, "123ms"),
            (Unit::Usecs, 1_500_000, "1.50s"),
            (Unit::Msecs, 9_994, "9.99s"),
            (Unit::Msecs, 9_996, "10.0s"),
            (Unit::Msecs, 5_000_000, "5000s"),
            (Unit::Secs, 12_345, "12345s"),
            (Unit::Other(""), 7, "7"),
        ];
        for (unit, v, want) in cases {
            assert_eq!(unit.human(v).to_string(), want, "{unit:?} {v}");
        }
        assert_eq!(Unit::Usecs.label(), "usecs");
    }

    #[test]
    fn summary_from_log2_buckets_within_bound() {
        // Each value's estimate is its bucket's midpoint: 1.5 * 2^i.
        let values: Vec<u64> = (0..5000u64).map(|i| 3 + i * i % 100_000).collect();
        let mut h = Log2Hist::new();
        let mut exact = LatencySummary::new();
        for &v in &values {
            h.add(v);
            exact.record(v);
        }
        let approx = LatencySummary::from_log2_hist(&h);
        assert_eq!(approx.count(), exact.count());
        // (0.75, 1.5], widened by HDR's 0.1% on either side.
        let within =
            |est: f64, truth: f64| est / truth > 0.75 / 1.001 && est / truth <= 1.5 * 1.001;
        for p in [1.0, 10.0, 50.0, 90.0, 99.0, 100.0] {
            let (e, t) = (approx.percentile(p) as f64, exact.percentile(p) as f64);
            assert!(within(e, t), "p{p}: {e} vs {t}");
        }
        assert!(within(approx.mean(), exact.mean()));
        assert!(within(approx.max() as f64, exact.max() as f64));
        assert!(within(approx.min() as f64, exact.min() as f64));

        let h = Log2Hist::from_buckets(&[2, 0, 3]);
        let s = LatencySummary::from_log2_hist(&h);
        assert_eq!((s.min(), s.max(), s.count()), (1, 6, 5));
        let mut top = Log2Hist::new();
        top.add(u64::MAX);
        assert_eq!(LatencySummary::from_log2_hist(&top).max(), 3 << 62);
    }
}
