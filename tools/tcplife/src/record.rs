//! What the kernel half attaches to, and its events as records: shared
//! by the tcplife command and the dashboard.

use ebpftop_common::tcp::TcpEvent;
use ebpftop_output::{Common, Record, Row, json_line::JsonLine};
use ebpftop_runtime::{Clock, Hook, ToolObject, embedded_object};
use ebpftop_tcp::{Endpoints, common, state_change_hook};
use serde::Serialize;

static HOOKS: &[Hook] = &[state_change_hook!("tcplife_state")];

pub static OBJECT: ToolObject = ToolObject {
    tool: "tcplife",
    bytes: embedded_object!("tcplife"),
    hooks: HOOKS,
};

#[derive(Serialize)]
pub struct LifeRecord {
    #[serde(flatten)]
    pub common: Common,
    #[serde(flatten)]
    pub ep: Endpoints,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
    pub duration_ns: u64,
}

impl Record for LifeRecord {
    const EVENT: &'static str = "tcplife";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.ep.saddr)
            .cell(self.ep.sport)
            .cell(self.ep.daddr)
            .cell(self.ep.dport)
            .cell(self.tx_bytes / 1024)
            .cell(self.rx_bytes / 1024)
            .cell(format_args!("{:.2}", self.duration_ns as f64 / 1e6));
    }

    const DIRECT_JSON: bool = true;

    fn json_fields(&self, line: &mut JsonLine<'_>) {
        line.common(&self.common);
        self.ep.json(line);
        line.int("tx_bytes", self.tx_bytes)
            .int("rx_bytes", self.rx_bytes)
            .int("duration_ns", self.duration_ns);
    }
}

impl LifeRecord {
    pub fn new(e: &TcpEvent, clock: &Clock) -> Self {
        LifeRecord {
            common: common(&e.header, clock),
            ep: Endpoints::from(&e.ep),
            tx_bytes: e.tx_bytes,
            rx_bytes: e.rx_bytes,
            duration_ns: e.span_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use ebpftop_output::json_line::assert_direct_is_serde;

    use super::*;

    #[test]
    fn direct_json_is_what_serde_writes() {
        for (common, ep) in ebpftop_tcp::json_samples() {
            assert_direct_is_serde(&LifeRecord {
                common,
                ep,
                tx_bytes: 1 << 20,
                rx_bytes: 0,
                duration_ns: u64::MAX,
            });
        }
    }
}
