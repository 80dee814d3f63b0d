//! tcplife against the real kernel, over loopback: both ends of a
//! connection a workload made, with its pid, ports and byte counts.

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use ebpftop_tests::{NetNs, Tracer, Workload, bin, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
const SENT: u64 = 1 << 20;
const RECEIVED: u64 = 10 << 10;

/// Within 1%: the kernel's counters include the SYN and FIN.
fn about(v: &Value, want: u64) -> bool {
    let v = v.as_u64().unwrap();
    v.abs_diff(want) * 100 <= want
}

/// Every attach path: tp_btf, and the raw tracepoint that kernels without
/// BTF tracepoints fall back to; each keeping its records in slots, and
/// in a hash map as kernels before 5.12 (no BPF atomics) do. Taken here
/// by skipping the others.
const PATHS: [(&[(&str, &str)], &str); 4] = [
    (
        &[],
        "tp_btf inet_sock_set_state (program tcplife_state_btf)",
    ),
    (
        &[("EBPFTOP_SKIP_ATTACH", "tp_btf")],
        "raw_tracepoint inet_sock_set_state (program tcplife_state_raw)",
    ),
    (
        &[("EBPFTOP_SKIP_ATTACH", "tcplife_state_btf,tcplife_state_raw")],
        "tp_btf inet_sock_set_state (program tcplife_state_btf_h)",
    ),
    (
        &[("EBPFTOP_SKIP_ATTACH", "tp_btf,tcplife_state_raw")],
        "raw_tracepoint inet_sock_set_state (program tcplife_state_raw_h)",
    ),
];

#[test]
fn reports_both_ends_with_bytes_each_way() {
    require_root();
    let _g = serial();
    for (env, path) in PATHS {
        for addr in ["127.0.0.1", "::1"] {
            both_ends(addr, env, path);
        }
    }
}

fn both_ends(addr: &str, env: &[(&str, &str)], path: &str) {
    {
        let w = Workload::start(&[
            "tcp-pair",
            addr,
            &SENT.to_string(),
            &RECEIVED.to_string(),
            "--comm",
            "tcplife-pair",
        ]);
        let pid = w.pid();
        let ours = Tracer::ours_env("tcplife", &["--json", "-p", &pid.to_string()], env);
        let report = w.go();
        let port = report["port"].as_u64().unwrap();
        let client_port = report["client_port"].as_u64().unwrap();
        // Both ends close within a few ms of each other.
        for p in [port, client_port] {
            ours.wait_stdout(|l| l.contains(&format!("\"sport\":{p}")), WAIT)
                .unwrap_or_else(|| panic!("no close of the end on port {p}"));
        }
        let fin = ours.stop();
        assert!(fin.status.success(), "{:?}", fin.stderr);
        fin.assert_attached("TCP state changes", path);
        let events = fin.json();
        let lives: Vec<&Value> = events.iter().filter(|e| e["event"] == "tcplife").collect();
        assert_eq!(lives.len(), 2, "{events:#?}");
        let end = |sport: u64| {
            *lives
                .iter()
                .find(|e| e["sport"] == sport)
                .unwrap_or_else(|| panic!("no end with local port {sport}: {lives:#?}"))
        };
        let client = end(client_port);
        let server = end(port);
        for (e, dport) in [(client, port), (server, client_port)] {
            assert_eq!(e["pid"], pid);
            assert_eq!(e["comm"], "tcplife-pair");
            assert_eq!(e["saddr"], addr);
            assert_eq!(e["daddr"], addr);
            assert_eq!(e["dport"], dport);
            let d = e["duration_ns"].as_u64().unwrap();
            assert!(d > 0 && d < 10_000_000_000, "duration {d}");
        }
        assert!(about(&client["tx_bytes"], SENT), "{client}");
        assert!(about(&client["rx_bytes"], RECEIVED), "{client}");
        assert!(about(&server["tx_bytes"], RECEIVED), "{server}");
        assert!(about(&server["rx_bytes"], SENT), "{server}");
    }
}

/// -L keeps connections with that local port: only the server's end.
#[test]
fn local_port_filter() {
    require_root();
    let _g = serial();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ours = Tracer::ours("tcplife", &["--json", "-L", &port.to_string()]);
    let w = Workload::start(&["connect", "127.0.0.1", &port.to_string()]);
    let report = w.go();
    let (conn, _) = listener.accept().unwrap();
    drop(conn);
    drop(listener);
    ours.wait_stdout(|l| l.contains("tcplife"), WAIT)
        .expect("the accepted end's close");
    std::thread::sleep(Duration::from_millis(300));
    let fin = ours.stop();
    let events = fin.json();
    let lives: Vec<&Value> = events.iter().filter(|e| e["event"] == "tcplife").collect();
    assert_eq!(lives.len(), 1, "{events:#?}");
    assert_eq!(lives[0]["sport"], port);
    assert_eq!(lives[0]["dport"], report["client_port"]);
    // Accepted by this test, which is its owner.
    assert_eq!(lives[0]["pid"], std::process::id());
}

/// Connections reset by their peer: the accepted end goes to CLOSE in
/// softirq, with no close() of its own to learn its owner from. It is
/// owned by its listener's owner, learnt at listen().
#[test]
fn accepted_end_reset_by_its_peer_is_the_listeners() {
    require_root();
    let _g = serial();
    for (env, path) in PATHS {
        reset_by_peer(env, path);
    }
}

fn reset_by_peer(env: &[(&str, &str)], path: &str) {
    const PAIRS: usize = 20;
    let w = Workload::start(&["connect-loop", &PAIRS.to_string(), "--comm", "tcplife-rst"]);
    let pid = w.pid();
    let ours = Tracer::ours_env("tcplife", &["--json", "-c", "tcplife-rst"], env);
    w.go();
    ours.wait_stdout_count(|l| l.contains("tcplife-rst"), 2 * PAIRS, WAIT);
    std::thread::sleep(Duration::from_millis(300));
    let fin = ours.stop();
    fin.assert_attached("TCP state changes", path);
    let events = fin.json();
    let lives: Vec<&Value> = events.iter().filter(|e| e["event"] == "tcplife").collect();
    assert_eq!(lives.len(), 2 * PAIRS, "{events:#?}");
    for e in &lives {
        assert_eq!(e["pid"], pid, "{e}");
        assert_eq!(e["comm"], "tcplife-rst", "{e}");
    }
    // One listener: the server ends share its port, each facing one client.
    let in_all = |port: &Value| {
        lives
            .iter()
            .all(|e| e["sport"] == *port || e["dport"] == *port)
    };
    let listen_port = [&lives[0]["sport"], &lives[0]["dport"]]
        .into_iter()
        .find(|p| in_all(p))
        .unwrap_or_else(|| panic!("no port common to every connection: {lives:#?}"))
        .clone();
    let (servers, clients): (Vec<&&Value>, Vec<&&Value>) =
        lives.iter().partition(|e| e["sport"] == listen_port);
    assert_eq!(clients.len(), PAIRS, "{lives:#?}");
    assert_eq!(servers.len(), PAIRS, "{lives:#?}");
    for c in &clients {
        assert_eq!(c["dport"], listen_port, "{c}");
        let twins = servers.iter().filter(|s| s["dport"] == c["sport"]).count();
        assert_eq!(twins, 1, "server end of {c}");
    }
}

/// Runs the kernel skips are counted, not silently lost. The kernel skips
/// a tracing program's run that would nest in another of its runs on the
/// same CPU. Here CPU 0 makes connections in process context while the
/// packets of connections made on CPU 1 are steered to CPU 0 (RPS), whose
/// interrupts process them in softirq, interrupting those runs.
#[test]
fn runs_the_kernel_skips_are_counted_as_lost() {
    require_root();
    let _g = serial();
    const PAIRS: u64 = 20_000;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(cpus >= 2, "needs two CPUs, has {cpus}");
    let ns = NetNs::new("nest");
    // `ip netns exec` mounts the namespace's own sysfs: its loopback.
    ns.run(
        "sh",
        &["-c", "echo 1 > /sys/class/net/lo/queues/rx-0/rps_cpus"],
        true,
    );
    let ours = Tracer::ours("tcplife", &["--json", "-c", "tcplife-nest"]);
    let loops: Vec<_> = ["0", "1"]
        .into_iter()
        .map(|cpu| {
            Command::new("taskset")
                .args(["-c", cpu, "ip", "netns", "exec", &ns.0])
                .arg(bin("ebpftop-workload"))
                .args(["connect-loop", &PAIRS.to_string(), "--comm", "tcplife-nest"])
                .stdout(Stdio::null())
                .spawn()
                .expect("taskset (util-linux)")
        })
        .collect();
    for mut l in loops {
        assert!(l.wait().unwrap().success());
    }
    std::thread::sleep(Duration::from_millis(300));
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    let delivered = events.iter().filter(|e| e["event"] == "tcplife").count() as u64;
    let skipped: u64 = events
        .iter()
        .filter(|e| e["event"] == "lost" && e["reason"] == "runs the kernel skipped as nested")
        .map(|e| e["count"].as_u64().unwrap())
        .sum();
    // What -v says the kernel counted is what was reported.
    let counted = fin
        .stderr
        .iter()
        .find_map(|l| {
            l.split_once("program tcplife_state_btf: ")?
                .1
                .split_once(" runs skipped")?
                .0
                .parse::<u64>()
                .ok()
        })
        .unwrap_or_else(|| panic!("no program statistics: {:?}", fin.stderr));
    assert_eq!(skipped, counted, "{:?}", fin.stderr);
    assert!(skipped > 0, "no nested run: the test did not test");
    // Each connection missing had at least one of its runs skipped.
    assert!(delivered <= 4 * PAIRS, "{delivered} delivered");
    assert!(
        delivered + skipped >= 4 * PAIRS,
        "{delivered} delivered, {skipped} skipped, of {}",
        4 * PAIRS
    );
}

/// Records there is no room for are counted, never silently lost. With the
/// tracer stopped, connections made on one CPU fill that CPU's buffer
/// (at most 16,384 records) and the rest are counted as lost to a full
/// buffer; once the tracer runs again it delivers what was kept.
#[test]
fn a_full_buffer_loses_records_counted() {
    require_root();
    let _g = serial();
    const PAIRS: u64 = 10_000;
    let ours = Tracer::ours("tcplife", &["--json", "-c", "tcplife-full"]);
    let pid = ours.pid() as i32;
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0);
    let status = Command::new("taskset")
        .args(["-c", "0"])
        .arg(bin("ebpftop-workload"))
        .args(["connect-loop", &PAIRS.to_string(), "--comm", "tcplife-full"])
        .stdout(Stdio::null())
        .status()
        .expect("taskset (util-linux)");
    assert!(status.success());
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0);
    std::thread::sleep(Duration::from_millis(500));
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    let delivered = events.iter().filter(|e| e["event"] == "tcplife").count() as u64;
    let lost = |reason: &str| -> u64 {
        events
            .iter()
            .filter(|e| e["event"] == "lost" && e["reason"] == reason)
            .map(|e| e["count"].as_u64().unwrap())
            .sum()
    };
    let (full, skipped) = (
        lost("ring buffer full"),
        lost("runs the kernel skipped as nested"),
    );
    assert!(
        full > 0,
        "nothing lost: the buffer did not fill ({delivered} delivered)"
    );
    assert!(delivered >= 512, "{delivered} delivered");
    // A skipped run may have carried an end or nothing at all.
    assert!(
        delivered + full <= 2 * PAIRS && delivered + full + skipped >= 2 * PAIRS,
        "{delivered} delivered, {full} lost to a full buffer, {skipped} runs skipped, of {}",
        2 * PAIRS
    );
}
