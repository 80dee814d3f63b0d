//! The BPF view's collector: every program loaded on the system, with run
//! counts and times while that view is shown.
//!
//! Run-time statistics cost every BPF program two clock reads per run, so
//! they are on only while the view needs them: through BPF_ENABLE_STATS,
//! whose fd turns them off again when closed (also when ebpftop is killed),
//! or, on kernels before 5.8, by writing kernel.bpf_stats_enabled and
//! restoring its old value.

use std::{collections::HashSet, fs, os::fd::OwnedFd};

use aya::{
    programs::loaded_programs,
    sys::{Stats, enable_stats},
};

use crate::model::BpfProgram;

const SYSCTL: &str = "/proc/sys/kernel/bpf_stats_enabled";

enum Enabled {
    Fd(#[allow(dead_code)] OwnedFd),
    /// The sysctl's value before we set it.
    Sysctl(String),
}

#[derive(Default)]
pub struct BpfStats {
    enabled: Option<Enabled>,
    /// Ids of the programs this dashboard loaded.
    pub own: HashSet<u32>,
}

impl BpfStats {
    /// Turns run-time statistics on or off; `Err` says why they could not
    /// be turned on (the view then shows programs without rates).
    pub fn want(&mut self, on: bool) -> Result<(), String> {
        match (on, self.enabled.is_some()) {
            (true, false) => {
                self.enabled = Some(match enable_stats(Stats::RunTime) {
                    Ok(fd) => Enabled::Fd(fd),
                    Err(e) => {
                        let old = fs::read_to_string(SYSCTL)
                            .map_err(|_| format!("cannot enable BPF run-time statistics: {e}"))?;
                        fs::write(SYSCTL, "1").map_err(|w| {
                            format!("cannot enable BPF run-time statistics: {e}; {SYSCTL}: {w}")
                        })?;
                        Enabled::Sysctl(old.trim().to_string())
                    }
                });
                log::info!("BPF run-time statistics on");
            }
            (false, true) => {
                self.restore();
                log::info!("BPF run-time statistics off");
            }
            _ => {}
        }
        Ok(())
    }

    fn restore(&mut self) {
        if let Some(Enabled::Sysctl(old)) = self.enabled.take()
            && let Err(e) = fs::write(SYSCTL, &old)
        {
            log::warn!("restoring {SYSCTL} to {old}: {e}");
        }
    }

    /// Every program loaded now.
    pub fn read(&self) -> Vec<BpfProgram> {
        let on = self.enabled.is_some();
        let mut programs: Vec<BpfProgram> = loaded_programs()
            .filter_map(Result::ok)
            .map(|info| BpfProgram {
                id: info.id(),
                kind: kind_name(&format!("{:?}", info.program_type())),
                name: info.name_as_str().unwrap_or("").to_string(),
                run_count: on.then(|| info.run_count()),
                run_time_ns: on.then(|| info.run_time().as_nanos() as u64),
                ours: self.own.contains(&info.id()),
            })
            .collect();
        programs.sort_by_key(|p| p.id);
        programs
    }
}

impl Drop for BpfStats {
    fn drop(&mut self) {
        self.restore();
    }
}

/// `BPF_PROG_TYPE_RAW_TRACEPOINT` as `raw_tracepoint`.
fn kind_name(debug: &str) -> String {
    debug
        .strip_prefix("BPF_PROG_TYPE_")
        .unwrap_or(debug)
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    #[test]
    fn kinds_read_like_bpftool() {
        assert_eq!(super::kind_name("BPF_PROG_TYPE_TRACEPOINT"), "tracepoint");
        assert_eq!(super::kind_name("Other"), "other");
    }
}
