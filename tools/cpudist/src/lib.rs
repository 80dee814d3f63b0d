//! cpudist: the kernel object and its hooks, the command line, and the
//! kernel's histograms decoded into Rust values. A library, so that
//! `cargo xtask docs` can generate the man page and the `ebpftop`
//! dashboard can run the same programs.

pub mod cli;

use ebpftop_common::{
    TaskOffsets,
    cpudist::{CpudistConfig, CpudistKey},
};
use ebpftop_runtime::{
    AttachPoint, Candidate, Hook, TASK_OFFSETS_GLOBAL, ToolObject, embedded_object, task_offsets,
    tracefs,
};

/// The map the histograms are in, by [`CpudistKey`].
pub const HIST_MAP: &str = "SLICES";
/// The global the programs read their [`CpudistConfig`] from.
pub const CONFIG_GLOBAL: &str = "CPUDIST";

const BTF: Candidate = Candidate {
    program: "cpudist_switch_btf",
    at: AttachPoint::BtfTracepoint {
        name: "sched_switch",
    },
};
const RAW: Candidate = Candidate {
    program: "cpudist_switch_raw",
    at: AttachPoint::RawTracepoint {
        name: "sched_switch",
    },
};
const CLASSIC: Candidate = Candidate {
    program: "cpudist_switch",
    at: AttachPoint::Tracepoint {
        category: "sched",
        name: "sched_switch",
    },
};

const fn hooks(candidates: &'static [Candidate]) -> [Hook; 1] {
    [Hook {
        name: "context switch",
        candidates,
        required: true,
        shared: false,
    }]
}
static ALL_HOOKS: [Hook; 1] = hooks(&[BTF, RAW, CLASSIC]);
static TASK_HOOKS: [Hook; 1] = hooks(&[BTF, RAW]);
static CLASSIC_HOOKS: [Hook; 1] = hooks(&[CLASSIC]);

/// Where the classic `sched:sched_switch` record keeps `next_pid`, as the
/// classic program reads it.
const NEXT_PID: (&str, usize, usize) = ("next_pid", 56, 4);

/// The object with the hooks this kernel can take: the task-pointer
/// programs need `task_struct` offsets from BTF, the classic one needs
/// `next_pid` where the program reads it. Also the offsets to set as the
/// [`TASK_OFFSETS_GLOBAL`] global.
pub fn object() -> anyhow::Result<(ToolObject, TaskOffsets)> {
    let offsets = task_offsets()
        .inspect_err(|e| log::info!("task pointer programs not used: {e}"))
        .ok();
    let classic = match tracefs::check_fields("sched", "sched_switch", &[NEXT_PID]) {
        Ok(()) => true,
        Err(e) => {
            log::info!("classic sched_switch not used: {e}");
            false
        }
    };
    let hooks: &'static [Hook] = match (offsets.is_some(), classic) {
        (true, true) => &ALL_HOOKS,
        (true, false) => &TASK_HOOKS,
        (false, true) => &CLASSIC_HOOKS,
        (false, false) => anyhow::bail!(
            "cannot trace sched_switch: no task_struct offsets from BTF and an unexpected \
             sched:sched_switch layout"
        ),
    };
    Ok((
        ToolObject {
            tool: "cpudist",
            bytes: embedded_object!("cpudist"),
            hooks,
        },
        offsets.unwrap_or(TaskOffsets::UNSET),
    ))
}

/// The name of the task-offsets global, re-exported for callers of [`object`].
pub const TASK_GLOBAL: &str = TASK_OFFSETS_GLOBAL;

/// What a histogram is kept for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyBy {
    All,
    Process,
    Thread,
}

impl KeyBy {
    pub fn config_value(self) -> u32 {
        match self {
            KeyBy::All => CpudistConfig::ALL,
            KeyBy::Process => CpudistConfig::PER_PROCESS,
            KeyBy::Thread => CpudistConfig::PER_THREAD,
        }
    }
}

/// Whose slices a histogram holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Owner {
    All,
    Process { pid: u32 },
    Thread { pid: u32, tid: u32 },
}

impl Owner {
    pub fn from_key(key: &CpudistKey, by: KeyBy) -> Owner {
        match by {
            KeyBy::All => Owner::All,
            KeyBy::Process => Owner::Process { pid: key.id },
            KeyBy::Thread => Owner::Thread {
                pid: key.tgid,
                tid: key.id,
            },
        }
    }
}

/// A histogram read from the kernel (or the growth of one), in the unit
/// the config asked for.
pub type Slices = ebpftop_cli::Latencies;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners() {
        let k = CpudistKey { id: 12, tgid: 10 };
        assert_eq!(Owner::from_key(&k, KeyBy::All), Owner::All);
        assert_eq!(
            Owner::from_key(&k, KeyBy::Process),
            Owner::Process { pid: 12 }
        );
        assert_eq!(
            Owner::from_key(&k, KeyBy::Thread),
            Owner::Thread { pid: 10, tid: 12 }
        );
    }
}
