//! tcpaccept against the real kernel, over loopback: the accept a
//! workload made, with the accepting pid and both endpoints.

use std::time::Duration;

use ebpftop_tests::{Tracer, Workload, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

fn accepts(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "accept").collect()
}

#[test]
fn reports_the_accept_over_ipv4_and_ipv6() {
    require_root();
    let _g = serial();
    for (addr, ip) in [("127.0.0.1", 4), ("::1", 6)] {
        let w = Workload::start(&["tcp-pair", addr, "0", "0", "--comm", "tcpa-pair"]);
        let pid = w.pid();
        let ours = Tracer::ours("tcpaccept", &["--json", "-p", &pid.to_string()]);
        let report = w.go();
        let port = report["port"].as_u64().unwrap();
        ours.wait_stdout(|l| l.contains(&format!("\"sport\":{port}")), WAIT)
            .unwrap_or_else(|| panic!("no accept on {addr} port {port}"));
        let fin = ours.stop();
        assert!(fin.status.success(), "{:?}", fin.stderr);
        let events = fin.json();
        let a = accepts(&events);
        assert_eq!(a.len(), 1, "{events:#?}");
        let a = a[0];
        assert_eq!(a["pid"], pid);
        assert_eq!(a["tid"], report["tid"]);
        assert_eq!(a["comm"], "tcpa-pair");
        assert_eq!(a["ip"], ip);
        assert_eq!(a["saddr"], addr);
        assert_eq!(a["sport"], port);
        assert_eq!(a["daddr"], addr);
        assert_eq!(a["dport"], report["client_port"]);
    }
}

/// -P (local ports) and -4 run in the kernel; -c selects the workloads.
#[test]
fn port_and_family_filters() {
    require_root();
    let _g = serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ours = Tracer::ours("tcpaccept", &["--json", "-4", "-P", &port.to_string()]);
    // Accepted on another port, and over IPv6: neither shows.
    Workload::start(&["tcp-pair", "127.0.0.1", "0", "0"]).go();
    Workload::start(&["tcp-pair", "::1", "0", "0"]).go();
    let w = Workload::start(&["connect", "127.0.0.1", &port.to_string()]);
    let report = w.go();
    let (conn, _) = listener.accept().unwrap();
    ours.wait_stdout(|l| l.contains("accept"), WAIT)
        .expect("the accept on the listed port");
    std::thread::sleep(Duration::from_millis(300));
    drop(conn);
    let fin = ours.stop();
    let events = fin.json();
    let a = accepts(&events);
    assert_eq!(a.len(), 1, "{events:#?}");
    assert_eq!(a[0]["pid"], std::process::id());
    assert_eq!(a[0]["sport"], port);
    assert_eq!(a[0]["dport"], report["client_port"]);
}
