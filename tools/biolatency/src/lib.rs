//! biolatency: the command line, the kernel object and its hooks, and the
//! decoding of the kernel's histograms into typed values, as a library (for
//! `cargo xtask docs` and the `ebpftop` dashboard).

pub mod cli;

use std::io;

use aya::maps::{HashMap, MapData};
use ebpftop_common::block::{
    BiolatencyConfig, BlockLatency, DiskFilter, HistKey, TP_DEV, TP_RWBS, TP_SECTOR,
};
use ebpftop_output::disks::{RequestFlags, disk_dev, disk_name};
use ebpftop_runtime::{AttachPoint, Candidate, Hook, ToolObject, embedded_object, tracefs};

/// The globals' names in the object.
pub const CONFIG_GLOBAL: &str = "BIOLATENCY";
pub const DISK_GLOBAL: &str = "DISK";
/// The histograms, by [`HistKey`].
pub const LATENCIES_MAP: &str = "LATENCIES";

/// A required hook: one program on one `block:` tracepoint.
macro_rules! block_hook {
    ($name:literal, $program:literal, $tracepoint:literal) => {
        Hook {
            name: $name,
            candidates: &[Candidate {
                program: $program,
                at: AttachPoint::Tracepoint {
                    category: "block",
                    name: $tracepoint,
                },
            }],
            required: true,
            shared: false,
        }
    };
}

const INSERT: Hook = block_hook!("request insert", "biolatency_insert", "block_rq_insert");
const ISSUE: Hook = block_hook!("request issue", "biolatency_issue", "block_rq_issue");
const COMPLETE: Hook = block_hook!(
    "request completion",
    "biolatency_complete",
    "block_rq_complete"
);

/// Timing from issue to completion.
pub static OBJECT: ToolObject = ToolObject {
    tool: "biolatency",
    bytes: embedded_object!("biolatency"),
    hooks: &[ISSUE, COMPLETE],
};

/// `-Q`: timing from insertion into the OS queue (or issue, for requests
/// that bypass it) to completion.
pub static OBJECT_QUEUED: ToolObject = ToolObject {
    tool: "biolatency",
    bytes: embedded_object!("biolatency"),
    hooks: &[INSERT, ISSUE, COMPLETE],
};

/// The object for `-Q` (`queued`) or not.
pub fn object(queued: bool) -> &'static ToolObject {
    if queued { &OBJECT_QUEUED } else { &OBJECT }
}

/// Checks that the block tracepoints lay out their records as the kernel
/// programs read them (`ebpftop_common::block`).
pub fn check_layout(queued: bool) -> Result<(), ebpftop_runtime::Error> {
    let fields = [
        ("dev", TP_DEV, 4),
        ("sector", TP_SECTOR, 8),
        ("rwbs", TP_RWBS, 10),
    ];
    let mut tracepoints = vec!["block_rq_issue", "block_rq_complete"];
    if queued {
        tracepoints.push("block_rq_insert");
    }
    for tp in tracepoints {
        if !tracefs::has_tracepoint("block", tp)? {
            return Err(ebpftop_runtime::Error::MissingTracepoint(format!(
                "block:{tp}"
            )));
        }
        tracefs::check_fields("block", tp, &fields)?;
    }
    Ok(())
}

/// `--disk NAME` as the kernel program's filter.
pub fn disk_filter(disk: Option<&str>) -> Result<DiskFilter, String> {
    Ok(match disk {
        Some(name) => DiskFilter {
            enabled: 1,
            dev: disk_dev(name)?,
        },
        None => DiskFilter::ALL,
    })
}

/// The kernel program's settings.
pub fn config(
    per_disk: bool,
    per_flags: bool,
    queued: bool,
    milliseconds: bool,
) -> BiolatencyConfig {
    BiolatencyConfig {
        unit_ns: if milliseconds { 1_000_000 } else { 1_000 },
        per_disk: per_disk.into(),
        per_flags: per_flags.into(),
        queued: queued.into(),
        _pad: 0,
    }
}

/// What a histogram is of: a disk (with `-D`), an operation and flags
/// (with `-F`), or everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistLabel {
    /// Kernel `dev_t` and name of the disk.
    pub disk: Option<(u32, String)>,
    pub flags: Option<RequestFlags>,
    /// The raw `rwbs` the flags came from (e.g. "WS").
    pub rwbs: Option<String>,
}

impl HistLabel {
    pub fn of(key: &HistKey, per_disk: bool, per_flags: bool) -> HistLabel {
        let rwbs = per_flags.then(|| {
            let raw = ebpftop_output::text::until_nul(&key.rwbs);
            String::from_utf8_lossy(raw).into_owned()
        });
        HistLabel {
            disk: per_disk.then(|| (key.dev, disk_name(key.dev))),
            flags: per_flags.then(|| RequestFlags::from_rwbs(&key.rwbs)),
            rwbs,
        }
    }
}

pub use ebpftop_cli::Latencies;

/// The kernel's histogram map, taken from a loaded object.
pub type LatencyMap = HashMap<MapData, HistKey, BlockLatency>;

/// Takes [`LATENCIES_MAP`] out of a loaded object.
pub fn take_latencies(ebpf: &mut aya::Ebpf) -> anyhow::Result<LatencyMap> {
    let map = ebpf
        .take_map(LATENCIES_MAP)
        .ok_or_else(|| anyhow::anyhow!("the biolatency object has no {LATENCIES_MAP} map"))?;
    Ok(HashMap::try_from(map)?)
}

/// Every histogram in the map, as it is now (cumulative since load).
pub fn read_latencies(map: &LatencyMap) -> io::Result<Vec<(HistKey, Latencies)>> {
    map.iter()
        .map(|r| {
            r.map(|(k, v)| (k, Latencies::from(&v)))
                .map_err(io::Error::other)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        let key = HistKey {
            dev: 0,
            _pad: 0,
            rwbs: *b"WS\0\0\0\0\0\0",
        };
        let l = HistLabel::of(&key, false, true);
        assert_eq!(l.flags.map(|f| f.label()).as_deref(), Some("Sync-Write"));
        assert_eq!(l.rwbs.as_deref(), Some("WS"));
        assert!(l.disk.is_none());
        let l = HistLabel::of(&key, false, false);
        assert!(l.flags.is_none() && l.rwbs.is_none());
    }

    #[test]
    fn unknown_disk_is_refused() {
        let e = disk_filter(Some("ebpftop-nosuchdisk")).unwrap_err();
        assert!(e.contains("no disk named"), "{e}");
        assert_eq!(disk_filter(None), Ok(DiskFilter::ALL));
    }
}
