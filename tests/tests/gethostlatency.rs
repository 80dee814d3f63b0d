//! gethostlatency against the real kernel: a workload's getaddrinfo,
//! gethostbyname and gethostbyname2 of "localhost", seen through uprobes
//! on libc.

use std::time::Duration;

use ebpftop_tests::{Tracer, Workload, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

#[test]
fn reports_a_getaddrinfo_of_localhost() {
    require_root();
    let _g = serial();
    lookup_of_localhost(None);
}

#[test]
fn reports_a_gethostbyname_and_a_gethostbyname2_of_localhost() {
    require_root();
    let _g = serial();
    lookup_of_localhost(Some("gethostbyname"));
    lookup_of_localhost(Some("gethostbyname2"));
}

/// One lookup through `function` (getaddrinfo when `None`), reported once
/// under that function's name.
fn lookup_of_localhost(function: Option<&str>) {
    let mut args = vec!["resolve", "localhost"];
    args.extend(function);
    args.extend(["--comm", "ghl-resolve"]);
    let w = Workload::start(&args);
    let pid = w.pid();
    let ours = Tracer::ours("gethostlatency", &["--json", "-p", &pid.to_string()]);
    let report = w.go();
    assert!(report["addresses"].as_u64().unwrap() > 0);
    ours.wait_stdout(|l| l.contains("localhost"), WAIT)
        .expect("the lookup");
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    let lookups: Vec<&Value> = events.iter().filter(|e| e["event"] == "lookup").collect();
    assert_eq!(lookups.len(), 1, "{events:#?}");
    let l = lookups[0];
    assert_eq!(l["pid"], pid);
    assert_eq!(l["tid"], report["tid"]);
    assert_eq!(l["comm"], "ghl-resolve");
    assert_eq!(l["function"], function.unwrap_or("getaddrinfo"));
    assert_eq!(l["host"], "localhost");
    let latency = l["latency_ns"].as_u64().unwrap();
    assert!(latency > 0 && latency < 10_000_000_000, "latency {latency}");
}

/// Without -p, other processes' lookups show too; -c narrows to one name.
#[test]
fn comm_filter_selects_the_lookup() {
    require_root();
    let _g = serial();
    let ours = Tracer::ours("gethostlatency", &["--json", "-c", "ghl-wanted"]);
    Workload::start(&["resolve", "localhost", "--comm", "ghl-other"]).go();
    let w = Workload::start(&["resolve", "localhost", "--comm", "ghl-wanted"]);
    let pid = w.pid();
    w.go();
    ours.wait_stdout(|l| l.contains("localhost"), WAIT)
        .expect("the lookup");
    std::thread::sleep(Duration::from_millis(200));
    let events = ours.stop().json();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["pid"], pid);
}
