//! tcpconnect against the real kernel, over loopback: each connect a
//! workload with a known pid made, reported once, with its outcome.

use std::{net::TcpListener, time::Duration};

use ebpftop_tests::{NetNs, Tracer, Workload, require_root, sched::TestCgroup, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

fn connects(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "connect").collect()
}

/// Every attach path: tp_btf, and the raw tracepoint that kernels without
/// BTF tracepoints fall back to; each keeping its records in slots, and
/// in a hash map as kernels before 5.12 (no BPF atomics) do; and a program
/// that is not chained. Taken here by skipping the others.
const PATHS: [(&[(&str, &str)], &str); 5] = [
    (
        &[],
        "tp_btf inet_sock_set_state (program tcpconnect_state_btf)",
    ),
    (
        &[("EBPFTOP_SKIP_ATTACH", "tp_btf")],
        "raw_tracepoint inet_sock_set_state (program tcpconnect_state_raw)",
    ),
    (
        &[(
            "EBPFTOP_SKIP_ATTACH",
            "tcpconnect_state_btf,tcpconnect_state_raw",
        )],
        "tp_btf inet_sock_set_state (program tcpconnect_state_btf_h)",
    ),
    (
        &[("EBPFTOP_SKIP_ATTACH", "tp_btf,tcpconnect_state_raw")],
        "raw_tracepoint inet_sock_set_state (program tcpconnect_state_raw_h)",
    ),
    // Not chained with other tools: for kernels that refuse tail calls in
    // programs with calls of their own.
    (
        &[(
            "EBPFTOP_SKIP_ATTACH",
            "tcpconnect_state_btf,tcpconnect_state_raw,tcpconnect_state_btf_h,\
             tcpconnect_state_raw_h",
        )],
        "tp_btf inet_sock_set_state (program tcpconnect_state_btf_alone)",
    ),
];

#[test]
fn reports_successful_connects_over_ipv4_and_ipv6() {
    require_root();
    let _g = serial();
    for (env, path) in PATHS {
        for (addr, ip) in [("127.0.0.1", 4), ("::1", 6)] {
            connect_once(addr, ip, env, path);
        }
    }
}

fn connect_once(addr: &str, ip: u64, env: &[(&str, &str)], path: &str) {
    {
        let w = Workload::start(&["tcp-pair", addr, "0", "0", "--comm", "tcpc-pair"]);
        let pid = w.pid();
        let ours = Tracer::ours_env("tcpconnect", &["--json", "-p", &pid.to_string()], env);
        let report = w.go();
        let port = report["port"].as_u64().unwrap();
        ours.wait_stdout(|l| l.contains(&format!("\"dport\":{port}")), WAIT)
            .unwrap_or_else(|| panic!("no connect to {addr} port {port}"));
        let fin = ours.stop();
        assert!(fin.status.success(), "{:?}", fin.stderr);
        fin.assert_attached("TCP state changes", path);
        let events = fin.json();
        let c = connects(&events);
        // The accepted end is passive: only the client's connect shows.
        assert_eq!(c.len(), 1, "{events:#?}");
        let c = c[0];
        assert_eq!(c["pid"], pid);
        assert_eq!(c["tid"], report["tid"]);
        assert_eq!(c["comm"], "tcpc-pair");
        assert_eq!(c["uid"], 0);
        assert_eq!(c["ip"], ip);
        assert_eq!(c["saddr"], addr);
        assert_eq!(c["daddr"], addr);
        assert_eq!(c["dport"], port);
        assert_eq!(c["sport"], report["client_port"]);
        assert_eq!(c["result"], "connected");
        assert_eq!(c["errno"], 0);
        assert_eq!(c["error"], Value::Null);
        let latency = c["latency_ns"].as_u64().unwrap();
        assert!(latency > 0 && latency < 5_000_000_000, "latency {latency}");
    }
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn reports_a_refused_connect() {
    require_root();
    let _g = serial();
    let port = closed_port();
    let w = Workload::start(&["connect", "127.0.0.1", &port.to_string()]);
    let pid = w.pid();
    let ours = Tracer::ours("tcpconnect", &["--json", "-p", &pid.to_string()]);
    let report = w.go();
    assert_eq!(report["errno"], libc::ECONNREFUSED);
    ours.wait_stdout(|l| l.contains("refused"), WAIT)
        .expect("the refused connect");
    let fin = ours.stop();
    let events = fin.json();
    let c = connects(&events);
    assert_eq!(c.len(), 1, "{events:#?}");
    assert_eq!(c[0]["pid"], pid);
    assert_eq!(c[0]["dport"], port);
    assert_eq!(c[0]["daddr"], "127.0.0.1");
    assert_eq!(c[0]["result"], "refused");
    assert_eq!(c[0]["errno"], libc::ECONNREFUSED);
    assert_eq!(c[0]["error"], "ECONNREFUSED");
}

/// A SYN that a firewall in the test's own network namespace drops: the
/// connect times out (TCP_SYNCNT 1 makes that ~3 s).
#[test]
fn reports_a_timed_out_connect() {
    require_root();
    let _g = serial();
    let ns = NetNs::new("tcpconnect");
    ns.run(
        "iptables",
        &[
            "-A", "INPUT", "-i", "lo", "-p", "tcp", "--dport", "5002", "-j", "DROP",
        ],
        true,
    );
    let w = Workload::start_in_netns(&ns, &["connect-once", "127.0.0.1", "5002"]);
    let pid = w.pid();
    let ours = Tracer::ours("tcpconnect", &["--json", "-p", &pid.to_string()]);
    let report = w.go();
    assert_eq!(report["errno"], libc::ETIMEDOUT);
    ours.wait_stdout(|l| l.contains("timed out"), WAIT)
        .expect("the timed-out connect");
    let events = ours.stop().json();
    let c = connects(&events);
    assert_eq!(c.len(), 1, "{events:#?}");
    assert_eq!(c[0]["pid"], pid);
    assert_eq!(c[0]["dport"], 5002);
    assert_eq!(c[0]["result"], "timed out");
    assert_eq!(c[0]["error"], "ETIMEDOUT");
    assert!(c[0]["latency_ns"].as_u64().unwrap() > 2_000_000_000);
}

/// -P keeps connects to the listed ports only; -c (count mode, as in bcc)
/// sums them per destination and prints the sums at exit: a tool with -P
/// counts only the open port's; one without counts both destinations,
/// the refused connect as failed.
#[test]
fn port_filter_and_count_mode() {
    require_root();
    let _g = serial();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap().port();
    let closed = closed_port();
    let one_port = Tracer::ours("tcpconnect", &["--json", "-c", "-P", &open.to_string()]);
    let every_port = Tracer::ours("tcpconnect", &["--json", "-c", "--comm", "tcpc-count"]);
    let mut pids = Vec::new();
    for port in [open, closed, open] {
        let w = Workload::start(&[
            "connect",
            "127.0.0.1",
            &port.to_string(),
            "--comm",
            "tcpc-count",
        ]);
        pids.push(w.pid());
        w.go();
    }
    // Counts come at exit; give the last connect's event time to arrive.
    std::thread::sleep(Duration::from_millis(500));
    let counts = |t: Tracer| -> Vec<Value> {
        let fin = t.stop();
        assert!(fin.status.success(), "{:?}", fin.stderr);
        let events = fin.json();
        assert!(connects(&events).is_empty(), "count mode printed connects");
        let counts: Vec<Value> = events
            .iter()
            .filter(|e| e["event"] == "connect_count")
            .cloned()
            .collect();
        assert_eq!(counts.len(), events.len(), "{events:#?}");
        counts
    };
    let c = counts(one_port);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0]["daddr"], "127.0.0.1");
    assert_eq!(c[0]["dport"], open);
    assert_eq!(c[0]["connects"], 2);
    assert_eq!(c[0]["failed"], 0);
    assert_eq!(c[0]["pid"], pids[2]);
    // In order of first connect.
    let c = counts(every_port);
    assert_eq!(c.len(), 2, "{c:#?}");
    assert_eq!(c[0]["dport"], open);
    assert_eq!(c[0]["connects"], 2);
    assert_eq!(c[0]["failed"], 0);
    assert_eq!(c[0]["pid"], pids[2]);
    assert_eq!(c[1]["daddr"], "127.0.0.1");
    assert_eq!(c[1]["dport"], closed);
    assert_eq!(c[1]["connects"], 1);
    assert_eq!(c[1]["failed"], 1);
    assert_eq!(c[1]["pid"], pids[1]);
}

/// The table, with -U: a UID column first, holding the connecting
/// process's uid, then the connect's row.
#[test]
fn table_with_the_uid_column() {
    require_root();
    let _g = serial();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let w = Workload::start_as(
        Some(65534),
        &[
            "connect",
            "127.0.0.1",
            &port.to_string(),
            "--comm",
            "tcpc-uid",
        ],
    );
    let pid = w.pid();
    let ours = Tracer::ours("tcpconnect", &["-U", "-p", &pid.to_string()]);
    ours.wait_reference_header("UID");
    w.go();
    let row = ours
        .wait_stdout(|l| l.contains("tcpc-uid"), WAIT)
        .expect("the connect's row");
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let header = fin
        .stdout
        .iter()
        .find(|l| l.contains("DADDR"))
        .expect("a header");
    let names: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(names.first(), Some(&"UID"), "{header}");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells.first(), Some(&"65534"), "{row}");
    assert_eq!(cells.get(1), Some(&pid.to_string().as_str()), "{row}");
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
    assert_eq!(cells[at("DADDR")], "127.0.0.1", "{header}\n{row}");
    assert_eq!(cells[at("DPORT")], port.to_string(), "{header}\n{row}");
    let rows = fin.stdout.iter().filter(|l| l.contains("tcpc-uid")).count();
    assert_eq!(rows, 1, "{:#?}", fin.stdout);
}

/// -6 drops IPv4 connects in the kernel; --comm selects the workloads.
#[test]
fn family_filter() {
    require_root();
    let _g = serial();
    let ours = Tracer::ours("tcpconnect", &["--json", "-6", "--comm", "tcpc-family"]);
    let v4 = Workload::start(&["tcp-pair", "127.0.0.1", "0", "0", "--comm", "tcpc-family"]);
    let v4_pid = v4.pid();
    v4.go();
    let v6 = Workload::start(&["tcp-pair", "::1", "0", "0", "--comm", "tcpc-family"]);
    let v6_pid = v6.pid();
    let report = v6.go();
    let port = report["port"].as_u64().unwrap();
    ours.wait_stdout(|l| l.contains(&format!("\"dport\":{port}")), WAIT)
        .expect("the IPv6 connect");
    let fin = ours.stop();
    let events = fin.json();
    let c = connects(&events);
    assert_eq!(c.len(), 1, "{events:#?}");
    assert_eq!(c[0]["pid"], v6_pid);
    assert_ne!(c[0]["pid"], v4_pid);
    assert_eq!(c[0]["ip"], 6);
}

#[test]
fn bad_input_is_one_line_and_a_failure() {
    for args in [
        &["-P", "0"][..],
        &["-P", "http"],
        &["-4", "-6"],
        &["-P", "1,2,3,4,5,6,7,8,9"],
        // -c is count mode here; the comm filter is --comm.
        &["-c", "curl"],
    ] {
        let out = std::process::Command::new(ebpftop_tests::bin("tcpconnect"))
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(err.starts_with("tcpconnect: "), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
}

/// Records come without a wake-up per record while they stream (the reader
/// promises the kernel to poll); when the stream stops the promise is
/// withdrawn, so a lone connect just after a burst still wakes the reader
/// at once rather than waiting for its next tick (a second). The gap after
/// each burst differs, to land in the window between the reader's last
/// poll and the end of its promise.
#[test]
fn a_lone_connect_after_a_burst_arrives_at_once() {
    require_root();
    let _g = serial();
    let ours = Tracer::ours("tcpconnect", &["--json"]);
    for gap_ms in (0..=30).step_by(2) {
        let comm = format!("tcpc-lone-{gap_ms}");
        let lone = Workload::start(&["connect-loop", "1", "--comm", &comm]);
        let burst = Workload::start(&["connect-loop", "300", "--comm", "tcpc-burst"]);
        burst.go();
        std::thread::sleep(Duration::from_millis(gap_ms));
        lone.go();
        let done = std::time::Instant::now();
        let quoted = format!("\"{comm}\"");
        ours.wait_stdout(|l| l.contains(&quoted), WAIT)
            .unwrap_or_else(|| panic!("no connect from {comm}"));
        let late = done.elapsed();
        assert!(
            late < Duration::from_millis(250),
            "{gap_ms} ms after a burst, a connect reached us {late:?} after it was made"
        );
    }
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
}

/// The task filters on every attach path (the tp_btf programs read the
/// task's fields themselves, the raw ones through helpers): each lets
/// through the connect of the workload it names, with that workload's
/// uid and cgroup, and stops the other's to the same listener.
#[test]
fn task_filters_select_only_their_process_on_every_path() {
    require_root();
    let _g = serial();
    let cgroup = TestCgroup::new("tcpconnect", &["wanted"]);
    let cgroup_id =
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(cgroup.dir.join("wanted")).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    for (env, path) in PATHS {
        for case in ["uid", "cgroup", "comm"] {
            let wanted = Workload::start_as(
                Some(65534),
                &["connect", "127.0.0.1", &port, "--comm", "tcpc-want"],
            );
            cgroup.add("wanted", wanted.pid());
            let other = Workload::start(&["connect", "127.0.0.1", &port, "--comm", "tcpc-other"]);
            let cgroup_path = cgroup.dir.join("wanted").display().to_string();
            let filter = match case {
                "uid" => ["-u", "65534"],
                "cgroup" => ["--cgroup", cgroup_path.as_str()],
                _ => ["--comm", "tcpc-want"],
            };
            let ours = Tracer::ours_env("tcpconnect", &["--json", filter[0], filter[1]], env);
            let other_report = other.go();
            let report = wanted.go();
            let client_port = report["client_port"].as_u64().unwrap();
            ours.wait_stdout(|l| l.contains(&format!("\"sport\":{client_port}")), WAIT)
                .unwrap_or_else(|| panic!("{case}, {path}: the selected connect was not seen"));
            let fin = ours.stop();
            fin.assert_attached("TCP state changes", path);
            let events = fin.json();
            let c = connects(&events);
            assert_eq!(c.len(), 1, "{case}, {path}: {events:#?}");
            assert_eq!(c[0]["pid"], report["pid"], "{case}, {path}");
            assert_eq!(c[0]["comm"], "tcpc-want", "{case}, {path}");
            assert_eq!(c[0]["uid"], 65534, "{case}, {path}");
            assert_eq!(c[0]["cgroup_id"], cgroup_id, "{case}, {path}");
            assert_ne!(
                other_report["client_port"], report["client_port"],
                "{case}, {path}"
            );
            // Accept both, so the backlog never fills.
            for _ in 0..2 {
                drop(listener.accept().unwrap());
            }
        }
    }
}
