//! Loading a tool's object: checks, filter and globals set before load,
//! hooks attached with fallback, ring buffer and lost counter taken out.

use aya::{
    Ebpf, EbpfLoader,
    maps::{PerCpuArray, RingBuf},
};
use ebpftop_common::Filter;

use crate::{
    Error, LostCounter,
    attach::{AttachReport, Hook, attach_hooks},
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
    pub ebpf: Ebpf,
    pub attached: Vec<AttachReport>,
    pub ring: Option<RingBuf<aya::maps::MapData>>,
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
        let mut loader = EbpfLoader::new();
        // Our programs carry no CO-RE relocations (offsets come from
        // crate::btf at start-up), so skip aya's parse of vmlinux BTF.
        loader.btf(None);
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
        let mut ebpf = loader.load(self.bytes).map_err(|e| {
            Error::Load(format!(
                "{}: {}",
                self.tool,
                e.to_string().lines().next().unwrap_or("")
            ))
        })?;
        let attached = attach_hooks(&mut ebpf, self.hooks)?;
        let ring = match ebpf.take_map("EVENTS") {
            Some(m) => Some(RingBuf::try_from(m).map_err(|e| Error::Map(format!("EVENTS: {e}")))?),
            None => None,
        };
        let lost = match ebpf.take_map("LOST") {
            Some(m) => Some(LostCounter::new(
                PerCpuArray::try_from(m).map_err(|e| Error::Map(format!("LOST: {e}")))?,
            )),
            None => None,
        };
        Ok(Loaded {
            ebpf,
            attached,
            ring,
            lost,
        })
    }
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "(unknown release)".into())
}
