//! Tools that share one program on a tracepoint (see the runtime's `hub`):
//! the chain of their programs, which the shared program starts.

/// Places in a chain: the program that attached and the tools that joined
/// it. Each place is a constant tail call in every program of the chain.
pub const SLOTS: u32 = 8;

/// The global holding the object's place in the chain, set before load.
pub const INDEX_GLOBAL: &str = "HUB_INDEX";

/// Each attach kind (as the runtime names it) that can be shared: its
/// chain's prog array and the program that starts it. A prog array takes
/// programs of one type only, so each kind has a chain of its own.
pub const KINDS: [(&str, &str, &str); 2] = [
    ("tp_btf", "HUB_CHAIN_BTF", "hub_tp_btf"),
    ("raw_tracepoint", "HUB_CHAIN_RAW", "hub_raw_tp"),
];

/// The name ending of a shared hook's programs that do not pass the
/// tracepoint on (for kernels that refuse tail calls in programs that
/// also call functions of their own): attached alone, never chained.
pub const ALONE: &str = "_alone";
