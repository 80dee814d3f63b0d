//! What the kernel half attaches to, and its events as records: shared
//! by the tcpaccept command and the dashboard.

use ebpftop_common::tcp::TcpEvent;
use ebpftop_output::{Common, Record, Row};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object};
use ebpftop_tcp::{Endpoints, accept_hooks, common};
use serde::Serialize;

static HOOKS: &[Hook] = &accept_hooks!("tcpaccept_enter", "tcpaccept_exit");

pub static OBJECT: ToolObject = ToolObject {
    tool: "tcpaccept",
    bytes: embedded_object!("tcpaccept"),
    hooks: HOOKS,
};

#[derive(Serialize)]
pub struct AcceptRecord {
    #[serde(flatten)]
    pub common: Common,
    #[serde(flatten)]
    pub ep: Endpoints,
}

impl Record for AcceptRecord {
    const EVENT: &'static str = "accept";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.ep.ip)
            .cell(self.ep.daddr)
            .cell(self.ep.dport)
            .cell(self.ep.saddr)
            .cell(self.ep.sport);
    }
}

impl AcceptRecord {
    pub fn new(e: &TcpEvent, clock: &Clock) -> Self {
        AcceptRecord {
            common: common(&e.header, clock),
            ep: Endpoints::from(&e.ep),
        }
    }
}
