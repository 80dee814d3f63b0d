//! softirqs, kernel half: each softirq handler timed from
//! `irq:softirq_entry` to `softirq_exit` on its CPU and summed per CPU by
//! vector. Softirqs do not nest on a CPU, so one start slot per CPU is
//! enough. Raw tracepoints (no trace record built) are preferred; the
//! classic ones are the fallback.
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::bpf_ktime_get_ns,
    macros::{map, raw_tracepoint, tracepoint},
    maps::PerCpuArray,
    programs::{RawTracePointContext, TracePointContext},
};
use ebpftop_common::{
    LostReason,
    irqtime::{IrqConfig, IrqTime, SOFTIRQ_VEC_OFFSET, SOFTIRQ_VECS},
};
use ebpftop_ebpf::{count_lost, irq_time::add_time};

#[unsafe(no_mangle)]
static IRQ_CONFIG: IrqConfig = IrqConfig::DEFAULT;

/// The softirq running on this CPU: when it started, and its vector.
#[repr(C)]
struct Running {
    ts_ns: u64,
    vec: u32,
    _pad: u32,
}

#[map]
static RUNNING: PerCpuArray<Running> = PerCpuArray::with_max_entries(1, 0);

/// Per CPU, by vector.
#[map]
static SOFTIRQ_TIMES: PerCpuArray<IrqTime> = PerCpuArray::with_max_entries(SOFTIRQ_VECS, 0);

#[inline(always)]
fn tp_vec(ctx: &TracePointContext) -> u32 {
    // SAFETY: `unsigned int vec` of irq:softirq_entry/exit, checked against
    // the format files by user space.
    unsafe {
        core::ptr::read_volatile(
            ctx.as_ptr()
                .cast::<u8>()
                .add(SOFTIRQ_VEC_OFFSET)
                .cast::<u32>(),
        )
    }
}

#[raw_tracepoint(tracepoint = "softirq_entry")]
pub fn softirq_entry_raw(ctx: RawTracePointContext) -> u32 {
    // TP_PROTO(unsigned int vec_nr)
    entered(ctx.arg::<u64>(0) as u32)
}

#[tracepoint]
pub fn softirq_entry(ctx: TracePointContext) -> u32 {
    entered(tp_vec(&ctx))
}

#[raw_tracepoint(tracepoint = "softirq_exit")]
pub fn softirq_exit_raw(ctx: RawTracePointContext) -> u32 {
    exited(ctx.arg::<u64>(0) as u32)
}

#[tracepoint]
pub fn softirq_exit(ctx: TracePointContext) -> u32 {
    exited(tp_vec(&ctx))
}

#[inline(always)]
fn entered(vec: u32) -> u32 {
    if let Some(r) = RUNNING.get_ptr_mut(0) {
        // SAFETY: a per-CPU slot only this CPU touches.
        unsafe {
            (*r).vec = vec;
            (*r).ts_ns = bpf_ktime_get_ns();
        }
    }
    0
}

#[inline(always)]
fn exited(vec: u32) -> u32 {
    let Some(r) = RUNNING.get_ptr_mut(0) else {
        return 0;
    };
    // SAFETY: as at entry.
    let start = unsafe {
        let start = (*r).ts_ns;
        if start == 0 || (*r).vec != vec {
            // An exit without its entry: the kernel skipped our entry
            // program, and this run goes uncounted. (A start left set by an
            // entry whose exit was skipped is not counted: entries seen
            // between attaching the entry and the exit programs leave it
            // set too.)
            count_lost(LostReason::EntryMissed);
            return 0;
        }
        (*r).ts_ns = 0;
        start
    };
    // SAFETY: helper call without arguments.
    let ns = unsafe { bpf_ktime_get_ns() }.wrapping_sub(start);
    if let Some(v) = SOFTIRQ_TIMES.get_ptr_mut(vec) {
        // SAFETY: this CPU's value of a per-CPU map.
        unsafe { add_time(v, ns, &IRQ_CONFIG) };
    }
    0
}
