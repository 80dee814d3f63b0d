//! tcpstates against the real kernel, over loopback: the state changes of
//! a workload's connection (listener, client and accepted end), in order,
//! with times in the previous state.

use std::time::Duration;

use ebpftop_tests::{Tracer, Workload, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn reports_the_client_and_listener_state_changes() {
    require_root();
    let _g = serial();
    let w = Workload::start(&["tcp-pair", "127.0.0.1", "0", "0", "--comm", "tcps-pair"]);
    let pid = w.pid();
    let ours = Tracer::ours("tcpstates", &["--json", "-p", &pid.to_string()]);
    let report = w.go();
    let port = report["port"].as_u64().unwrap();
    let client_port = report["client_port"].as_u64().unwrap();
    ours.wait_stdout(
        |l| l.contains(&format!("\"sport\":{port}")) && l.contains("\"oldstate\":\"LISTEN\""),
        WAIT,
    )
    .expect("the listener's close");
    // The client end closes from a timer after FIN_WAIT2.
    ours.wait_stdout(
        |l| l.contains(&format!("\"sport\":{client_port}")) && l.contains("\"newstate\":\"CLOSE\""),
        WAIT,
    )
    .expect("the client's close");
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    assert!(events.iter().all(|e| e["pid"] == pid), "{events:#?}");
    let of = |skaddr: &Value| -> Vec<(String, String, Value)> {
        events
            .iter()
            .filter(|e| &e["skaddr"] == skaddr)
            .map(|e| {
                (
                    e["oldstate"].as_str().unwrap().to_string(),
                    e["newstate"].as_str().unwrap().to_string(),
                    e["in_oldstate_ns"].clone(),
                )
            })
            .collect()
    };
    let states = |v: &[(String, String, Value)]| -> Vec<String> {
        v.iter().map(|(o, n, _)| format!("{o}->{n}")).collect()
    };

    let listener = events
        .iter()
        .find(|e| e["newstate"] == "LISTEN")
        .expect("the listen");
    assert_eq!(listener["sport"], port);
    assert_eq!(listener["comm"], "tcps-pair");
    let l = of(&listener["skaddr"]);
    assert_eq!(states(&l), ["CLOSE->LISTEN", "LISTEN->CLOSE"]);
    assert_eq!(l[0].2, Value::Null, "first change seen has no time");
    assert!(l[1].2.as_u64().unwrap() > 0);

    let connect = events
        .iter()
        .find(|e| e["newstate"] == "SYN_SENT")
        .expect("the connect");
    let c = of(&connect["skaddr"]);
    assert_eq!(
        states(&c),
        [
            "CLOSE->SYN_SENT",
            "SYN_SENT->ESTABLISHED",
            "ESTABLISHED->FIN_WAIT1",
            "FIN_WAIT1->FIN_WAIT2",
            "FIN_WAIT2->CLOSE"
        ]
    );
    assert!(c[1..].iter().all(|(_, _, t)| t.as_u64().unwrap() > 0));
    // The accepted end: a copy of the listener (so first seen leaving
    // LISTEN), closed second, by the peer's FIN.
    let accepted = events
        .iter()
        .find(|e| e["sport"] == port && e["skaddr"] != listener["skaddr"])
        .expect("the accepted end");
    assert_eq!(
        states(&of(&accepted["skaddr"])),
        [
            "LISTEN->SYN_RECV",
            "SYN_RECV->ESTABLISHED",
            "ESTABLISHED->CLOSE_WAIT",
            "CLOSE_WAIT->LAST_ACK",
            "LAST_ACK->CLOSE"
        ]
    );
    // Each change's time in the old state is the time since the one
    // before it (both stamped by the same clock in the kernel).
    for skaddr in [&listener["skaddr"], &connect["skaddr"], &accepted["skaddr"]] {
        let mine: Vec<&Value> = events.iter().filter(|e| &e["skaddr"] == skaddr).collect();
        for pair in mine.windows(2) {
            let gap = pair[1]["ts_ns"]
                .as_u64()
                .unwrap()
                .checked_sub(pair[0]["ts_ns"].as_u64().unwrap());
            let gap = gap.unwrap_or_else(|| panic!("out of order: {pair:#?}"));
            let spent = pair[1]["in_oldstate_ns"].as_u64().unwrap();
            assert!(gap.abs_diff(spent) <= 1_000, "{pair:#?}: {gap} ns apart");
        }
    }
    let established = events
        .iter()
        .find(|e| e["skaddr"] == connect["skaddr"] && e["newstate"] == "ESTABLISHED")
        .unwrap();
    assert_eq!(established["sport"], client_port);
    assert_eq!(established["dport"], port);
    assert_eq!(established["daddr"], "127.0.0.1");
}
