//! The user-side runtime shared by every ebpftop tool: load an object,
//! attach its programs with fallback, read its ring buffer in an event
//! loop, account for lost events, and build in-kernel filters.

pub use aya;

pub mod attach;
pub mod btf;
pub mod clock;
pub mod cpu_records;
pub mod event_loop;
pub mod filter;
pub mod hub;
pub mod load;
pub mod lost;
pub mod privileges;
pub mod sched;
mod sys;
pub mod task;
pub mod tracefs;

pub use attach::{AttachPoint, Candidate, Hook, KernelFeatures};
pub use clock::Clock;
pub use event_loop::{Consumer, EventLoop, Ring, Stop};
pub use filter::FilterSpec;
pub use load::{LoadOptions, Loaded, ToolObject};
pub use lost::LostCounter;
pub use task::{
    SCHED_OFFSETS_GLOBAL, SYSCALL_REGS_GLOBAL, TASK_OFFSETS_GLOBAL, field_offset, kernel_btf,
    sched_offsets, syscall_regs, task_offsets,
};

/// Errors a user can meet; each displays as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Permission(String),
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Tracefs(String),
    #[error("kernel has no tracepoint {0}")]
    MissingTracepoint(String),
    #[error("unexpected tracepoint layout: {0}")]
    Layout(String),
    #[error("loading eBPF object {0}")]
    Load(String),
    #[error("attaching {0}")]
    Attach(String),
    #[error("kernel BTF: {0}")]
    Btf(String),
    #[error("map {0}")]
    Map(String),
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
}

/// Copies a `#[repr(C)]` value out of a ring buffer record, or `None` when
/// the record is too short (a record from another tool's version).
pub fn read_record<T: Copy>(data: &[u8]) -> Option<T> {
    if data.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: length checked; read_unaligned copes with any alignment and
    // T is plain data for which any bit pattern is valid.
    Some(unsafe { std::ptr::read_unaligned(data.as_ptr().cast::<T>()) })
}

/// The compiled kernel half of tool `$name`, embedded in the binary from
/// `ebpf/objects/$name.bpf.o` (built by `cargo xtask ebpf`, committed so a
/// stable toolchain builds the tools).
#[macro_export]
macro_rules! embedded_object {
    ($name:literal) => {
        $crate::aya::include_bytes_aligned!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../ebpf/objects/",
            $name,
            ".bpf.o"
        ))
    };
}

/// A [`Hook`] on one syscall tracepoint: `syscall_hook!("openat entry",
/// "openat_enter", "sys_enter_openat", true)` attaches program
/// `openat_enter` to `syscalls:sys_enter_openat`; `required: false` skips
/// it on kernels without that syscall.
#[macro_export]
macro_rules! syscall_hook {
    ($name:expr, $program:expr, $tracepoint:expr, $required:expr) => {
        $crate::Hook {
            name: $name,
            candidates: &[$crate::Candidate {
                program: $program,
                at: $crate::AttachPoint::Tracepoint {
                    category: "syscalls",
                    name: $tracepoint,
                },
            }],
            required: $required,
            shared: false,
        }
    };
}

/// The entry and exit [`Hook`]s of syscalls, as a `&[Hook]`: each
/// `("label", "prog", "syscall", required)` attaches programs
/// `prog_enter`/`prog_exit` to `syscalls:sys_enter_syscall`/`sys_exit_syscall`,
/// named "label entry"/"label exit" in `--verbose`.
#[macro_export]
macro_rules! syscall_hooks {
    ($(($label:literal, $program:literal, $syscall:literal, $required:literal)),* $(,)?) => {
        &[$(
            $crate::syscall_hook!(
                concat!($label, " entry"),
                concat!($program, "_enter"),
                concat!("sys_enter_", $syscall),
                $required
            ),
            $crate::syscall_hook!(
                concat!($label, " exit"),
                concat!($program, "_exit"),
                concat!("sys_exit_", $syscall),
                $required
            ),
        )*]
    };
}

/// A scheduler tool's three hooks (wakeup, new task wakeup, context
/// switch), for programs named `PREFIX_{wakeup,wakeup_new,switch}_btf`,
/// `..._raw`, and `PREFIX_wakeup` / `PREFIX_switch` on classic tracepoints.
/// Declares each [`Candidate`] (`BTF_WAKEUP`, `RAW_SWITCH`, `TP_WAKEUP_NEW`,
/// ...), `hook(name, candidates)`, and two hook lists: `HOOKS` (BTF
/// tracepoints first, then raw, then classic) and `HOOKS_RAW` (without the
/// classic ones, whose records carry no task pointer).
#[macro_export]
macro_rules! sched_hooks {
    ($prefix:literal) => {
        $crate::sched_hooks!(@c BTF_WAKEUP, $prefix, "_wakeup_btf", BtfTracepoint, "sched_wakeup");
        $crate::sched_hooks!(
            @c BTF_WAKEUP_NEW, $prefix, "_wakeup_new_btf", BtfTracepoint, "sched_wakeup_new"
        );
        $crate::sched_hooks!(@c BTF_SWITCH, $prefix, "_switch_btf", BtfTracepoint, "sched_switch");
        $crate::sched_hooks!(@c RAW_WAKEUP, $prefix, "_wakeup_raw", RawTracepoint, "sched_wakeup");
        $crate::sched_hooks!(
            @c RAW_WAKEUP_NEW, $prefix, "_wakeup_new_raw", RawTracepoint, "sched_wakeup_new"
        );
        $crate::sched_hooks!(@c RAW_SWITCH, $prefix, "_switch_raw", RawTracepoint, "sched_switch");
        $crate::sched_hooks!(@tp TP_WAKEUP, concat!($prefix, "_wakeup"), "sched_wakeup");
        $crate::sched_hooks!(@tp TP_WAKEUP_NEW, concat!($prefix, "_wakeup"), "sched_wakeup_new");
        $crate::sched_hooks!(@tp TP_SWITCH, concat!($prefix, "_switch"), "sched_switch");

        const fn hook(
            name: &'static str,
            candidates: &'static [$crate::Candidate],
        ) -> $crate::Hook {
            $crate::Hook {
                name,
                candidates,
                required: true,
                shared: false,
            }
        }

        static HOOKS: &[$crate::Hook] = &[
            hook("wakeup", &[BTF_WAKEUP, RAW_WAKEUP, TP_WAKEUP]),
            hook("new task wakeup", &[BTF_WAKEUP_NEW, RAW_WAKEUP_NEW, TP_WAKEUP_NEW]),
            hook("context switch", &[BTF_SWITCH, RAW_SWITCH, TP_SWITCH]),
        ];
        static HOOKS_RAW: &[$crate::Hook] = &[
            hook("wakeup", &[BTF_WAKEUP, RAW_WAKEUP]),
            hook("new task wakeup", &[BTF_WAKEUP_NEW, RAW_WAKEUP_NEW]),
            hook("context switch", &[BTF_SWITCH, RAW_SWITCH]),
        ];
    };
    (@c $name:ident, $prefix:literal, $suffix:literal, $kind:ident, $tp:literal) => {
        const $name: $crate::Candidate = $crate::Candidate {
            program: concat!($prefix, $suffix),
            at: $crate::AttachPoint::$kind { name: $tp },
        };
    };
    (@tp $name:ident, $program:expr, $tp:literal) => {
        const $name: $crate::Candidate = $crate::Candidate {
            program: $program,
            at: $crate::AttachPoint::Tracepoint {
                category: "sched",
                name: $tp,
            },
        };
    };
}
