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
        // SAFETY: mapping a map fd we hold, at offset 0, for `len` bytes
        // the map has (the caller computed them from its size).
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                map.fd().as_fd().as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(Error::Io(
                format!("mapping {what}"),
                std::io::Error::last_os_error(),
            ));
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

/// Where one committed record is, and its time, for merging.
#[derive(Clone, Copy)]
struct Pending {
    ts_ns: u64,
    offset: usize,
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
    /// Each CPU's next slot to read: ahead of its published tail while a
    /// batch is being delivered.
    next: Vec<u64>,
    batch: Vec<Pending>,
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
        let records_map =
            Mapping::new(&records, page_round(entries * stride), false, "CPU_RECORDS")?;
        let heads_map = Mapping::new(&heads, page_round(words * 8), true, "CPU_HEADS")?;
        let next = (0..cpus)
            .map(|cpu| heads_map.word(Self::tail_at(cpu)).load(Ordering::Acquire))
            .collect();
        Ok(CpuRecords {
            records: records_map,
            heads: heads_map,
            cpus,
            slots,
            stride,
            record_len: value_size - 8,
            next,
            batch: Vec::new(),
        })
    }

    fn tail_at(cpu: usize) -> usize {
        (cpu * WORDS_PER_CPU as usize + TAIL as usize) * 8
    }

    fn slot_at(&self, cpu: usize, n: u64) -> usize {
        (cpu * self.slots as usize + (n & (self.slots - 1)) as usize) * self.stride
    }

    /// Takes up to `max` committed records, oldest first across CPUs
    /// (each CPU's in the order they were taken), and hands each to
    /// `deliver`; then frees their slots for the writers. A record whose
    /// writer is still busy ends its CPU's batch: it comes next time.
    pub fn drain<E>(
        &mut self,
        max: usize,
        mut deliver: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<usize, E> {
        self.batch.clear();
        for cpu in 0..self.cpus {
            let mut n = self.next[cpu];
            while self.batch.len() < max {
                let at = self.slot_at(cpu, n);
                // Acquire: the record's bytes are complete once seq says so.
                if self.records.word(at).load(Ordering::Acquire) != n.wrapping_add(1) {
                    break;
                }
                // Every record starts with an `EventHeader`, its time first.
                let ts_ns = self.records.word(at + 8).load(Ordering::Relaxed);
                self.batch.push(Pending {
                    ts_ns,
                    offset: at + 8,
                });
                n += 1;
            }
            self.next[cpu] = n;
        }
        // Stable: records of one CPU with one time keep their order.
        self.batch.sort_by_key(|p| p.ts_ns);
        let mut result = Ok(self.batch.len());
        for p in &self.batch {
            // SAFETY: in the mapping; the slot stays ours until the tail
            // below passes it.
            let rec = unsafe {
                std::slice::from_raw_parts(self.records.ptr.as_ptr().add(p.offset), self.record_len)
            };
            if let Err(e) = deliver(rec) {
                result = Err(e);
                break;
            }
        }
        // Even after a failed delivery: the loop is ending, and writers
        // should not count losses for records it already took.
        for cpu in 0..self.cpus {
            self.heads
                .word(Self::tail_at(cpu))
                .store(self.next[cpu], Ordering::Release);
        }
        result
    }
}
