//! tcpconnect: the command line and what the kernel half attaches to are a
//! library, so `cargo xtask docs` can generate the man page and the
//! dashboard can reuse the kernel half (its records are
//! `ebpftop_tcp::connect::ConnectRecord`).
pub mod cli;

use ebpftop_runtime::{Hook, ToolObject, embedded_object};
use ebpftop_tcp::state_change_hook;

static HOOKS: &[Hook] = &[state_change_hook!("tcpconnect_state")];

pub static OBJECT: ToolObject = ToolObject {
    tool: "tcpconnect",
    bytes: embedded_object!("tcpconnect"),
    hooks: HOOKS,
};
