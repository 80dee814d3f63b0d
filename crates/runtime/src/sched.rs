//! What the scheduler tools (runqlat, runqslower) share on the user side:
//! their read-only globals, resolved from BTF, and whether the classic
//! `sched:*` tracepoints are laid out as their fallback programs read them.

use ebpftop_common::{
    COMM_LEN, TaskOffsets,
    sched::{
        SchedOffsets, TP_SWITCH_NEXT_COMM, TP_SWITCH_NEXT_PID, TP_SWITCH_PREV_PID,
        TP_SWITCH_PREV_STATE, TP_WAKEUP_PID,
    },
};

use crate::{
    Error, SCHED_OFFSETS_GLOBAL, TASK_OFFSETS_GLOBAL, sched_offsets, task_offsets, tracefs,
};

/// A scheduler tool's configuration and the struct offsets its raw and
/// BTF tracepoint programs read tasks at.
#[derive(Clone, Copy, Debug)]
pub struct SchedGlobals<C> {
    pub config: C,
    pub task: TaskOffsets,
    pub sched: SchedOffsets,
}

impl<C: aya::Pod> SchedGlobals<C> {
    /// Offsets from the kernel's BTF. Without them, an error when the tool
    /// `needs_task` fields, else unset offsets for the classic tracepoints,
    /// which carry thread ids only.
    pub fn resolve(config: C, needs_task: bool) -> Result<Self, Error> {
        let (task, sched) = match task_offsets().and_then(|t| Ok((t, sched_offsets()?))) {
            Ok(o) => o,
            Err(e) if needs_task => return Err(e),
            Err(e) => {
                log::info!("raw tracepoints cannot read tasks ({e}); classic tracepoints");
                (TaskOffsets::UNSET, SchedOffsets::UNSET)
            }
        };
        Ok(SchedGlobals {
            config,
            task,
            sched,
        })
    }

    /// For `LoadOptions::globals`, the configuration under `config_global`.
    pub fn to_globals(
        &self,
        config_global: &'static str,
    ) -> Vec<(&'static str, aya::GlobalData<'_>)> {
        vec![
            (config_global, (&self.config).into()),
            (TASK_OFFSETS_GLOBAL, (&self.task).into()),
            (SCHED_OFFSETS_GLOBAL, (&self.sched).into()),
        ]
    }
}

/// The classic programs read the records at fixed offsets: they are
/// candidates only when this kernel's format files agree.
pub fn classic_layout_ok() -> bool {
    let checks = tracefs::check_fields(
        "sched",
        "sched_switch",
        &[
            ("prev_pid", TP_SWITCH_PREV_PID, 4),
            ("prev_state", TP_SWITCH_PREV_STATE, 8),
            ("next_comm", TP_SWITCH_NEXT_COMM, COMM_LEN),
            ("next_pid", TP_SWITCH_NEXT_PID, 4),
        ],
    )
    .and_then(|()| tracefs::check_fields("sched", "sched_wakeup", &[("pid", TP_WAKEUP_PID, 4)]))
    .and_then(|()| {
        tracefs::check_fields("sched", "sched_wakeup_new", &[("pid", TP_WAKEUP_PID, 4)])
    });
    match checks {
        Ok(()) => true,
        Err(e) => {
            log::info!("classic sched tracepoints not usable: {e}");
            false
        }
    }
}
