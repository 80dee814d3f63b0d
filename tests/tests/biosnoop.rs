//! biosnoop against the real kernel: 1,000 O_DIRECT reads of 4 KiB from
//! a loop device, each reported once with the reading process.

use std::process::Command;

use ebpftop_tests::{Finished, LoopDevice, TempDir, Tracer, Workload, bin, require_root, serial};
use serde_json::Value;

const READS: u64 = 1000;

/// Traces with `args` (plus `--disk` of the loop device when `disk`)
/// while the workload reads the device; returns the device, the
/// workload's pid and the tracer's output.
fn trace_reads(args: &[&str], disk: bool) -> (String, u32, Finished) {
    let dir = TempDir::new("biosnoop");
    let dev = LoopDevice::new(dir.path(), 8 << 20);
    let w = Workload::start(&["direct-reads", &dev.path, &READS.to_string()]);
    let pid = w.pid();
    let pid_s = pid.to_string();
    let mut all: Vec<&str> = args
        .iter()
        .map(|a| if *a == "PID" { pid_s.as_str() } else { a })
        .collect();
    if disk {
        all.extend_from_slice(&["--disk", dev.name.as_str()]);
    }
    let t = Tracer::ours("biosnoop", &all);
    let report = w.go();
    assert_eq!(report["reads"], READS);
    // The last completions reach the ring buffer before the workload
    // exits; give the reader its poll interval to print them.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    (dev.name.clone(), pid, fin)
}

fn bios(fin: &Finished) -> Vec<Value> {
    // Block completions run in interrupts, which may interrupt a run.
    fin.skipped_runs_only();
    fin.json()
        .into_iter()
        .filter(|r| r["event"] == "bio")
        .collect()
}

/// The workload's reads: one request each, 4 KiB, at sectors 0, 8, 16, ...
fn check_reads(recs: &[&Value], name: &str, pid: u32) {
    let n = recs.len() as u64;
    assert!(
        n.abs_diff(READS) * 100 <= READS,
        "{n} requests from pid {pid} on {name} for {READS} reads"
    );
    let mut sectors = Vec::new();
    for r in recs {
        assert_eq!(r["disk"], name, "{r}");
        assert_eq!(r["comm"], "ebpftop-workloa", "{r}");
        assert_eq!(r["issuer_known"], true, "{r}");
        assert_eq!(r["op"], "R", "{r}");
        assert_eq!(r["bytes"], 4096, "{r}");
        assert_eq!(r["error"], 0, "{r}");
        let lat = r["latency_ns"].as_u64().unwrap();
        assert!(lat > 0 && lat < 1_000_000_000, "{r}");
        assert!(
            r["ts_ns"].as_u64().unwrap() > 1_600_000_000_000_000_000,
            "{r}"
        );
        sectors.push(r["sector"].as_u64().unwrap());
    }
    sectors.sort();
    sectors.dedup();
    assert_eq!(sectors.len() as u64, n, "a request was reported twice");
    assert!(
        sectors.iter().all(|s| s % 8 == 0 && *s < READS * 8),
        "{sectors:?}"
    );
}

#[test]
fn every_read_of_the_loop_device_with_its_reader() {
    require_root();
    let _g = serial();
    let (name, pid, fin) = trace_reads(&["--json"], true);
    let recs = bios(&fin);
    // --disk: nothing from other disks.
    assert!(recs.iter().all(|r| r["disk"] == name.as_str()), "{recs:?}");
    let mine: Vec<&Value> = recs.iter().filter(|r| r["pid"] == pid).collect();
    check_reads(&mine, &name, pid);
    eprintln!(
        "biosnoop: {} requests on {name}, {} from pid {pid}",
        recs.len(),
        mine.len()
    );
}

#[test]
fn pid_filter_keeps_only_the_workloads_requests() {
    require_root();
    let _g = serial();
    // No --disk: the filter alone must keep other disks' requests out.
    let (name, pid, fin) = trace_reads(&["--json", "-p", "PID"], false);
    let recs = bios(&fin);
    assert!(recs.iter().all(|r| r["pid"] == pid), "{recs:?}");
    let refs: Vec<&Value> = recs.iter().collect();
    check_reads(&refs, &name, pid);
}

#[test]
fn table_with_queue_column() {
    require_root();
    let _g = serial();
    let (name, pid, fin) = trace_reads(&["-Q", "-p", "PID"], true);
    let header = fin.stdout.first().expect("no header");
    let cols: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "COMM", "PID", "DISK", "T", "SECTOR", "BYTES", "QUE(ms)", "LAT(ms)"
        ]
    );
    let rows: Vec<Vec<&str>> = fin.stdout[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let n = rows.len() as u64;
    assert!(n.abs_diff(READS) * 100 <= READS, "{n} rows");
    let pid = pid.to_string();
    for r in &rows {
        assert_eq!(r.len(), 8, "{r:?}");
        assert_eq!(
            &r[..4],
            &["ebpftop-workloa", pid.as_str(), name.as_str(), "R"],
            "{r:?}"
        );
        assert_eq!(r[5], "4096", "{r:?}");
        assert!(r[7].parse::<f64>().is_ok(), "{r:?}");
    }
}

#[test]
fn flushes_are_reported_with_their_submitter() {
    require_root();
    let _g = serial();
    const N: u64 = 200;
    let dir = TempDir::new("biosnoop");
    let dev = LoopDevice::new(dir.path(), 8 << 20);
    let w = Workload::start(&["sync-writes", &dev.path, &N.to_string()]);
    let pid = w.pid();
    let t = Tracer::ours("biosnoop", &["--disk", &dev.name, "--json"]);
    w.go();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let recs = bios(&fin);
    let of = |op: &str| -> Vec<&Value> {
        recs.iter()
            .filter(|r| r["op"] == op && r["pid"] == pid)
            .collect()
    };
    let (writes, flushes) = (of("W"), of("F"));
    assert!(
        (writes.len() as u64).abs_diff(N) * 100 <= N,
        "{} writes",
        writes.len()
    );
    assert!(
        (flushes.len() as u64).abs_diff(N) * 100 <= N,
        "{} flushes: {recs:?}",
        flushes.len()
    );
    assert!(writes.iter().all(|r| r["bytes"] == 4096), "{writes:?}");
    assert!(
        flushes
            .iter()
            .all(|r| r["bytes"] == 0 && r["comm"] == "ebpftop-workloa"),
        "{flushes:?}"
    );
}

#[test]
fn unknown_disk_is_one_line_and_fails() {
    let out = Command::new(bin("biosnoop"))
        .args(["--disk", "ebpftop-nosuchdisk"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("biosnoop: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("no disk named \"ebpftop-nosuchdisk\""),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
