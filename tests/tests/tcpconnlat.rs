//! tcpconnlat against the real kernel, over loopback: a workload's
//! connect, with its latency; failed connects and fast ones under -m
//! are not shown.

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use ebpftop_tests::{NetNs, Tracer, Workload, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
/// The slow connect's port, in the test's own network namespace.
const PORT: &str = "5003";

#[test]
fn reports_latency_of_completed_connects_above_the_threshold() {
    require_root();
    let _g = serial();
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = Workload::start(&["connect", "127.0.0.1", &closed.to_string()]);
    let w = Workload::start(&["tcp-pair", "::1", "0", "0", "--comm", "tcpcl-pair"]);
    let pid = w.pid().to_string();
    let refused_pid = refused.pid().to_string();
    let all = Tracer::ours("tcpconnlat", &["--json", "-p", &pid]);
    // Nothing on loopback takes 10 s.
    let slow = Tracer::ours("tcpconnlat", &["--json", "-m", "10000", "-p", &pid]);
    let failed = Tracer::ours("tcpconnlat", &["--json", "-p", &refused_pid]);
    assert_eq!(refused.go()["errno"], libc::ECONNREFUSED);
    let report = w.go();
    let port = report["port"].as_u64().unwrap();
    all.wait_stdout(|l| l.contains(&format!("\"dport\":{port}")), WAIT)
        .expect("the connect");
    std::thread::sleep(Duration::from_millis(300));
    let events = all.stop().json();
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(e["event"], "connect");
    assert_eq!(e["pid"], w_pid(&report));
    assert_eq!(e["comm"], "tcpcl-pair");
    assert_eq!(e["daddr"], "::1");
    assert_eq!(e["sport"], report["client_port"]);
    assert_eq!(e["result"], "connected");
    let latency = e["latency_ns"].as_u64().unwrap();
    assert!(latency > 0 && latency < 5_000_000_000, "latency {latency}");
    let fin = slow.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    assert_eq!(fin.stdout, Vec::<String>::new(), "-m 10000 let through");
    assert_eq!(failed.stop().stdout, Vec::<String>::new(), "refused shown");
}

/// A connect slower than -m's threshold is shown, with its latency; a fast
/// one beside it is not. The slow one's first SYN is dropped by a firewall
/// rule in the test's own network namespace, which is taken away before
/// the SYN is sent again (after about a second).
#[test]
fn reports_a_connect_slower_than_the_threshold() {
    require_root();
    let _g = serial();
    let ns = NetNs::new("tcpconnlat");
    let server = Workload::start_in_netns(&ns, &["tcp-serve", "127.0.0.1", PORT]);
    ns.wait_listening(PORT);
    let rule = |op| {
        let drop_syn = [
            "INPUT", "-i", "lo", "-p", "tcp", "--syn", "--dport", PORT, "-j", "DROP",
        ];
        ns.run("iptables", &[&[op][..], &drop_syn].concat(), true);
    };
    rule("-A");
    let slow =
        Workload::start_in_netns(&ns, &["connect", "127.0.0.1", PORT, "--comm", "tcpcl-slow"]);
    let fast = Workload::start(&["tcp-pair", "127.0.0.1", "0", "0", "--comm", "tcpcl-slow"]);
    let ours = Tracer::ours("tcpconnlat", &["--json", "-m", "500", "-c", "tcpcl-slow"]);
    let fast_report = fast.go();
    let served = std::thread::spawn(move || server.go());
    let connecting = std::thread::spawn(move || slow.go());
    wait_dropped(&ns);
    rule("-D");
    let report = connecting.join().expect("the slow connect");
    assert_eq!(report["errno"], 0, "{report}");
    served.join().expect("the server");
    ours.wait_stdout(|l| l.contains(&format!("\"dport\":{PORT}")), WAIT)
        .expect("the slow connect");
    std::thread::sleep(Duration::from_millis(300));
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(e["pid"], report["pid"], "not the fast one, {fast_report}");
    assert_eq!(e["sport"], report["client_port"]);
    assert_eq!(e["result"], "connected");
    let latency = e["latency_ns"].as_u64().unwrap();
    assert!(
        (900_000_000..5_000_000_000).contains(&latency),
        "latency {latency} ns for a connect whose first SYN was dropped"
    );
}

/// Waits until the rule dropping SYNs in `ns` has dropped one.
fn wait_dropped(ns: &NetNs) {
    let deadline = Instant::now() + WAIT;
    let rule = format!("dpt:{PORT}");
    loop {
        let listing = ns.output("iptables", &["-nvxL", "INPUT"]);
        let dropped = listing
            .lines()
            .filter(|l| l.contains("DROP") && l.contains(&rule))
            .find_map(|l| l.split_whitespace().next()?.parse::<u64>().ok());
        if dropped.is_some_and(|n| n > 0) {
            return;
        }
        assert!(Instant::now() < deadline, "no SYN dropped: {listing}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn w_pid(report: &Value) -> u64 {
    report["pid"].as_u64().unwrap()
}

#[test]
fn bad_threshold_is_one_line_and_a_failure() {
    for bad in ["-1", "abc", "inf"] {
        let out = std::process::Command::new(ebpftop_tests::bin("tcpconnlat"))
            .args(["-m", bad])
            .output()
            .unwrap();
        assert!(!out.status.success(), "-m {bad} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.starts_with("tcpconnlat: ") && !err.contains("panicked"),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}
