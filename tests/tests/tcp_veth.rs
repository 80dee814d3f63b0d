//! The TCP tools on a connection that crosses a real link: a veth pair
//! between two network namespaces of the test's own (10.201.0.1, the
//! server's, and 10.201.0.2, the client's). Nothing touches the host's
//! network; deleting the namespaces deletes the link.

use std::{thread, time::Duration};

use ebpftop_tests::{NetNs, Tracer, Workload, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
const SERVER: &str = "10.201.0.1";
const CLIENT: &str = "10.201.0.2";
const PORT: &str = "5071";

/// Two namespaces joined by a veth pair, addressed and up.
fn veth_pair() -> (NetNs, NetNs) {
    let server = NetNs::new("veth-srv");
    let client = NetNs::new("veth-cli");
    server.run(
        "ip",
        &[
            "link", "add", "ebt0", "netns", &server.0, "type", "veth", "peer", "name", "ebt1",
            "netns", &client.0,
        ],
        false,
    );
    for (ns, dev, addr) in [(&server, "ebt0", SERVER), (&client, "ebt1", CLIENT)] {
        ns.run(
            "ip",
            &["addr", "add", &format!("{addr}/24"), "dev", dev],
            true,
        );
        ns.run("ip", &["link", "set", dev, "up"], true);
    }
    (server, client)
}

fn events<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter().filter(|e| e["event"] == kind).collect()
}

#[test]
fn connect_accept_and_close_across_a_veth_pair() {
    require_root();
    let _g = serial();
    let (server_ns, client_ns) = veth_pair();
    let server = Workload::start_in_netns(&server_ns, &["tcp-serve", SERVER, PORT]);
    server_ns.wait_listening(PORT);
    let client = Workload::start_in_netns(&client_ns, &["connect", SERVER, PORT]);
    let (spid, cpid) = (server.pid().to_string(), client.pid().to_string());
    let connect = Tracer::ours("tcpconnect", &["--json", "-p", &cpid]);
    let accept = Tracer::ours("tcpaccept", &["--json", "-p", &spid]);
    let life = Tracer::ours("tcplife", &["--json"]);
    let served = thread::spawn(move || server.go());
    let c = client.go();
    assert_eq!(c["errno"], 0, "the connect failed: {c}");
    let s = served.join().expect("server");
    let client_port = c["client_port"].as_u64().unwrap();
    assert_eq!(s["peer_port"], client_port);

    connect
        .wait_stdout(|l| l.contains("\"connect\""), WAIT)
        .expect("the connect");
    let all = connect.stop().json();
    let got = events(&all, "connect");
    assert_eq!(got.len(), 1, "{all:#?}");
    let e = got[0];
    assert_eq!(e["pid"], c["pid"]);
    assert_eq!(
        (e["saddr"].as_str(), e["daddr"].as_str()),
        (Some(CLIENT), Some(SERVER))
    );
    assert_eq!(e["sport"], client_port);
    assert_eq!(e["dport"].to_string(), PORT);
    assert_eq!(e["result"], "connected");

    accept
        .wait_stdout(|l| l.contains("\"accept\""), WAIT)
        .expect("the accept");
    let all = accept.stop().json();
    let got = events(&all, "accept");
    assert_eq!(got.len(), 1, "{all:#?}");
    let e = got[0];
    assert_eq!(e["pid"], s["pid"]);
    // An accept's local end is the server's.
    assert_eq!(
        (e["saddr"].as_str(), e["daddr"].as_str()),
        (Some(SERVER), Some(CLIENT))
    );
    assert_eq!(e["sport"].to_string(), PORT);
    assert_eq!(e["dport"], client_port);

    // Both ends close: one lifespan each, the server's under its pid.
    life.wait_stdout(|l| l.matches("\"tcplife\"").count() >= 1, WAIT)
        .expect("the closes");
    thread::sleep(Duration::from_millis(300));
    let all = life.stop().json();
    let got: Vec<&Value> = events(&all, "tcplife")
        .into_iter()
        .filter(|e| e["saddr"] == SERVER || e["saddr"] == CLIENT)
        .collect();
    assert_eq!(got.len(), 2, "{all:#?}");
    let server_end = got
        .iter()
        .find(|e| e["saddr"] == SERVER)
        .unwrap_or_else(|| panic!("no server end: {all:#?}"));
    assert_eq!(server_end["pid"], s["pid"]);
    assert_eq!(server_end["dport"], client_port);
    let client_end = got
        .iter()
        .find(|e| e["saddr"] == CLIENT)
        .unwrap_or_else(|| panic!("no client end: {all:#?}"));
    assert_eq!(client_end["pid"], c["pid"]);
}
