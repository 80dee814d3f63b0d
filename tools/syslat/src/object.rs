//! What the kernel half attaches to, and reading what it aggregated:
//! shared by the syslat command and the dashboard.

use std::io;

use aya::maps::{HashMap, MapData};
use ebpftop_common::{
    syscall_latency::SyscallRegs,
    syslat::{SyscallLatency, SyslatKey},
};
use ebpftop_runtime::{AttachPoint, Candidate, Hook, ToolObject, embedded_object, syscall_regs};

use ebpftop_cli::Stamp;
use ebpftop_output::{
    Comm,
    histogram::{LatencySummary, Log2HistJson},
};
use serde::Serialize;

use crate::latency::Latencies;

/// Raw tracepoints first: the kernel builds no trace record for them, which
/// is most of the cost per call. The classic ones are the fallback.
const ENTER: Hook = Hook {
    name: "syscall entry",
    candidates: &[
        Candidate {
            program: "syslat_enter_raw",
            at: AttachPoint::RawTracepoint { name: "sys_enter" },
        },
        Candidate {
            program: "syslat_enter",
            at: AttachPoint::Tracepoint {
                category: "raw_syscalls",
                name: "sys_enter",
            },
        },
    ],
    required: true,
    shared: false,
};
const TP_EXIT: Candidate = Candidate {
    program: "syslat_exit",
    at: AttachPoint::Tracepoint {
        category: "raw_syscalls",
        name: "sys_exit",
    },
};
const EXIT: Hook = Hook {
    name: "syscall exit",
    candidates: &[
        Candidate {
            program: "syslat_exit_raw",
            at: AttachPoint::RawTracepoint { name: "sys_exit" },
        },
        TP_EXIT,
    ],
    required: true,
    shared: false,
};
/// Without `pt_regs` offsets from BTF the raw exit cannot find the number.
const EXIT_CLASSIC: Hook = Hook {
    name: "syscall exit",
    candidates: &[TP_EXIT],
    required: true,
    shared: false,
};

pub fn object(raw_exit: bool) -> ToolObject {
    ToolObject {
        tool: "syslat",
        bytes: embedded_object!("syslat"),
        hooks: if raw_exit {
            &[ENTER, EXIT]
        } else {
            &[ENTER, EXIT_CLASSIC]
        },
    }
}

/// The object to load and the `pt_regs` offsets for its raw exit program.
/// The raw exit tracepoint reads the syscall number from `pt_regs`, at an
/// offset only the kernel's BTF gives; without it, classic tracepoints.
pub fn kernel_half() -> (ToolObject, SyscallRegs) {
    match syscall_regs() {
        Ok(regs) => (object(true), regs),
        Err(e) => {
            log::info!("raw sys_exit tracepoint not used: {e}");
            (object(false), SyscallRegs::UNSET)
        }
    }
}

/// Every histogram of the `LATENCIES` map, read once.
pub fn read_latencies(
    map: &HashMap<MapData, SyslatKey, SyscallLatency>,
) -> io::Result<Vec<(SyslatKey, Latencies)>> {
    map.iter()
        .map(|r| {
            r.map(|(k, v)| (k, Latencies::from(&v)))
                .map_err(io::Error::other)
        })
        .collect()
}

/// One key's histogram for one interval, as `--json` prints it.
#[derive(Serialize)]
pub struct SyslatRecord<'a> {
    #[serde(flatten)]
    pub stamp: Stamp,
    pub syscall: &'a str,
    pub nr: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comm: Option<Comm>,
    pub total_ns: u64,
    pub hist: Log2HistJson<'a>,
    pub latency: &'a LatencySummary,
}
