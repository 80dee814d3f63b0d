//! One program on a tracepoint for all of our tools that watch it at once.
//!
//! Each program a tracepoint calls costs its call, apart from what the
//! program does (about 80 ns on a VM with retpolines, more than most of
//! our programs' work). Tools that share a hook therefore put their
//! programs in a chain (a prog array, [`hub!`]): the tool that came first
//! attaches a program that only tail-calls the chain's first place, and
//! every program in the chain, after its own work, tail-calls the next
//! place that holds one. User space (the runtime's `hub`) hands out the
//! places.

use aya_ebpf::{EbpfContext, maps::ProgramArray};

/// Declares the chains (`HUB_CHAIN_BTF` and `HUB_CHAIN_RAW`: a prog array
/// holds programs of one type), this object's place in its chain
/// (`HUB_INDEX`, set by user space before load), the programs that start
/// them on `$tracepoint` (`hub_tp_btf` and `hub_raw_tp`) and what the
/// object's programs call to pass the tracepoint on (`hub_pass_on_btf` and
/// `hub_pass_on_raw`).
#[macro_export]
macro_rules! hub {
    ($tracepoint:literal) => {
        #[aya_ebpf::macros::map]
        static HUB_CHAIN_BTF: aya_ebpf::maps::ProgramArray =
            aya_ebpf::maps::ProgramArray::with_max_entries(ebpftop_common::hub::SLOTS, 0);

        #[aya_ebpf::macros::map]
        static HUB_CHAIN_RAW: aya_ebpf::maps::ProgramArray =
            aya_ebpf::maps::ProgramArray::with_max_entries(ebpftop_common::hub::SLOTS, 0);

        #[unsafe(no_mangle)]
        static HUB_INDEX: u32 = 0;

        #[aya_ebpf::macros::btf_tracepoint(function = $tracepoint)]
        pub fn hub_tp_btf(ctx: aya_ebpf::programs::BtfTracePointContext) -> u32 {
            $crate::hub::run_from(&ctx, &HUB_CHAIN_BTF, 0);
            0
        }

        #[aya_ebpf::macros::raw_tracepoint(tracepoint = $tracepoint)]
        pub fn hub_raw_tp(ctx: aya_ebpf::programs::RawTracePointContext) -> u32 {
            $crate::hub::run_from(&ctx, &HUB_CHAIN_RAW, 0);
            0
        }

        /// Passes the tracepoint on to the tp_btf programs after this
        /// object's place in the chain.
        #[inline(always)]
        fn hub_pass_on_btf(ctx: &aya_ebpf::programs::BtfTracePointContext) {
            $crate::hub::run_from(ctx, &HUB_CHAIN_BTF, $crate::hub::after(&HUB_INDEX));
        }

        /// Passes the tracepoint on to the raw tracepoint programs after
        /// this object's place in the chain.
        #[inline(always)]
        fn hub_pass_on_raw(ctx: &aya_ebpf::programs::RawTracePointContext) {
            $crate::hub::run_from(ctx, &HUB_CHAIN_RAW, $crate::hub::after(&HUB_INDEX));
        }
    };
}

/// What a program that is not chained passes the tracepoint on to: nothing.
#[inline(always)]
pub fn alone<C>(_: &C) {}

/// The first place after the one `index` (a read-only global) holds.
/// Volatile, so the compiler does not fold in the value user space
/// replaces.
#[inline(always)]
pub fn after(index: &u32) -> u32 {
    // SAFETY: a reference to a plain static, set before load.
    unsafe { core::ptr::read_volatile(index) + 1 }
}

/// Tail-calls the first program in `chain` at place `from` or after, and
/// returns only if there is none. `from` comes from a read-only global,
/// a constant to the verifier, so the places before it are dropped as
/// dead code and each call left has a constant place, which the JIT
/// makes a direct jump (a no-op while the place is empty).
#[inline(always)]
pub fn run_from<C: EbpfContext>(ctx: &C, chain: &ProgramArray, from: u32) {
    macro_rules! places {
        ($($i:literal)*) => {$(
            if $i >= from {
                // SAFETY: the chain holds programs of this one's type and
                // hook, which take the same context.
                unsafe { chain.tail_call(ctx, $i) };
            }
        )*};
    }
    places!(0 1 2 3 4 5 6 7);
    const _: () = assert!(ebpftop_common::hub::SLOTS == 8);
}
