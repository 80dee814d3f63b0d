//! The connect record of tcpconnect and tcpconnlat: who connected where,
//! how it ended and how long the handshake took.

use ebpftop_common::tcp::{TcpEvent, state};
use ebpftop_output::{Column, Common, Record, Row, errno::errno_name, json_line::JsonLine};
use ebpftop_runtime::Clock;
use serde::Serialize;

use crate::{Endpoints, common};

#[derive(Serialize)]
pub struct ConnectRecord {
    #[serde(flatten)]
    pub common: Common,
    #[serde(flatten)]
    pub ep: Endpoints,
    /// `connected`, `refused`, `timed out`, `unreachable`, another errno's
    /// name, or `aborted` (closed before the handshake ended, no error).
    pub result: &'static str,
    /// The failed connect's errno (0 when connected or aborted).
    pub errno: i32,
    pub error: Option<&'static str>,
    /// From connect() (SYN_SENT) to the handshake's end.
    pub latency_ns: u64,
    #[serde(skip)]
    pub show_latency: bool,
}

pub const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("IP", 2),
    Column::left("SADDR", 16),
    Column::left("DADDR", 16),
    Column::right("DPORT", 5),
    Column::left("RESULT", 0),
];

pub const COLUMNS_LATENCY: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("IP", 2),
    Column::left("SADDR", 16),
    Column::left("DADDR", 16),
    Column::right("DPORT", 5),
    Column::right("LAT(ms)", 9),
];

impl Record for ConnectRecord {
    const EVENT: &'static str = "connect";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        row.cell(self.common.pid)
            .bytes(self.common.comm.as_bytes())
            .cell(self.ep.ip)
            .cell(self.ep.saddr)
            .cell(self.ep.daddr)
            .cell(self.ep.dport);
        if self.show_latency {
            row.cell(format_args!("{:.3}", self.latency_ns as f64 / 1e6));
        } else {
            row.cell(self.result);
        }
    }

    const DIRECT_JSON: bool = true;

    fn json_fields(&self, line: &mut JsonLine<'_>) {
        line.common(&self.common);
        self.ep.json(line);
        line.str("result", self.result)
            .int("errno", self.errno)
            .opt_str("error", self.error)
            .int("latency_ns", self.latency_ns);
    }
}

/// What a connect's end state and `sk_err` say happened.
pub fn result(newstate: u32, errno: i32) -> &'static str {
    if newstate == state::ESTABLISHED {
        return "connected";
    }
    match errno {
        0 => "aborted",
        libc::ECONNREFUSED => "refused",
        libc::ETIMEDOUT => "timed out",
        libc::EHOSTUNREACH | libc::ENETUNREACH => "unreachable",
        e => errno_name(e.into()).unwrap_or("failed"),
    }
}

impl ConnectRecord {
    pub fn new(e: &TcpEvent, clock: &Clock, show_latency: bool) -> Self {
        let errno = if e.newstate == state::ESTABLISHED {
            0
        } else {
            e.error
        };
        ConnectRecord {
            common: common(&e.header, clock),
            ep: Endpoints::from(&e.ep),
            result: result(e.newstate, errno),
            errno,
            error: if errno > 0 {
                errno_name(errno.into())
            } else {
                None
            },
            latency_ns: e.span_ns,
            show_latency,
        }
    }
}

#[cfg(test)]
mod tests {
    use ebpftop_output::json_line::assert_direct_is_serde;

    use super::*;

    #[test]
    fn direct_json_is_what_serde_writes() {
        for (common, ep) in crate::json_samples() {
            for (result, errno, error) in [
                ("connected", 0, None),
                ("refused", libc::ECONNREFUSED, Some("ECONNREFUSED")),
            ] {
                assert_direct_is_serde(&ConnectRecord {
                    common,
                    ep,
                    result,
                    errno,
                    error,
                    latency_ns: 40175,
                    show_latency: false,
                });
            }
        }
    }

    #[test]
    fn results() {
        assert_eq!(result(state::ESTABLISHED, 0), "connected");
        assert_eq!(result(state::CLOSE, libc::ECONNREFUSED), "refused");
        assert_eq!(result(state::CLOSE, libc::ETIMEDOUT), "timed out");
        assert_eq!(result(state::CLOSE, libc::ENETUNREACH), "unreachable");
        assert_eq!(result(state::CLOSE, 0), "aborted");
        assert_eq!(result(state::CLOSE, libc::EPERM), "EPERM");
    }
}
