//! Tools that share one program on a tracepoint (see the runtime's `hub`):
//! the chain of their programs, which the shared program starts.

/// Places in a chain: the program that attached and the tools that joined
/// it. Each place is a constant tail call in every program of the chain.
pub const SLOTS: u32 = 8;

/// The chain's prog array in each object that can share a hook.
pub const CHAIN_MAP: &str = "HUB_CHAIN";
/// The global holding the object's place in the chain, set before load.
pub const INDEX_GLOBAL: &str = "HUB_INDEX";
