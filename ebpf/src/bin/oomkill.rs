//! oomkill, kernel half: `oom:mark_victim`, which runs when the OOM
//! killer has chosen its victim. bcc's oomkill uses a kprobe on
//! `oom_kill_process` for the OOM context (the trigger, the pages in the
//! OOM domain); this kernel has no kprobes, so the trigger is the task
//! running at the tracepoint, which is the one whose allocation (or
//! write to memory.max) started the OOM, and the victim comes from the
//! tracepoint's record.
//!
//! The record is copied whole and decoded in user space with the running
//! kernel's format file: its fields have changed across versions (only
//! `pid` before 6.x), so the program needs no layout of its own.
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::{bpf_get_current_pid_tgid, bpf_probe_read_kernel},
    macros::tracepoint,
    programs::TracePointContext,
};
use ebpftop_common::{
    LostReason,
    oomkill::{OomEvent, RECORD_COPY},
};
use ebpftop_ebpf::{EVENTS, count_lost, fill_header, submit};

#[tracepoint]
pub fn oom_mark_victim(ctx: TracePointContext) -> u32 {
    let Some(mut entry) = EVENTS.reserve::<OomEvent>(0) else {
        count_lost(LostReason::RingBufFull);
        return 0;
    };
    // SAFETY: a reserved, writable record of our size, every field written;
    // the read helper checks the source and writes at most RECORD_COPY
    // bytes into the record's array.
    let ts_ns = unsafe {
        let e = &mut *entry.as_mut_ptr();
        fill_header(&mut e.header, bpf_get_current_pid_tgid());
        let r = bpf_probe_read_kernel(
            e.record.as_mut_ptr().cast(),
            RECORD_COPY as u32,
            ctx.as_ptr().cast_const(),
        );
        e.record_len = if r == 0 { RECORD_COPY as u32 } else { 0 };
        e._pad = 0;
        e.header.ts_ns
    };
    submit(entry, ts_ns);
    0
}
