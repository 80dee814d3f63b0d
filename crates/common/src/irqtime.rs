//! hardirqs and softirqs: time spent in interrupt handlers, summed per
//! CPU in the kernel by IRQ or softirq vector.

/// Log2 slots of a handler's time (nanoseconds): slot 31 holds 2^31 ns
/// (2.1 s) and everything above.
pub const SLOTS: usize = 32;

/// Read-only global set before load.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqConfig {
    /// Nanoseconds per histogram unit: 1 (`-N`) or 1000.
    pub unit_ns: u64,
    /// Non-zero: fill the log2 slots (`--dist`); otherwise count and sum only.
    pub dist: u32,
    pub _pad: u32,
}

impl IrqConfig {
    pub const DEFAULT: IrqConfig = IrqConfig {
        unit_ns: 1000,
        dist: 0,
        _pad: 0,
    };
}

/// Per CPU: what each CPU has spent in one IRQ or vector (user space sums
/// the CPUs).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IrqTime {
    pub count: u64,
    pub total_ns: u64,
    /// Handler times, in the configured unit, by log2 slot.
    pub slots: [u64; SLOTS],
}

impl IrqTime {
    pub const ZERO: IrqTime = IrqTime {
        count: 0,
        total_ns: 0,
        slots: [0; SLOTS],
    };
}

/// Bytes of an IRQ handler's name kept (`irqaction.name`, NUL included).
pub const IRQ_NAME_LEN: usize = 32;

/// hardirqs' key: the IRQ and the handler's name (a shared IRQ has one
/// handler per device, each traced apart).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HardirqKey {
    pub irq: u32,
    pub name: [u8; IRQ_NAME_LEN],
}

/// hardirqs: IRQ+name keys the map can hold.
pub const MAX_IRQS: u32 = 1024;

/// softirqs: vectors (`NR_SOFTIRQS`); the array has one slot per vector.
pub const SOFTIRQ_VECS: u32 = 10;

/// Where `irq:irq_handler_entry` keeps `int irq` and the `__data_loc`
/// word of `name`, and where `irq_handler_exit` and `softirq_*` keep
/// `irq`/`vec`; user space checks these against the format files.
pub const IRQ_OFFSET: usize = 8;
pub const IRQ_NAME_LOC_OFFSET: usize = 12;
pub const SOFTIRQ_VEC_OFFSET: usize = 8;

#[cfg(feature = "user")]
mod user {
    // SAFETY: plain #[repr(C)] data; any bit pattern is valid.
    unsafe impl aya::Pod for super::IrqConfig {}
    unsafe impl aya::Pod for super::IrqTime {}
    unsafe impl aya::Pod for super::HardirqKey {}
}
