//! What the kernel half attaches to, the globals it needs, and reading
//! what it aggregated into plain Rust values: shared by the runqlat
//! command and the dashboard.

use anyhow::Context as _;
use std::{
    collections::HashMap as StdHashMap,
    fs, io,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use aya::{
    Ebpf,
    maps::{HashMap, MapData, PerCpuArray},
};
use ebpftop_cli::Cumulative;
use ebpftop_common::runqlat::{RunqKey, RunqLatency, RunqlatConfig, StolenKey, WaitTotal};
use ebpftop_runtime::sched::{SchedGlobals, classic_layout_ok};
use ebpftop_runtime::{ToolObject, embedded_object, filter::cgroup2_mount};

// tp_btf first (no trace record is built, task fields are direct loads),
// then raw tracepoints (task fields through a helper); the classic ones
// carry only thread ids.
ebpftop_runtime::sched_hooks!("runqlat");

/// The kernel half; `raw_only` leaves out the classic tracepoints.
pub fn object(raw_only: bool) -> ToolObject {
    ToolObject {
        tool: "runqlat",
        bytes: embedded_object!("runqlat"),
        hooks: if raw_only { HOOKS_RAW } else { HOOKS },
    }
}

/// The name of the configuration global, for [`Globals::to_globals`].
pub const CONFIG_GLOBAL: &str = "RUNQLAT";

/// The read-only globals of the kernel half.
pub type Globals = SchedGlobals<RunqlatConfig>;

/// Whether `config` (or a filter on pid or cgroup, `filtered`) needs the
/// woken and switched-in tasks' `task_struct`, which only raw tracepoints
/// give.
pub fn needs_task(config: &RunqlatConfig, filtered: bool) -> bool {
    filtered
        || config.preemptors != RunqlatConfig::GROUP_OFF
        || !matches!(config.key, RunqlatConfig::KEY_NONE | RunqlatConfig::KEY_TID)
}

/// The object to load and its globals. The struct offsets come from the
/// kernel's BTF; without them (or when `needs_task` is false and raw
/// tracepoints fail) the classic tracepoints serve the views that need
/// only thread ids.
pub fn kernel_half(
    config: RunqlatConfig,
    needs_task: bool,
) -> anyhow::Result<(ToolObject, Globals)> {
    let globals = Globals::resolve(config, needs_task).context("resolving task_struct offsets")?;
    Ok((object(needs_task || !classic_layout_ok()), globals))
}

pub use ebpftop_cli::Latencies;

impl Cumulative for WaitTotalDelta {
    fn since(&self, e: &Self) -> Self {
        WaitTotalDelta(WaitTotal {
            wait_ns: self.0.wait_ns.saturating_sub(e.0.wait_ns),
            count: self.0.count.saturating_sub(e.0.count),
        })
    }

    fn is_zero(&self) -> bool {
        self.0.count == 0
    }
}

/// A [`WaitTotal`] that can be diffed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTotalDelta(pub WaitTotal);

/// Nanoseconds that only grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Nanos(pub u64);

impl Cumulative for Nanos {
    fn since(&self, e: &Self) -> Self {
        Nanos(self.0.saturating_sub(e.0))
    }

    fn is_zero(&self) -> bool {
        self.0 == 0
    }
}

/// The maps of a loaded runqlat object.
pub struct RunqlatMaps {
    system: PerCpuArray<MapData, RunqLatency>,
    keyed: HashMap<MapData, RunqKey, RunqLatency>,
    waits: HashMap<MapData, u64, WaitTotal>,
    stolen: HashMap<MapData, StolenKey, u64>,
}

fn take<T: TryFrom<aya::maps::Map, Error = aya::maps::MapError>>(
    ebpf: &mut Ebpf,
    name: &str,
) -> anyhow::Result<T> {
    let map = ebpf
        .take_map(name)
        .ok_or_else(|| anyhow::anyhow!("the runqlat object has no {name} map"))?;
    Ok(T::try_from(map)?)
}

impl RunqlatMaps {
    /// Takes the maps out of a loaded object.
    pub fn take(ebpf: &mut Ebpf) -> anyhow::Result<RunqlatMaps> {
        Ok(RunqlatMaps {
            system: take(ebpf, "SYSTEM")?,
            keyed: take(ebpf, "LATENCIES")?,
            waits: take(ebpf, "WAITS")?,
            stolen: take(ebpf, "STOLEN")?,
        })
    }

    /// The system-wide histogram since load, summed over CPUs.
    pub fn system(&self) -> io::Result<Latencies> {
        let per_cpu = self.system.get(&0, 0).map_err(io::Error::other)?;
        let mut total = Latencies::zero();
        for v in per_cpu.iter() {
            total.add(&Latencies::from(v));
        }
        Ok(total)
    }

    /// Every keyed histogram (by the configured key) since it was created.
    pub fn keyed(&self) -> io::Result<Vec<(RunqKey, Latencies)>> {
        self.keyed
            .iter()
            .map(|r| {
                r.map(|(k, v)| (k, Latencies::from(&v)))
                    .map_err(io::Error::other)
            })
            .collect()
    }

    /// Deletes a keyed histogram (of a process long gone).
    pub fn remove_keyed(&mut self, key: &RunqKey) -> bool {
        self.keyed.remove(key).is_ok()
    }

    /// `--preemptors`: waits by victim group since load.
    pub fn waits(&self) -> io::Result<Vec<(u64, WaitTotalDelta)>> {
        self.waits
            .iter()
            .map(|r| {
                r.map(|(k, v)| (k, WaitTotalDelta(v)))
                    .map_err(io::Error::other)
            })
            .collect()
    }

    /// `--preemptors`: stolen time by (victim, preemptor) since load.
    pub fn stolen(&self) -> io::Result<Vec<(StolenKey, Nanos)>> {
        self.stolen
            .iter()
            .map(|r| r.map(|(k, v)| (k, Nanos(v))).map_err(io::Error::other))
            .collect()
    }
}

/// What the dashboard's Scheduler view shows: the system-wide run-queue
/// latency histogram and each cgroup's percentiles, from an object loaded
/// with [`RunqlatConfig::KEY_CGROUP`]. Values are in the object's unit.
#[derive(Clone, Debug)]
pub struct SchedulerSnapshot {
    pub system: Latencies,
    pub cgroups: Vec<CgroupLatency>,
}

#[derive(Clone, Debug)]
pub struct CgroupLatency {
    pub cgroup_id: u64,
    /// Its path under the cgroup v2 mount (`/system.slice/x.service`), when found.
    pub path: Option<String>,
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// Reads the current (cumulative) histograms once; `names` resolves
/// cgroup ids to paths and is refreshed when it meets an unknown id.
pub fn scheduler_snapshot(
    maps: &RunqlatMaps,
    names: &mut CgroupNames,
) -> io::Result<SchedulerSnapshot> {
    let system = maps.system()?;
    let mut cgroups: Vec<CgroupLatency> = maps
        .keyed()?
        .into_iter()
        .map(|(k, l)| {
            let s = l.summary();
            CgroupLatency {
                cgroup_id: k.id,
                path: names.path(k.id),
                count: l.count,
                p50: s.percentile(50.0),
                p99: s.percentile(99.0),
                max: s.max(),
            }
        })
        .collect();
    cgroups.sort_by(|a, b| b.p99.cmp(&a.p99).then(a.cgroup_id.cmp(&b.cgroup_id)));
    Ok(SchedulerSnapshot { system, cgroups })
}

/// cgroup v2 ids (directory inode numbers) to paths under the mount.
#[derive(Default)]
pub struct CgroupNames {
    mount: Option<PathBuf>,
    by_id: StdHashMap<u64, String>,
    /// Ids a rescan did not find (cgroups since removed).
    missing: std::collections::HashSet<u64>,
}

impl CgroupNames {
    pub fn new() -> CgroupNames {
        CgroupNames {
            mount: cgroup2_mount(),
            ..CgroupNames::default()
        }
    }

    /// The path of cgroup `id` ("/" for the root), rescanning the hierarchy
    /// when the id is new.
    pub fn path(&mut self, id: u64) -> Option<String> {
        if let Some(p) = self.by_id.get(&id) {
            return Some(p.clone());
        }
        if self.missing.contains(&id) {
            return None;
        }
        self.rescan();
        let found = self.by_id.get(&id).cloned();
        if found.is_none() {
            self.missing.insert(id);
        }
        found
    }

    fn rescan(&mut self) {
        self.by_id.clear();
        if let Some(m) = self.mount.clone() {
            walk(&m, &m, 0, &mut self.by_id);
        }
    }
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut StdHashMap<u64, String>) {
    let Ok(meta) = fs::metadata(dir) else {
        return;
    };
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    out.insert(meta.ino(), format!("/{}", rel.display()));
    // Bounded: cgroup trees are shallow, and a huge one costs one walk.
    if depth >= 16 || out.len() > 100_000 {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &e.path(), depth + 1, out);
        }
    }
}

/// The name of process (or thread) `id` from /proc, when it still exists.
pub fn proc_comm(id: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{id}/comm"))
        .ok()
        .map(|s| s.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use ebpftop_common::{TaskOffsets, sched::SchedOffsets};
    use ebpftop_runtime::{Hook, LoadOptions, sched_offsets, task_offsets};

    use super::*;

    fn is_root() -> bool {
        // SAFETY: geteuid cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    /// Loads with only `hooks` (one fallback level forced), sleeps 20
    /// times 5 ms, and returns this thread's key's histogram.
    fn sleeps_seen(hooks: &'static [Hook], key: u32, id: u64, globals: Globals) -> Latencies {
        let object = ToolObject {
            tool: "runqlat",
            bytes: embedded_object!("runqlat"),
            hooks,
        };
        let config = RunqlatConfig {
            key,
            ..RunqlatConfig::DEFAULT
        };
        let globals = Globals { config, ..globals };
        let mut loaded = object
            .load(LoadOptions {
                globals: globals.to_globals(CONFIG_GLOBAL),
                ring_bytes: 4096,
                ..LoadOptions::default()
            })
            .expect("programs load and attach");
        for (r, h) in loaded.attached.iter().zip(hooks) {
            assert_eq!(r.chosen.map(|c| c.at), Some(h.candidates[0].at), "{r}");
        }
        let maps = RunqlatMaps::take(&mut loaded.ebpf).unwrap();
        for _ in 0..20 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let system = maps.system().unwrap();
        assert!(system.count >= 20, "{system:?}");
        let mine = maps.keyed().unwrap().into_iter().find(|(k, _)| k.id == id);
        mine.map(|(_, l)| l).expect("this thread's key")
    }

    /// The classic fallback, forced: its programs pass the verifier and
    /// count this thread's sleeps (root only).
    #[test]
    fn classic_tracepoints_count_waits() {
        if !is_root() {
            eprintln!("not root; skipped");
            return;
        }
        static CLASSIC: &[Hook] = &[
            hook("wakeup", &[TP_WAKEUP]),
            hook("new task wakeup", &[TP_WAKEUP_NEW]),
            hook("context switch", &[TP_SWITCH]),
        ];
        assert!(classic_layout_ok());
        // SAFETY: gettid cannot fail.
        let tid = unsafe { libc::gettid() } as u64;
        let globals = Globals {
            config: RunqlatConfig::DEFAULT,
            task: TaskOffsets::UNSET,
            sched: SchedOffsets::UNSET,
        };
        let l = sleeps_seen(CLASSIC, RunqlatConfig::KEY_TID, tid, globals);
        assert!(l.count >= 19, "{l:?}");
    }

    /// The raw tracepoints, forced (tp_btf is what the integration tests
    /// get): task fields through bpf_probe_read_kernel, here the cgroup.
    #[test]
    fn raw_tracepoints_read_the_cgroup() {
        if !is_root() {
            eprintln!("not root; skipped");
            return;
        }
        static RAW: &[Hook] = &[
            hook("wakeup", &[RAW_WAKEUP]),
            hook("new task wakeup", &[RAW_WAKEUP_NEW]),
            hook("context switch", &[RAW_SWITCH]),
        ];
        let cgroup = ebpftop_runtime::filter::cgroup_id_of_pid(std::process::id()).unwrap();
        let globals = Globals {
            config: RunqlatConfig::DEFAULT,
            task: task_offsets().unwrap(),
            sched: sched_offsets().unwrap(),
        };
        let l = sleeps_seen(RAW, RunqlatConfig::KEY_CGROUP, cgroup, globals);
        assert!(l.count >= 19, "{l:?}");
    }
}
