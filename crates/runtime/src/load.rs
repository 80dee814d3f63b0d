//! Loading a tool's object: checks, filter and globals set before load,
//! hooks attached with fallback, ring buffer and lost counter taken out.

use aya::{
    Ebpf, EbpfLoader,
    maps::{Array, Map, PerCpuArray, RingBuf},
};
use ebpftop_common::{Filter, cpu_records};

use std::os::fd::AsFd;

use crate::{
    Error, LostCounter, Ring,
    attach::{AttachReport, Hook, OwnedLink, attach_hooks},
    cpu_records::CpuRecords,
    hub::{self, Place},
    privileges, tracefs,
};

/// A tool's compiled kernel half and what it needs attached.
pub struct ToolObject {
    /// The tool's name, for messages.
    pub tool: &'static str,
    /// The object, embedded with `include_bytes_aligned!`.
    pub bytes: &'static [u8],
    pub hooks: &'static [Hook],
}

/// Options for [`ToolObject::load`].
pub struct LoadOptions<'a> {
    pub filter: Filter,
    /// Ring buffer size in bytes: a power of two, at least a page.
    pub ring_bytes: u32,
    /// Extra read-only globals the tool's programs read (name, bytes).
    pub globals: Vec<(&'static str, aya::GlobalData<'a>)>,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        LoadOptions {
            filter: Filter::ALL,
            ring_bytes: 1 << 22,
            globals: Vec::new(),
        }
    }
}

/// A loaded and attached tool. Dropping it detaches and unloads everything.
pub struct Loaded {
    /// Declared before `ebpf` so links go first (they hold the programs).
    links: Vec<OwnedLink>,
    pub ebpf: Ebpf,
    pub attached: Vec<AttachReport>,
    pub ring: Option<Ring>,
    pub lost: Option<LostCounter>,
}

impl ToolObject {
    pub fn load(&self, opts: LoadOptions<'_>) -> Result<Loaded, Error> {
        privileges::check(self.tool)?;
        privileges::raise_memlock();
        // aya finds tracefs once and caches the answer: mount it first.
        tracefs::root()?;
        let f = crate::KernelFeatures::get();
        log::info!(
            "kernel {}: kprobes {}, uprobes {}, BTF {}",
            kernel_release(),
            if f.kprobes { "present" } else { "absent" },
            if f.uprobes { "present" } else { "absent" },
            if f.btf { "present" } else { "absent" },
        );
        // A shared hook another of our tools already watches: the object
        // is loaded against that tool's chain, pinned for the load (before
        // the loader, which borrows the place's number).
        let mut place = self
            .hooks
            .iter()
            .find(|h| h.shared)
            .and_then(hub::find_place);
        let index = match &place {
            Some(Place::Joined(j)) => j.index,
            _ => 0,
        };
        let mut loader = loader_without_kernel_btf();
        loader.override_global("FILTER", &opts.filter, true);
        for (name, data) in opts.globals {
            loader.override_global(name, data, true);
        }
        if !opts.ring_bytes.is_power_of_two() || opts.ring_bytes < 4096 {
            return Err(Error::BadInput(format!(
                "ring buffer size {} is not a power of two of at least 4096",
                opts.ring_bytes
            )));
        }
        loader.map_max_entries("EVENTS", opts.ring_bytes);
        // Records wake the reader once the ring is a quarter full, whatever
        // their timing, so a burst cannot fill it between polls.
        let wakeup_bytes = u64::from(opts.ring_bytes / 4);
        loader.override_global("WAKEUP_BYTES", &wakeup_bytes, false);
        // Each CPU looks at the ring's fill once per this many bytes: all
        // of them together add at most half a wake-up batch unseen.
        let cpus = aya::util::nr_cpus().map_or(1, |n| n.max(1)) as u64;
        let fill_check_bytes = (wakeup_bytes / (2 * cpus)).max(1);
        loader.override_global("FILL_CHECK_BYTES", &fill_check_bytes, false);
        // Per-CPU record areas, where a tool has them, for every CPU number
        // the kernel may use.
        let ids = cpu_ids();
        let slots = cpu_records::slots_per_cpu(u64::from(opts.ring_bytes), ids);
        loader.override_global("CPU_SLOTS", &slots, false);
        let stores_ordered = u64::from(kernel_stores_ordered());
        loader.override_global("CPU_STORES_ORDERED", &stores_ordered, false);
        let records = u32::try_from(ids * slots)
            .map_err(|_| Error::BadInput(format!("{ids} CPUs: too many for record areas")))?;
        loader.map_max_entries("CPU_RECORDS", records);
        loader.map_max_entries("CPU_HEADS", ids as u32 * cpu_records::WORDS_PER_CPU);
        let loaded = match &place {
            Some(Place::Joined(j)) => {
                let chain = hub::chain_map(j.kind);
                let loader = &mut loader;
                let bytes = self.bytes;
                hub::with_pinned(j.chain(), "chain", |pin| {
                    if let Some(chain) = chain {
                        loader.map_pin_path(chain, pin);
                    }
                    loader.override_global(hub::INDEX_GLOBAL, &index, true);
                    loader.load(bytes)
                })
            }
            _ => Ok(loader.load(self.bytes)),
        };
        let loaded = match loaded {
            Ok(loaded) => loaded,
            Err(e) => {
                log::info!(
                    "could not pin another tool's chain to join it ({e}); attaching our own"
                );
                place = None;
                loader.load(self.bytes)
            }
        };
        let mut ebpf = loaded.map_err(|e| {
            Error::Load(format!(
                "{}: {}",
                self.tool,
                e.to_string().lines().next().unwrap_or("")
            ))
        })?;
        if let Some(Place::Joined(j)) = &place {
            // The loader would have made a chain of its own had the pin gone.
            let ours = hub::chain_of(&ebpf, j.kind).and_then(|c| hub::object_id(c).ok());
            let theirs = hub::object_id(j.chain()).ok();
            if ours.is_none() || ours != theirs {
                return Err(Error::Load(format!(
                    "{}: the object was not loaded against the chain it joins",
                    self.tool
                )));
            }
        }
        let mut links = Vec::new();
        let mut attached = attach_hooks(&mut ebpf, self.hooks, &mut links, &mut place)?;
        let ring = match ebpf.take_map("EVENTS") {
            Some(m) => {
                let events =
                    RingBuf::try_from(m).map_err(|e| Error::Map(format!("EVENTS: {e}")))?;
                let promise = match ebpf.take_map("READER_POLL") {
                    Some(m) => Some(
                        Array::try_from(m).map_err(|e| Error::Map(format!("READER_POLL: {e}")))?,
                    ),
                    None => None,
                };
                let ring = Ring::new(events, promise);
                Some(
                    match (ebpf.take_map("CPU_RECORDS"), ebpf.take_map("CPU_HEADS")) {
                        (Some(Map::Array(records)), Some(Map::Array(heads))) => {
                            log::info!(
                                "per-CPU record areas: {slots} records per CPU (programs \
                             without BPF atomics use the ring buffer)"
                            );
                            ring.with_cpu_records(CpuRecords::new(records, heads)?)
                        }
                        _ => ring,
                    },
                )
            }
            None => None,
        };
        let lost = match ebpf.take_map("LOST") {
            Some(m) => {
                let mut lost = LostCounter::new(
                    PerCpuArray::try_from(m).map_err(|e| Error::Map(format!("LOST: {e}")))?,
                );
                for report in &mut attached {
                    let Some(c) = report.chosen else {
                        continue;
                    };
                    let program = c.program;
                    // A shared hook's runs are its starter's.
                    let (via, fd, before) = match report.starter.take() {
                        Some((fd, before)) => (hub::starter_program(c.at.kind()), fd, before),
                        None => ebpf
                            .program(program)
                            .and_then(|p| p.fd().ok())
                            .and_then(|fd| fd.as_fd().try_clone_to_owned().ok())
                            .map(|fd| (None, fd, 0))
                            .ok_or_else(|| {
                                Error::Load(format!("{}: no fd for {program}", self.tool))
                            })?,
                    };
                    lost.watch_program(program, via, fd, before);
                }
                Some(lost)
            }
            None => None,
        };
        Ok(Loaded {
            links,
            ebpf,
            attached,
            ring,
            lost,
        })
    }
}

/// One more than the highest CPU number the kernel may use (possible
/// CPUs, which may have gaps), or the configured count if that is unknown.
fn cpu_ids() -> u64 {
    std::fs::read_to_string("/sys/devices/system/cpu/possible")
        .ok()
        .and_then(|s| highest_cpu(&s))
        .map(|n| n + 1)
        // SAFETY: sysconf has no preconditions.
        .unwrap_or_else(|| unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) }.max(1) as u64)
}

/// The highest number in a CPU list such as `0-3,8,10-11`.
fn highest_cpu(list: &str) -> Option<u64> {
    list.trim()
        .split(',')
        .map(|r| r.rsplit('-').next()?.trim().parse::<u64>().ok())
        .try_fold(0, |max, n| Some(max.max(n?)))
}

/// Whether the kernel's CPU keeps stores in order as other CPUs see them
/// (x86), asked of the kernel: this binary may run emulated.
fn kernel_stores_ordered() -> bool {
    // SAFETY: uname fills the struct we pass.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return false;
    }
    // SAFETY: uname NUL-terminates its fields.
    let machine = unsafe { std::ffi::CStr::from_ptr(u.machine.as_ptr()) };
    matches!(
        machine.to_bytes(),
        b"x86_64" | b"i386" | b"i486" | b"i586" | b"i686"
    )
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "(unknown release)".into())
}

impl Drop for Loaded {
    /// Detaching a tracepoint waits for an RCU grace period (~70 ms here);
    /// one at a time, six hooks take half a second to Ctrl-C. Dropped on
    /// threads of their own, the waits overlap.
    fn drop(&mut self) {
        let links = std::mem::take(&mut self.links);
        if links.len() < 2 {
            return;
        }
        std::thread::scope(|s| {
            for link in links {
                s.spawn(move || drop(link));
            }
        });
    }
}

/// An `EbpfLoader` that has not parsed the kernel's BTF.
///
/// `EbpfLoader::new()` always reads and parses /sys/kernel/btf/vmlinux
/// (about 50 ms and 15 MB here), which only CO-RE relocations need, and
/// ours have none: Rust emits no CO-RE records, so offsets come from
/// `crate::btf` instead. The loader is built on a thread that has hidden
/// that file behind /dev/null in a private mount namespace of its own, so
/// aya's read finds nothing. Mount namespaces are per thread; the host's
/// mounts are untouched and the namespace ends with the thread. Without
/// CAP_SYS_ADMIN the plain loader is used.
fn loader_without_kernel_btf() -> EbpfLoader<'static> {
    let built = std::thread::spawn(|| {
        if !hide_kernel_btf_on_this_thread() {
            return None;
        }
        let mut loader = EbpfLoader::new();
        loader.btf(None);
        Some(loader)
    })
    .join()
    .ok()
    .flatten();
    built.unwrap_or_else(|| {
        log::debug!("could not hide vmlinux BTF from aya; parsing it");
        let mut loader = EbpfLoader::new();
        loader.btf(None);
        loader
    })
}

fn hide_kernel_btf_on_this_thread() -> bool {
    // The bind mount after the private propagation: it cannot leak to
    // the host.
    crate::sys::private_mounts_on_this_thread().is_ok()
        && crate::sys::mount(
            Some(c"/dev/null"),
            c"/sys/kernel/btf/vmlinux",
            None,
            libc::MS_BIND,
        )
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::highest_cpu;

    #[test]
    fn cpu_lists() {
        assert_eq!(highest_cpu("0-3\n"), Some(3));
        assert_eq!(highest_cpu("0"), Some(0));
        assert_eq!(highest_cpu("0-3,8,10-11"), Some(11));
        assert_eq!(highest_cpu("0,x"), None);
        assert_eq!(highest_cpu(""), None);
    }
}
