//! hardirqs, kernel half: each IRQ handler timed from
//! `irq:irq_handler_entry` to `irq_handler_exit` on its CPU and summed per
//! CPU by IRQ and handler name. Handlers do not nest (they run with
//! interrupts off), so one start slot per CPU is enough.
//!
//! Raw tracepoints are preferred, and not only because they are cheaper:
//! a classic tracepoint program is skipped when any other kprobe or
//! tracepoint program is running on the CPU the IRQ interrupted (the
//! kernel's `bpf_prog_active`), so under other tracers it misses IRQs; a
//! raw tracepoint program is skipped only when it interrupts itself. They
//! read the handler's name through `struct irqaction`, at the offset of
//! `name` user space found in BTF.
#![no_std]
#![no_main]

use aya_ebpf::{
    EbpfContext,
    helpers::generated::{bpf_ktime_get_ns, bpf_probe_read_kernel_str},
    macros::{map, raw_tracepoint, tracepoint},
    maps::{PerCpuArray, PerCpuHashMap},
    programs::{RawTracePointContext, TracePointContext},
};
use ebpftop_common::{
    LostReason,
    irqtime::{
        HardirqKey, IRQ_NAME_LEN, IRQ_NAME_LOC_OFFSET, IRQ_OFFSET, IrqConfig, IrqTime, MAX_IRQS,
    },
};
use ebpftop_ebpf::{count_lost, irq_time::add_time, kernel_read, syscall_latency::value_for};

#[unsafe(no_mangle)]
static IRQ_CONFIG: IrqConfig = IrqConfig::DEFAULT;

/// Offset of `const char *name` in `struct irqaction`, from BTF.
#[unsafe(no_mangle)]
static IRQACTION_NAME: u32 = 0;

/// The handler running on this CPU: when it started, and its key.
#[repr(C)]
struct Running {
    ts_ns: u64,
    key: HardirqKey,
}

#[map]
static RUNNING: PerCpuArray<Running> = PerCpuArray::with_max_entries(1, 0);

#[map]
static IRQ_TIMES: PerCpuHashMap<HardirqKey, IrqTime> = PerCpuHashMap::with_max_entries(MAX_IRQS, 0);

/// A zeroed value to create entries from.
#[map]
static ZERO: PerCpuArray<IrqTime> = PerCpuArray::with_max_entries(1, 0);

#[inline(always)]
fn tp_u32(ctx: &TracePointContext, offset: usize) -> u32 {
    // SAFETY: `offset` is one of the irq tracepoints' fields, checked
    // against their format files by user space.
    unsafe { core::ptr::read_volatile(ctx.as_ptr().cast::<u8>().add(offset).cast::<u32>()) }
}

#[raw_tracepoint(tracepoint = "irq_handler_entry")]
pub fn hardirq_entry_raw(ctx: RawTracePointContext) -> u32 {
    // TP_PROTO(int irq, struct irqaction *action)
    let action = ctx.arg::<u64>(1);
    // SAFETY: a plain static, set before load.
    let offset = unsafe { core::ptr::read_volatile(&raw const IRQACTION_NAME) };
    let name: u64 = kernel_read(action, offset);
    entered(ctx.arg::<u64>(0) as u32, name as *const u8)
}

#[tracepoint]
pub fn hardirq_entry(ctx: TracePointContext) -> u32 {
    // `__data_loc char[] name`: the string's offset in the record in the
    // low 16 bits.
    let loc = tp_u32(&ctx, IRQ_NAME_LOC_OFFSET) & 0xffff;
    // SAFETY: inside the record the kernel wrote for this event.
    let name = unsafe { ctx.as_ptr().cast::<u8>().add(loc as usize) };
    entered(tp_u32(&ctx, IRQ_OFFSET), name)
}

#[raw_tracepoint(tracepoint = "irq_handler_exit")]
pub fn hardirq_exit_raw(ctx: RawTracePointContext) -> u32 {
    // TP_PROTO(int irq, struct irqaction *action, int ret)
    exited(ctx.arg::<u64>(0) as u32)
}

#[tracepoint]
pub fn hardirq_exit(ctx: TracePointContext) -> u32 {
    exited(tp_u32(&ctx, IRQ_OFFSET))
}

#[inline(always)]
fn entered(irq: u32, name: *const u8) -> u32 {
    let Some(r) = RUNNING.get_ptr_mut(0) else {
        return 0;
    };
    // SAFETY: a per-CPU slot only this CPU touches, with interrupts off;
    // the string helper checks its source and writes at most
    // IRQ_NAME_LEN bytes into the name.
    unsafe {
        (*r).key.irq = irq;
        (*r).key.name = [0; IRQ_NAME_LEN];
        bpf_probe_read_kernel_str(
            (*r).key.name.as_mut_ptr().cast(),
            IRQ_NAME_LEN as u32,
            name.cast(),
        );
        (*r).ts_ns = bpf_ktime_get_ns();
    }
    0
}

#[inline(always)]
fn exited(irq: u32) -> u32 {
    let Some(r) = RUNNING.get_ptr_mut(0) else {
        return 0;
    };
    // SAFETY: as at entry; the key is copied out and the slot cleared.
    let (start, key) = unsafe {
        let start = (*r).ts_ns;
        if start == 0 || (*r).key.irq != irq {
            // An exit without its entry: the kernel skipped our entry
            // program, and this run goes uncounted. (A start left set by an
            // entry whose exit was skipped is not counted: entries seen
            // between attaching the entry and the exit programs leave it
            // set too.)
            count_lost(LostReason::EntryMissed);
            return 0;
        }
        (*r).ts_ns = 0;
        (start, (*r).key)
    };
    // SAFETY: helper call without arguments.
    let ns = unsafe { bpf_ktime_get_ns() }.wrapping_sub(start);
    let Some(zero) = ZERO.get_ptr(0) else {
        return 0;
    };
    // SAFETY: a map value, never written.
    if let Some(v) = value_for(&IRQ_TIMES, &key, unsafe { &*zero }) {
        // SAFETY: this CPU's value of a per-CPU map.
        unsafe { add_time(v, ns, &IRQ_CONFIG) };
    }
    0
}
