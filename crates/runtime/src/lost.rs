//! Lost-event accounting: the kernel programs count, per CPU and per
//! reason, every event they could not deliver; this sums them, with the
//! runs the kernel itself skipped (`LostReason::Skipped`).

use std::{
    cell::Cell,
    io,
    os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd},
};

use aya::maps::{MapData, PerCpuArray};
use ebpftop_common::LostReason;

use crate::Error;

struct Watched {
    name: &'static str,
    via: Option<&'static str>,
    fd: OwnedFd,
    before: u64,
}

pub struct LostCounter {
    map: PerCpuArray<MapData, u64>,
    /// The attached programs: by name, the starter that runs them (a
    /// shared hook's), the program the kernel counts (that starter, else
    /// the program itself), and the runs it had skipped before ours.
    programs: Vec<Watched>,
    reported: [u64; LostReason::COUNT as usize],
    /// Runs user space found the programs did not count, and the reason
    /// to report them under (see [`LostCounter::set_unseen`]).
    unseen: Option<(LostReason, u64)>,
    /// The part of those reported so far: it never goes down.
    unseen_reported: Cell<u64>,
}

/// A program's run statistics, as the kernel keeps them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProgramStats {
    /// Runs: counted only while `kernel.bpf_stats_enabled` is on.
    pub runs: u64,
    /// Runs skipped because they would have nested in another run on the
    /// same CPU (Linux 5.12 and later; 0 before).
    pub skipped: u64,
}

/// A watched program's name, the starter it is counted at (a shared
/// hook's), and its statistics.
pub type WatchedStats = (&'static str, Option<&'static str>, ProgramStats);

/// `struct bpf_prog_info` (linux/bpf.h) up to `recursion_misses`. A shorter
/// struct than the kernel's is allowed: it fills what fits.
#[repr(C, align(8))]
struct ProgInfo {
    _head: [u8; 192],
    _run_time_ns: u64,
    run_cnt: u64,
    recursion_misses: u64,
}

/// `union bpf_attr` for `BPF_OBJ_GET_INFO_BY_FD`.
#[repr(C, align(8))]
struct InfoByFd {
    bpf_fd: u32,
    info_len: u32,
    info: u64,
}

const BPF_OBJ_GET_INFO_BY_FD: libc::c_long = 15;

/// How many runs of the program behind `fd` the kernel has skipped.
pub fn program_skipped(fd: BorrowedFd<'_>) -> io::Result<u64> {
    program_stats(fd).map(|s| s.skipped)
}

/// Fills `info` (a prefix of the kernel's info struct for the object
/// behind `fd`, all zeros, which also asks for no arrays) as far as it
/// goes.
pub(crate) fn object_info<T>(fd: BorrowedFd<'_>, info: &mut T) -> io::Result<()> {
    let attr = InfoByFd {
        bpf_fd: fd.as_raw_fd() as u32,
        info_len: size_of::<T>() as u32,
        info: (info as *mut T) as u64,
    };
    // The kernel writes at most `info_len` bytes into `info`.
    crate::sys::bpf(BPF_OBJ_GET_INFO_BY_FD, &attr).map(drop)
}

/// The run statistics of the program behind `fd`.
fn program_stats(fd: BorrowedFd<'_>) -> io::Result<ProgramStats> {
    // SAFETY: plain data, all zeros valid.
    let mut info: ProgInfo = unsafe { std::mem::zeroed() };
    object_info(fd, &mut info)?;
    Ok(ProgramStats {
        runs: info.run_cnt,
        skipped: info.recursion_misses,
    })
}

impl LostCounter {
    pub fn new(map: PerCpuArray<MapData, u64>) -> Self {
        LostCounter {
            map,
            programs: Vec::new(),
            reported: [0; LostReason::COUNT as usize],
            unseen: None,
            unseen_reported: Cell::new(0),
        }
    }

    /// Counts the runs the kernel skips of `name`, through the program
    /// behind `fd` (the shared hook's starter `via`, which runs it, or
    /// itself), as lost, beyond the `before` that had skipped already.
    pub fn watch_program(
        &mut self,
        name: &'static str,
        via: Option<&'static str>,
        fd: OwnedFd,
        before: u64,
    ) {
        self.programs.push(Watched {
            name,
            via,
            fd,
            before,
        });
    }

    /// Sets how many runs since load user space found the programs did not
    /// count (the kernel's own count less theirs, as with
    /// [`LostReason::NotRun`]). Only the part beyond the losses counted
    /// for other reasons is reported under `reason`, as those runs went
    /// uncounted too; what was once reported stays reported.
    pub fn set_unseen(&mut self, reason: LostReason, total: u64) {
        let before = self.unseen.map_or(0, |(_, t)| t);
        self.unseen = Some((reason, before.max(total)));
    }

    /// Each watched program's statistics, with the starter they are
    /// counted at (a shared hook's).
    pub fn program_stats(&self) -> Result<Vec<WatchedStats>, Error> {
        self.programs
            .iter()
            .map(|w| {
                program_stats(w.fd.as_fd())
                    .map(|s| {
                        let skipped = s.skipped.saturating_sub(w.before);
                        (w.name, w.via, ProgramStats { skipped, ..s })
                    })
                    .map_err(|e| Error::Io(format!("reading the statistics of {}", w.name), e))
            })
            .collect()
    }

    /// Logs each program's statistics (shown with `--verbose`).
    pub fn log_programs(&self) {
        match self.program_stats() {
            Ok(all) => {
                for (name, via, s) in all {
                    // The starter runs every program of the chain once a
                    // run; its runs counted include those before ours.
                    let at = via.map_or(String::new(), |v| {
                        format!(
                            ", counted at {v}, the chain's starter (runs since it was loaded, \
                             skipped runs since our program went in)"
                        )
                    });
                    log::info!(
                        "program {name}: {} runs skipped by the kernel (nested), {} runs counted \
                         (while kernel.bpf_stats_enabled is on){at}",
                        s.skipped,
                        s.runs
                    );
                }
            }
            Err(e) => log::info!("{e}"),
        }
    }

    /// Totals since load, per reason.
    pub fn totals(&self) -> Result<[u64; LostReason::COUNT as usize], Error> {
        let mut out = [0; LostReason::COUNT as usize];
        // An object built before the last reason was added has fewer slots.
        let slots = self.map.len();
        for reason in LostReason::ALL.into_iter().take(slots as usize) {
            let values = self
                .map
                .get(&(reason as u32), 0)
                .map_err(|e| Error::Map(format!("reading LOST: {e}")))?;
            out[reason as usize] = values.iter().sum();
        }
        for (_, _, stats) in self.program_stats()? {
            out[LostReason::Skipped as usize] += stats.skipped;
        }
        if let Some((reason, unseen)) = self.unseen {
            let known: u64 = out.iter().sum();
            let beyond = unseen.saturating_sub(known).max(self.unseen_reported.get());
            self.unseen_reported.set(beyond);
            out[reason as usize] += beyond;
        }
        Ok(out)
    }

    /// Losses not yet reported, per reason; marks them reported.
    pub fn take_new(&mut self) -> Result<Vec<(LostReason, u64)>, Error> {
        let totals = self.totals()?;
        let mut out = Vec::new();
        for reason in LostReason::ALL {
            let i = reason as usize;
            if totals[i] > self.reported[i] {
                out.push((reason, totals[i] - self.reported[i]));
                self.reported[i] = totals[i];
            }
        }
        Ok(out)
    }
}
