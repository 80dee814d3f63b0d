//! Reading a tool's per-CPU record areas (`CPU_RECORDS`, `CPU_HEADS`; the
//! protocol is in `ebpftop_common::cpu_records`): both maps mapped into
//! memory, each CPU's committed records taken in order, all CPUs' merged
//! by time, and each CPU's tail moved past them once they are delivered.

use std::{
    os::fd::{AsFd, AsRawFd},
    ptr::NonNull,
    sync::atomic::{AtomicU64, Ordering},
};

use aya::maps::MapData;
use ebpftop_common::cpu_records::{TAIL, WORDS_PER_CPU};

use crate::Error;

/// A shared mapping of an mmapable array map.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(map: &MapData, len: usize, writable: bool, what: &str) -> Result<Self, Error> {
        let prot = if writable {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let fd = map.fd().as_fd().as_raw_fd();
        Self::mmap(len, prot, libc::MAP_SHARED, fd)
            .map_err(|e| Error::Io(format!("mapping {what}"), e))
    }

    /// Zeroed private memory standing in for a map, for tests.
    #[cfg(test)]
    fn anonymous(len: usize) -> Self {
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        Self::mmap(len, libc::PROT_READ | libc::PROT_WRITE, flags, -1).unwrap()
    }

    /// `len` bytes of `fd` (a map we hold, sized by the caller from the
    /// map's own size) or of anonymous memory, at offset 0.
    fn mmap(len: usize, prot: i32, flags: i32, fd: i32) -> std::io::Result<Self> {
        // SAFETY: a fresh mapping, of bytes the map has; unmapped on drop.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, fd, 0) };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Mapping {
            ptr: NonNull::new(ptr.cast()).expect("mmap returned NULL without failing"),
            len,
        })
    }

    /// The u64 at byte `offset`, as an atomic: the kernel writes it too.
    fn word(&self, offset: usize) -> &AtomicU64 {
        assert!(offset.is_multiple_of(8) && offset + 8 <= self.len);
        // SAFETY: in bounds and aligned (checked), the mapping lives as
        // long as `self`; the kernel only writes it as a whole u64.
        unsafe { AtomicU64::from_ptr(self.ptr.as_ptr().add(offset).cast()) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// A tool's per-CPU record areas, mapped.
pub struct CpuRecords {
    records: Mapping,
    heads: Mapping,
    cpus: usize,
    slots: u64,
    /// Bytes from one slot to the next (the value size, rounded to 8).
    stride: usize,
    /// Bytes of the record in a slot, after its `seq`.
    record_len: usize,
    /// Each CPU's tail: the next slot to read.
    next: Vec<u64>,
    /// Each CPU's committed records past its tail, as (time, offset).
    runs: Vec<Vec<(u64, usize)>>,
}
// SAFETY: the mappings are plain shared memory, owned by this value.
unsafe impl Send for CpuRecords {}

fn page_round(n: usize) -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    n.div_ceil(page) * page
}

impl CpuRecords {
    /// Maps `records` (`CPU_RECORDS`) and `heads` (`CPU_HEADS`), as the
    /// loader sized them: `WORDS_PER_CPU` head words and the same number
    /// of slots for every CPU.
    pub fn new(records: MapData, heads: MapData) -> Result<Self, Error> {
        let info = |m: &MapData, what: &str| {
            m.info()
                .map_err(|e| Error::Map(format!("{what}: {e}")))
                .map(|i| (i.value_size() as usize, i.max_entries() as usize))
        };
        let (value_size, entries) = info(&records, "CPU_RECORDS")?;
        let (word_size, words) = info(&heads, "CPU_HEADS")?;
        let cpus = words / WORDS_PER_CPU as usize;
        if word_size != 8 || value_size <= 8 || cpus == 0 || !entries.is_multiple_of(cpus) {
            return Err(Error::Map(format!(
                "CPU_RECORDS ({entries} x {value_size} bytes) and CPU_HEADS ({words} x \
                 {word_size} bytes) do not describe per-CPU areas"
            )));
        }
        let slots = (entries / cpus) as u64;
        if !slots.is_power_of_two() {
            return Err(Error::Map(format!("CPU_RECORDS: {slots} slots per CPU")));
        }
        let stride = value_size.next_multiple_of(8);
        let bytes = entries
            .checked_mul(stride)
            .ok_or_else(|| Error::Map(format!("CPU_RECORDS: {entries} x {stride} bytes")))?;
        let records_map = Mapping::new(&records, page_round(bytes), false, "CPU_RECORDS")?;
        let heads_map = Mapping::new(&heads, page_round(words * 8), true, "CPU_HEADS")?;
        Ok(Self::with_mappings(
            records_map,
            heads_map,
            cpus,
            slots,
            value_size,
        ))
    }

    fn with_mappings(
        records: Mapping,
        heads: Mapping,
        cpus: usize,
        slots: u64,
        value_size: usize,
    ) -> Self {
        let next = (0..cpus)
            .map(|cpu| heads.word(Self::tail_at(cpu)).load(Ordering::Acquire))
            .collect();
        CpuRecords {
            records,
            heads,
            cpus,
            slots,
            stride: value_size.next_multiple_of(8),
            record_len: value_size - 8,
            next,
            runs: vec![Vec::new(); cpus],
        }
    }

    fn tail_at(cpu: usize) -> usize {
        (cpu * WORDS_PER_CPU as usize + TAIL as usize) * 8
    }

    fn slot_at(&self, cpu: usize, n: u64) -> usize {
        (cpu * self.slots as usize + (n & (self.slots - 1)) as usize) * self.stride
    }

    /// Delivers up to `max` committed records to `deliver`, merging the
    /// CPUs' runs by time (each CPU's in the order its slots were taken),
    /// then frees the delivered slots for the writers. A record whose
    /// writer is still busy ends its CPU's run: it comes next time.
    pub fn drain<E>(
        &mut self,
        max: usize,
        mut deliver: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        for cpu in 0..self.cpus {
            let mut run = std::mem::take(&mut self.runs[cpu]);
            run.clear();
            let mut n = self.next[cpu];
            while run.len() < max {
                let at = self.slot_at(cpu, n);
                // Acquire: the record's bytes are complete once seq says so.
                if self.records.word(at).load(Ordering::Acquire) != n.wrapping_add(1) {
                    break;
                }
                // Every record starts with an `EventHeader`, its time first.
                let ts_ns = self.records.word(at + 8).load(Ordering::Relaxed);
                run.push((ts_ns, at + 8));
                n += 1;
            }
            // Reversed: the oldest pops off the end.
            run.reverse();
            self.runs[cpu] = run;
        }
        let mut delivered = 0;
        let mut result = Ok(());
        while delivered < max {
            let Some(cpu) = (0..self.cpus)
                .filter(|&c| !self.runs[c].is_empty())
                .min_by_key(|&c| self.runs[c].last().map(|r| r.0))
            else {
                break;
            };
            let (_, offset) = self.runs[cpu].pop().expect("a run that is not empty");
            // SAFETY: in the mapping; the slot stays ours until the tail
            // below passes it.
            let rec = unsafe {
                std::slice::from_raw_parts(self.records.ptr.as_ptr().add(offset), self.record_len)
            };
            if let Err(e) = deliver(rec) {
                result = Err(e);
                break;
            }
            self.next[cpu] += 1;
            delivered += 1;
        }
        // Only what was delivered: the rest stays for next time.
        for cpu in 0..self.cpus {
            self.heads
                .word(Self::tail_at(cpu))
                .store(self.next[cpu], Ordering::Release);
        }
        result.map(|()| delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOTS: u64 = 4;
    /// seq, then a record of a time and one more word.
    const VALUE: usize = 24;

    fn areas(cpus: usize) -> CpuRecords {
        let records = Mapping::anonymous(cpus * SLOTS as usize * VALUE);
        let heads = Mapping::anonymous(cpus * WORDS_PER_CPU as usize * 8);
        CpuRecords::with_mappings(records, heads, cpus, SLOTS, VALUE)
    }

    /// What a writer on `cpu` does for its `n`th record.
    fn write(a: &CpuRecords, cpu: usize, n: u64, ts: u64, commit: bool) {
        let at = a.slot_at(cpu, n);
        a.records.word(at + 8).store(ts, Ordering::Relaxed);
        a.records.word(at + 16).store(cpu as u64, Ordering::Relaxed);
        if commit {
            a.records.word(at).store(n + 1, Ordering::Release);
        }
    }

    fn take(a: &mut CpuRecords, max: usize) -> Vec<(u64, u64)> {
        let mut got = Vec::new();
        a.drain::<()>(max, |r| {
            let w = |i: usize| u64::from_ne_bytes(r[i..i + 8].try_into().unwrap());
            got.push((w(0), w(8)));
            Ok(())
        })
        .unwrap();
        got
    }

    fn tail(a: &CpuRecords, cpu: usize) -> u64 {
        a.heads
            .word(CpuRecords::tail_at(cpu))
            .load(Ordering::Relaxed)
    }

    #[test]
    fn merges_cpus_by_time_and_frees_only_what_it_delivered() {
        let mut a = areas(2);
        write(&a, 0, 0, 10, true);
        write(&a, 0, 1, 30, true);
        write(&a, 1, 0, 20, true);
        write(&a, 1, 1, 40, true);
        assert_eq!(take(&mut a, 3), [(10, 0), (20, 1), (30, 0)]);
        assert_eq!((tail(&a, 0), tail(&a, 1)), (2, 1));
        assert_eq!(take(&mut a, 10), [(40, 1)]);
        assert_eq!((tail(&a, 0), tail(&a, 1)), (2, 2));
        assert!(take(&mut a, 10).is_empty());
    }

    #[test]
    fn waits_for_a_slot_still_being_written() {
        let mut a = areas(1);
        write(&a, 0, 0, 10, true);
        write(&a, 0, 1, 20, false);
        write(&a, 0, 2, 30, true);
        assert_eq!(take(&mut a, 10), [(10, 0)]);
        write(&a, 0, 1, 20, true);
        assert_eq!(take(&mut a, 10), [(20, 0), (30, 0)]);
        assert_eq!(tail(&a, 0), 3);
    }

    #[test]
    fn slots_are_reused_lap_after_lap() {
        let mut a = areas(1);
        for n in 0..3 * SLOTS {
            write(&a, 0, n, n, true);
            assert_eq!(take(&mut a, 10), [(n, 0)]);
        }
        // A slot from the last lap is not taken for one of this lap.
        assert!(take(&mut a, 10).is_empty());
    }

    #[test]
    fn a_failed_delivery_frees_nothing_it_did_not_deliver() {
        let mut a = areas(1);
        write(&a, 0, 0, 10, true);
        write(&a, 0, 1, 20, true);
        let mut calls = 0;
        let r = a.drain(10, |_| {
            calls += 1;
            if calls == 2 { Err("gone") } else { Ok(()) }
        });
        assert_eq!(r, Err("gone"));
        assert_eq!(tail(&a, 0), 1);
    }
}
