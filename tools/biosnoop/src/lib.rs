//! biosnoop: the command line, the kernel object and its hooks, and the
//! decoding of its records into typed values, as a library (for `cargo
//! xtask docs` and the `ebpftop` dashboard).

pub mod cli;

use ebpftop_common::block::{
    BioEvent, BiosnoopConfig, DiskFilter, TP_DEV, TP_ERROR, TP_NR_SECTOR, TP_RWBS, TP_SECTOR,
};
use ebpftop_output::{
    Column, Comm, Common, Record, Row,
    disks::{RequestFlags, disk_dev, disk_name, major_minor},
    text::until_nul,
};
use ebpftop_runtime::{
    AttachPoint, Candidate, Clock, Hook, ToolObject, embedded_object, read_record, tracefs,
};
use serde::Serialize;

/// The globals' names in the object.
pub const CONFIG_GLOBAL: &str = "BIOSNOOP";
pub const DISK_GLOBAL: &str = "DISK";

/// A hook: one program on one `block:` tracepoint.
macro_rules! block_hook {
    ($name:literal, $program:literal, $tracepoint:literal, $required:literal) => {
        Hook {
            name: $name,
            candidates: &[Candidate {
                program: $program,
                at: AttachPoint::Tracepoint {
                    category: "block",
                    name: $tracepoint,
                },
            }],
            required: $required,
            shared: false,
        }
    };
}

static HOOKS: &[Hook] = &[
    // Linux 6.5 and later; before, the submitter is taken at insertion.
    block_hook!(
        "request start (submitter)",
        "biosnoop_io_start",
        "block_io_start",
        false
    ),
    block_hook!("request insert", "biosnoop_insert", "block_rq_insert", true),
    block_hook!("request issue", "biosnoop_issue", "block_rq_issue", true),
    block_hook!(
        "request completion",
        "biosnoop_complete",
        "block_rq_complete",
        true
    ),
];

pub static OBJECT: ToolObject = ToolObject {
    tool: "biosnoop",
    bytes: embedded_object!("biosnoop"),
    hooks: HOOKS,
};

/// Checks that the block tracepoints lay out their records as the kernel
/// programs read them (`ebpftop_common::block`).
pub fn check_layout() -> Result<(), ebpftop_runtime::Error> {
    let key = [("dev", TP_DEV, 4), ("sector", TP_SECTOR, 8)];
    for (tp, required) in [
        ("block_io_start", false),
        ("block_rq_insert", true),
        ("block_rq_issue", true),
    ] {
        if !tracefs::has_tracepoint("block", tp)? {
            if required {
                return Err(ebpftop_runtime::Error::MissingTracepoint(format!(
                    "block:{tp}"
                )));
            }
            continue;
        }
        tracefs::check_fields("block", tp, &key)?;
    }
    if !tracefs::has_tracepoint("block", "block_rq_complete")? {
        return Err(ebpftop_runtime::Error::MissingTracepoint(
            "block:block_rq_complete".into(),
        ));
    }
    tracefs::check_fields(
        "block",
        "block_rq_complete",
        &[
            key[0],
            key[1],
            ("nr_sector", TP_NR_SECTOR, 4),
            ("error", TP_ERROR, 4),
            ("rwbs", TP_RWBS, 10),
        ],
    )
}

/// `--disk NAME` as the kernel programs' filter.
pub fn disk_filter(disk: Option<&str>) -> Result<DiskFilter, String> {
    Ok(match disk {
        Some(name) => DiskFilter {
            enabled: 1,
            dev: disk_dev(name)?,
        },
        None => DiskFilter::ALL,
    })
}

/// The kernel programs' settings: with a task filter, only requests
/// whose submitter was seen (and selected) are reported.
pub fn config(task_filter: bool) -> BiosnoopConfig {
    BiosnoopConfig {
        need_owner: task_filter.into(),
        _pad: 0,
    }
}

/// Table columns; `queue` adds QUE(ms).
pub fn columns(queue: bool) -> &'static [Column] {
    const BASE: &[Column] = &[
        Column::left("COMM", 16),
        Column::left("PID", 7),
        Column::left("DISK", 9),
        Column::left("T", 2),
        Column::right("SECTOR", 12),
        Column::right("BYTES", 8),
        Column::right("LAT(ms)", 9),
    ];
    const QUEUE: &[Column] = &[
        Column::left("COMM", 16),
        Column::left("PID", 7),
        Column::left("DISK", 9),
        Column::left("T", 2),
        Column::right("SECTOR", 12),
        Column::right("BYTES", 8),
        Column::right("QUE(ms)", 9),
        Column::right("LAT(ms)", 9),
    ];
    if queue { QUEUE } else { BASE }
}

/// One completed block request.
#[derive(Clone, Debug, Serialize)]
pub struct BioRecord {
    /// The submitter; `ts_ns` is the completion.
    #[serde(flatten)]
    pub common: Common,
    pub disk: String,
    /// `MAJ:MIN`.
    pub dev: String,
    /// R, W, F (flush), D (discard), DE (secure erase) or N (other).
    pub op: &'static str,
    /// bcc biolatency -F's label, e.g. `Sync-Write`.
    pub flags: String,
    /// The tracepoint's raw `rwbs`, e.g. `WS`.
    pub rwbs: String,
    pub sector: u64,
    pub bytes: u64,
    /// Negative errno; 0 for success.
    pub error: i32,
    /// Insertion to issue; `None` when issued without queueing.
    pub queue_ns: Option<u64>,
    /// Issue to completion.
    pub latency_ns: u64,
    /// Whether the submitter was seen (otherwise pid 0, comm "").
    pub issuer_known: bool,
    /// Table: print the QUE(ms) column.
    #[serde(skip)]
    pub show_queue: bool,
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

impl Record for BioRecord {
    const EVENT: &'static str = "bio";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        if self.issuer_known {
            row.bytes(self.common.comm.as_bytes()).cell(self.common.pid);
        } else {
            row.cell("?").cell("?");
        }
        row.escaped(&self.disk)
            .cell(self.op)
            .cell(self.sector)
            .cell(self.bytes);
        if self.show_queue {
            match self.queue_ns {
                Some(ns) => row.cell(ms(ns)),
                None => row.cell("-"),
            };
        }
        row.cell(ms(self.latency_ns));
    }
}

/// Decodes a ring buffer record; `None` when it is too short.
pub fn to_record(data: &[u8], clock: &Clock, show_queue: bool) -> Option<BioRecord> {
    let e: BioEvent = read_record(data)?;
    let h = e.header;
    let flags = RequestFlags::from_rwbs(&e.rwbs);
    let (major, minor) = major_minor(e.dev);
    Some(BioRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(h.ts_ns),
            pid: h.pid,
            tid: h.tid,
            comm: Comm(h.comm),
            uid: h.uid,
            cgroup_id: h.cgroup_id,
        },
        disk: disk_name(e.dev),
        dev: format!("{major}:{minor}"),
        op: flags.op,
        flags: flags.label(),
        rwbs: String::from_utf8_lossy(until_nul(&e.rwbs)).into_owned(),
        sector: e.sector,
        bytes: u64::from(e.nr_sector) * 512,
        error: e.error,
        queue_ns: (e.insert_ns != 0 && e.issue_ns >= e.insert_ns).then(|| e.issue_ns - e.insert_ns),
        latency_ns: h.ts_ns.saturating_sub(e.issue_ns),
        issuer_known: e.has_owner != 0,
        show_queue,
    })
}

#[cfg(test)]
mod tests {
    use ebpftop_common::EventHeader;

    use super::*;

    fn bytes_of(e: &BioEvent) -> Vec<u8> {
        // SAFETY: plain #[repr(C)] data viewed as bytes.
        unsafe {
            std::slice::from_raw_parts((e as *const BioEvent).cast::<u8>(), size_of::<BioEvent>())
        }
        .to_vec()
    }

    #[test]
    fn decodes_a_request() {
        let mut comm = [0u8; 16];
        comm[..4].copy_from_slice(b"fio\0");
        let e = BioEvent {
            header: EventHeader {
                ts_ns: 5_000_000,
                cgroup_id: 1,
                pid: 42,
                tid: 43,
                uid: 0,
                gid: 0,
                comm,
            },
            insert_ns: 1_000_000,
            issue_ns: 1_500_000,
            sector: 2048,
            dev: 7 << 20 | 9,
            nr_sector: 8,
            error: 0,
            has_owner: 1,
            rwbs: *b"RS\0\0\0\0\0\0",
        };
        let data = bytes_of(&e);
        let r = to_record(&data, &Clock::new(), true).unwrap();
        assert_eq!((r.common.pid, r.bytes, r.sector), (42, 4096, 2048));
        assert_eq!(
            (r.op, r.flags.as_str(), r.rwbs.as_str()),
            ("R", "Sync-Read", "RS")
        );
        assert_eq!(r.queue_ns, Some(500_000));
        assert_eq!(r.latency_ns, 3_500_000);
        assert_eq!(r.dev, "7:9");
        assert!(r.issuer_known);
        assert!(to_record(&data[..10], &Clock::new(), true).is_none());
        let json = serde_json::to_value(&r).unwrap();
        assert!(json.get("show_queue").is_none());
        assert_eq!(json["queue_ns"], 500_000);
    }
}
