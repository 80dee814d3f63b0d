//! softirqs against the real kernel: loopback TCP traffic runs NET_RX,
//! and the counts agree with /proc/softirqs, which the kernel increments
//! right before the tracepoint the tool times from.

use std::collections::HashMap;

use ebpftop_tests::{Finished, Tracer, Workload, require_root, serial};
use serde_json::Value;

/// /proc/softirqs: each row's total over CPUs, by bcc's lower-case name.
fn proc_softirqs() -> HashMap<String, u64> {
    let text = std::fs::read_to_string("/proc/softirqs").unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let (name, counts) = l.split_once(':')?;
            let total = counts
                .split_whitespace()
                .filter_map(|c| c.parse::<u64>().ok())
                .sum();
            Some((name.trim().to_lowercase(), total))
        })
        .collect()
}

fn by_name(fin: &Finished) -> HashMap<String, Value> {
    fin.json()
        .into_iter()
        .filter(|r| r["event"] == "softirqs")
        .map(|r| (r["name"].as_str().unwrap().to_string(), r))
        .collect()
}

#[test]
fn loopback_traffic_runs_net_rx_and_counts_match_proc_softirqs() {
    require_root();
    let _g = serial();
    let before_start = proc_softirqs();
    let t = Tracer::ours("softirqs", &["--json"]);
    let after_start = proc_softirqs();
    Workload::start(&["tcp-pair", "127.0.0.1", "8000000", "0"]).go();
    std::thread::sleep(std::time::Duration::from_millis(100));
    let before_stop = proc_softirqs();
    let fin = t.stop();
    let after_stop = proc_softirqs();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let recs = by_name(&fin);
    // Runs the kernel skipped our program for, or counted without running
    // it (see the hardirqs test): counted, never silent.
    let lost: u64 = fin
        .json()
        .iter()
        .filter(|r| r["event"] == "interval")
        .map(|r| r["lost_total"].as_u64().unwrap())
        .sum();
    for name in ["net_rx", "timer"] {
        let r = recs
            .get(name)
            .unwrap_or_else(|| panic!("no {name} row: {recs:#?}"));
        let count = r["count"].as_u64().unwrap();
        assert!(count > 0 && r["total_ns"].as_u64().unwrap() > 0, "{r}");
        let (low, high) = (
            before_stop[name] - after_start[name],
            after_stop[name] - before_start[name],
        );
        // A softirq counts in /proc/softirqs as it starts and in ours as it
        // ends: one per CPU may have started before `before_stop` and ended
        // only after we detached (a VM's CPU can be held up mid-softirq).
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        assert!(
            count <= high && count + lost + cpus >= low,
            "{name}: traced {count} ({lost} runs lost), /proc/softirqs grew {low} while surely \
             attached, {high} in all"
        );
        assert_eq!(r["vec"], if name == "net_rx" { 3 } else { 1 });
    }
}

#[test]
fn table_histograms_and_counts() {
    require_root();
    let _g = serial();
    let t = Tracer::ours("softirqs", &["--dist", "-N"]);
    Workload::start(&["tcp-pair", "127.0.0.1", "1000000", "0"]).go();
    let fin = t.stop();
    let out = fin.stdout.join("\n");
    assert!(out.contains("softirq = net_rx"), "{out}");
    assert!(
        out.contains("     nsecs               : count    distribution"),
        "{out}"
    );

    let t = Tracer::ours("softirqs", &["-C"]);
    Workload::start(&["tcp-pair", "127.0.0.1", "1000000", "0"]).go();
    let fin = t.stop();
    assert_eq!(
        fin.stdout[0],
        format!("{:<16} {:>11}", "SOFTIRQ", "TOTAL_count"),
        "{:?}",
        fin.stdout
    );
    let row = fin
        .stdout
        .iter()
        .find(|l| l.starts_with("net_rx "))
        .unwrap_or_else(|| panic!("no net_rx row: {:?}", fin.stdout));
    let n: u64 = row.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n > 0, "{row}");
}
