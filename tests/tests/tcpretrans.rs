//! tcpretrans against the real kernel: a connection inside a network
//! namespace of the test's own, whose data packets an iptables rule there
//! drops, so the sender retransmits.

use std::time::Duration;

use ebpftop_tests::{NetNs, Tracer, Workload, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
const PORT: &str = "5001";

/// The namespace with a rule dropping packets to PORT that carry data:
/// the handshake (60-byte packets) passes, the 1000-byte write does not.
fn lossy_netns(tag: &str) -> NetNs {
    let ns = NetNs::new(tag);
    ns.run(
        "iptables",
        &[
            "-A",
            "INPUT",
            "-i",
            "lo",
            "-p",
            "tcp",
            "--dport",
            PORT,
            "-m",
            "length",
            "--length",
            "200:65535",
            "-j",
            "DROP",
        ],
        true,
    );
    ns
}

#[test]
fn reports_retransmits_of_a_dropped_write() {
    require_root();
    let _g = serial();
    let ns = lossy_netns("retrans");
    let w = Workload::start_in_netns(
        &ns,
        &[
            "tcp-stall",
            "127.0.0.1",
            PORT,
            "1000",
            "1000",
            "--comm",
            "tcpr-stall",
        ],
    );
    let pid = w.pid();
    let ours = Tracer::ours("tcpretrans", &["--json", "-p", &pid.to_string()]);
    let count = Tracer::ours("tcpretrans", &["--json", "-c", "-p", &pid.to_string()]);
    let report = w.go();
    assert_eq!(report["pid"], pid, "ip netns exec forked");
    ours.wait_stdout(|l| l.contains("retransmit"), WAIT)
        .expect("a retransmit");
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    let r: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "retransmit")
        .collect();
    // The RTO starts at 200 ms and doubles: 1 s of stall gives at least 2.
    // The namespace is the test's own and the workload reset its
    // connection: every retransmit the kernel counted there is one of
    // these, and there are no more to come.
    assert!(r.len() >= 2, "{events:#?}");
    assert_eq!(r.len() as u64, ns.retransmits(), "{events:#?}");
    for e in &r {
        assert_eq!(e["pid"], pid);
        assert_eq!(e["comm"], "tcpr-stall");
        assert_eq!(e["ip"], 4);
        assert_eq!(e["saddr"], "127.0.0.1");
        assert_eq!(e["sport"], report["client_port"]);
        assert_eq!(e["daddr"], "127.0.0.1");
        assert_eq!(e["dport"], 5001);
        assert_eq!(e["state"], "ESTABLISHED");
    }
    let events = count.stop().json();
    let counts: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "retransmit_count")
        .collect();
    assert_eq!(counts.len(), 1, "{events:#?}");
    assert_eq!(counts[0]["sport"], report["client_port"]);
    assert_eq!(counts[0]["dport"], 5001);
    assert_eq!(counts[0]["retransmits"], r.len() as u64);
}

/// Without the rule, the same connection retransmits nothing.
#[test]
fn no_loss_no_retransmit() {
    require_root();
    let _g = serial();
    let ns = NetNs::new("noretrans");
    let w = Workload::start_in_netns(&ns, &["tcp-stall", "127.0.0.1", PORT, "1000", "500"]);
    let ours = Tracer::ours("tcpretrans", &["--json", "-p", &w.pid().to_string()]);
    w.go();
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    assert_eq!(fin.stdout, Vec::<String>::new());
}
