//! What the dashboard's state is made from: typed inputs, one per record.
//! Live, the collectors build them from the tools' decoded kernel records;
//! in a replay they are parsed back from the JSON lines those records were
//! written as (the tools' `--json` schema), so both paths meet here.

use ebpftop_output::histogram::{Log2Hist, MAX_SLOTS, log2_slot};
use serde::Deserialize;
use serde_json::Value;

/// Who a process is, looked up once in /proc when it is first seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: u32,
    pub comm: String,
    pub uid: Option<u32>,
    pub user: String,
    pub cgroup: String,
}

/// An open, openat or openat2 call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenEvent {
    pub ts_ns: u64,
    pub pid: u32,
    pub comm: String,
    pub uid: u32,
    pub path: String,
    /// The errno's name when it failed.
    pub error: Option<String>,
}

/// An exec, with its result when it came.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecEvent {
    pub ts_ns: u64,
    pub pid: u32,
    pub ppid: u32,
    pub comm: String,
    pub uid: u32,
    pub argv: String,
    pub ret: Option<i64>,
}

/// What happened to a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetKind {
    Connect,
    Accept,
    Close,
}

impl NetKind {
    pub fn label(self) -> &'static str {
        match self {
            NetKind::Connect => "connect",
            NetKind::Accept => "accept",
            NetKind::Close => "close",
        }
    }
}

/// A connect (with its result and handshake latency), an accept, or a
/// close (with the connection's lifespan and bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetEvent {
    pub kind: NetKind,
    pub ts_ns: u64,
    pub pid: u32,
    pub comm: String,
    /// `addr:port`, IPv6 in brackets.
    pub local: String,
    pub remote: String,
    /// connect: connected, refused, ...; others: empty.
    pub result: String,
    /// connect: handshake time; close: lifespan.
    pub span_ns: u64,
    pub tx_bytes: u64,
    pub rx_bytes: u64,
}

impl NetEvent {
    pub fn failed(&self) -> bool {
        self.kind == NetKind::Connect && self.result != "connected"
    }
}

/// One syscall's latencies over one interval, for one process (`pid`
/// set) or the whole system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallStats {
    pub pid: Option<u32>,
    pub comm: String,
    pub nr: u32,
    pub name: String,
    pub count: u64,
    pub total_ns: u64,
    /// In microseconds.
    pub hist: Log2Hist,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// Run-queue latency over one interval, system-wide (`cgroup` None) or for
/// one cgroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunqStats {
    pub cgroup: Option<String>,
    pub pid: Option<u32>,
    pub count: u64,
    /// In microseconds.
    pub hist: Log2Hist,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

/// One BPF program's counters, read at an interval's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BpfProgram {
    pub id: u32,
    pub kind: String,
    pub name: String,
    /// Cumulative, since stats were turned on (None when they are off).
    pub run_count: Option<u64>,
    pub run_time_ns: Option<u64>,
    /// Loaded by this dashboard.
    pub ours: bool,
}

/// One input to the dashboard's state.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    Process(ProcInfo),
    Open(OpenEvent),
    Exec(ExecEvent),
    Net(NetEvent),
    Syscalls(SyscallStats),
    Runq(RunqStats),
    /// Every program on the system, replacing the last list.
    Bpf(Vec<BpfProgram>),
    /// A view could not start; the text says why.
    Unavailable {
        view: String,
        why: String,
    },
    /// Events the kernel could not deliver since the last report.
    Lost(u64),
    /// The interval ending at `ts_ns` is complete: rates are computed.
    IntervalEnd {
        ts_ns: u64,
        uptime_secs: Option<f64>,
    },
}

/// The capture's first line: what recorded it, and how often.
pub const CAPTURE_EVENT: &str = "ebpftop";

#[derive(Deserialize)]
struct Common {
    #[serde(default)]
    ts_ns: u64,
    #[serde(default)]
    pid: u32,
    #[serde(default)]
    comm: String,
    /// Null in a process line whose lookup failed.
    #[serde(default)]
    uid: Option<u32>,
}

#[derive(Deserialize)]
struct HistJson {
    buckets: Vec<BucketJson>,
}

#[derive(Deserialize)]
struct BucketJson {
    low: u64,
    count: u64,
}

#[derive(Deserialize)]
struct LatencyJson {
    count: u64,
    p50: u64,
    p99: u64,
    max: u64,
}

fn hist_from_json(h: &HistJson) -> Log2Hist {
    let mut slots = vec![0u64; MAX_SLOTS];
    for b in &h.buckets {
        // A bucket's low end is the first value of its slot.
        slots[log2_slot(b.low)] += b.count;
    }
    Log2Hist::from_buckets(&slots)
}

fn host_port(v: &Value, addr: &str, port: &str) -> String {
    let a = v[addr].as_str().unwrap_or("?");
    let p = v[port].as_u64().unwrap_or(0);
    if a.contains(':') {
        format!("[{a}]:{p}")
    } else {
        format!("{a}:{p}")
    }
}

fn field<T: for<'de> Deserialize<'de>>(v: &Value) -> Option<T> {
    T::deserialize(v).ok()
}

/// The input a captured JSON line stands for; `None` for lines the
/// dashboard does not use (the capture header, unknown kinds).
pub fn from_json(v: &Value) -> Option<Input> {
    let c: Common = field(v)?;
    let text = |k: &str| v[k].as_str().unwrap_or("").to_string();
    Some(match v["event"].as_str()? {
        "process" => Input::Process(ProcInfo {
            pid: c.pid,
            comm: c.comm,
            uid: v["uid"].as_u64().map(|u| u as u32),
            user: text("user"),
            cgroup: text("cgroup"),
        }),
        "open" => Input::Open(OpenEvent {
            ts_ns: c.ts_ns,
            pid: c.pid,
            comm: c.comm,
            uid: c.uid.unwrap_or(0),
            path: text("path"),
            error: v["error"].as_str().map(str::to_string).or_else(|| {
                v["errno"]
                    .as_i64()
                    .filter(|e| *e > 0)
                    .map(|e| format!("errno {e}"))
            }),
        }),
        "exec" => Input::Exec(ExecEvent {
            ts_ns: c.ts_ns,
            pid: c.pid,
            ppid: v["ppid"].as_u64().unwrap_or(0) as u32,
            comm: c.comm,
            uid: c.uid.unwrap_or(0),
            argv: v["argv"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default(),
            ret: v["ret"].as_i64(),
        }),
        kind @ ("connect" | "accept" | "tcplife") => Input::Net(NetEvent {
            kind: match kind {
                "connect" => NetKind::Connect,
                "accept" => NetKind::Accept,
                _ => NetKind::Close,
            },
            ts_ns: c.ts_ns,
            pid: c.pid,
            comm: c.comm,
            local: host_port(v, "saddr", "sport"),
            remote: host_port(v, "daddr", "dport"),
            result: text("result"),
            span_ns: v["latency_ns"]
                .as_u64()
                .or(v["duration_ns"].as_u64())
                .unwrap_or(0),
            tx_bytes: v["tx_bytes"].as_u64().unwrap_or(0),
            rx_bytes: v["rx_bytes"].as_u64().unwrap_or(0),
        }),
        "syslat" => {
            let hist: HistJson = field(&v["hist"])?;
            let lat: LatencyJson = field(&v["latency"])?;
            Input::Syscalls(SyscallStats {
                pid: v["pid"].as_u64().map(|p| p as u32),
                comm: c.comm,
                nr: v["nr"].as_u64()? as u32,
                name: text("syscall"),
                count: lat.count,
                total_ns: v["total_ns"].as_u64().unwrap_or(0),
                hist: hist_from_json(&hist),
                p50_us: lat.p50,
                p99_us: lat.p99,
                max_us: lat.max,
            })
        }
        "runqlat" => {
            let hist: HistJson = field(&v["hist"])?;
            let lat: LatencyJson = field(&v["latency"])?;
            Input::Runq(RunqStats {
                cgroup: v["cgroup"].as_str().map(str::to_string),
                pid: v["pid"].as_u64().map(|p| p as u32),
                count: lat.count,
                hist: hist_from_json(&hist),
                p50_us: lat.p50,
                p99_us: lat.p99,
                max_us: lat.max,
            })
        }
        "bpf" => Input::Bpf(
            field::<Vec<BpfJson>>(&v["programs"])?
                .into_iter()
                .map(|p| BpfProgram {
                    id: p.id,
                    kind: p.kind,
                    name: p.name,
                    run_count: p.run_count,
                    run_time_ns: p.run_time_ns,
                    ours: p.ours,
                })
                .collect(),
        ),
        "unavailable" => Input::Unavailable {
            view: text("view"),
            why: text("why"),
        },
        "lost" => Input::Lost(v["count"].as_u64().unwrap_or(0)),
        "interval" => Input::IntervalEnd {
            ts_ns: c.ts_ns,
            uptime_secs: v["uptime_secs"].as_f64(),
        },
        _ => return None,
    })
}

#[derive(Deserialize)]
struct BpfJson {
    id: u32,
    kind: String,
    name: String,
    run_count: Option<u64>,
    run_time_ns: Option<u64>,
    ours: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_and_connect_lines_parse() {
        let v: Value = serde_json::from_str(
            r#"{"event":"open","ts_ns":5,"pid":7,"tid":7,"comm":"cat","uid":0,"cgroup_id":1,
               "syscall":"openat","ret":-2,"fd":null,"errno":2,"error":"ENOENT","path":"/x"}"#,
        )
        .unwrap();
        let Some(Input::Open(o)) = from_json(&v) else {
            panic!("not an open")
        };
        assert_eq!((o.pid, o.comm.as_str(), o.path.as_str()), (7, "cat", "/x"));
        assert_eq!(o.error.as_deref(), Some("ENOENT"));
        let v: Value = serde_json::from_str(
            r#"{"event":"connect","ts_ns":5,"pid":8,"comm":"curl","ip":6,"saddr":"::1",
               "sport":4000,"daddr":"::1","dport":80,"result":"refused","latency_ns":9}"#,
        )
        .unwrap();
        let Some(Input::Net(n)) = from_json(&v) else {
            panic!("not a connect")
        };
        assert_eq!(n.remote, "[::1]:80");
        assert!(n.failed());
    }

    #[test]
    fn syslat_histogram_round_trips() {
        let mut h = Log2Hist::new();
        for v in [0, 1, 3, 900, 1000, 70_000] {
            h.add(v);
        }
        let line = serde_json::json!({
            "event": "syslat", "ts_ns": 1, "interval": 1, "syscall": "read", "nr": 0,
            "pid": 3, "comm": "x", "total_ns": 10,
            "hist": h.json("usecs"),
            "latency": {"count": 6, "min": 0, "mean": 1.0, "p50": 3, "p90": 9, "p99": 70000, "max": 70000},
        });
        let Some(Input::Syscalls(s)) = from_json(&line) else {
            panic!("not syslat")
        };
        assert_eq!(s.hist, h);
        assert_eq!((s.pid, s.count, s.p99_us), (Some(3), 6, 70000));
    }
}
