//! biolatency against the real kernel: 1,000 O_DIRECT reads of 4 KiB from
//! a loop device, each one block request, counted in the kernel.

use std::process::Command;

use ebpftop_tests::{Finished, LoopDevice, TempDir, Tracer, Workload, bin, require_root, serial};
use serde_json::Value;

const READS: u64 = 1000;

/// Traces `args` while the workload reads the loop device; returns the
/// device's name, the workload's report and the tracer's output.
fn trace_reads(args: &[&str]) -> (String, Value, Finished) {
    let dir = TempDir::new("biolatency");
    let dev = LoopDevice::new(dir.path(), 8 << 20);
    let w = Workload::start(&["direct-reads", &dev.path, &READS.to_string()]);
    let mut all = args.to_vec();
    let disk_flag = ["--disk", dev.name.as_str()];
    if !args.contains(&"-D") {
        all.extend_from_slice(&disk_flag);
    }
    all.push("--json");
    let t = Tracer::ours("biolatency", &all);
    let report = w.go();
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    (dev.name.clone(), report, fin)
}

fn records(fin: &Finished) -> Vec<Value> {
    fin.json()
        .into_iter()
        .filter(|r| r["event"] == "biolatency")
        .collect()
}

fn no_losses(fin: &Finished) {
    let ends: Vec<Value> = fin
        .json()
        .into_iter()
        .filter(|r| r["event"] == "interval")
        .collect();
    assert_eq!(ends.len(), 1, "{:?}", fin.stdout);
    // Block completions run in interrupts, which may interrupt a run.
    assert_eq!(ends[0]["lost"], fin.skipped_runs_only());
}

fn within_one_percent(count: u64) -> bool {
    count.abs_diff(READS) * 100 <= READS
}

#[test]
fn counts_every_read_of_the_loop_device() {
    require_root();
    let _g = serial();
    let (_, report, fin) = trace_reads(&[]);
    assert_eq!(report["reads"], READS);
    let recs = records(&fin);
    assert_eq!(recs.len(), 1, "--disk let other disks through: {recs:#?}");
    let r = &recs[0];
    assert!(r.get("disk").is_none() && r.get("flags").is_none(), "{r}");
    let count = r["latency"]["count"].as_u64().unwrap();
    assert!(
        within_one_percent(count),
        "{count} requests for {READS} reads"
    );
    eprintln!("biolatency: {count} requests counted for {READS} reads");
    let in_hist: u64 = r["hist"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(in_hist, count);
    assert_eq!(r["hist"]["unit"], "usecs");
    let l = &r["latency"];
    let (p50, p99, max) = (
        l["p50"].as_u64().unwrap(),
        l["p99"].as_u64().unwrap(),
        l["max"].as_u64().unwrap(),
    );
    assert!(p50 <= p99 && p99 <= max, "{l}");
    // A 4 KiB read through a loop device takes microseconds, not seconds.
    assert!(p50 > 0 && p50 < 100_000, "p50 {p50} us");
    assert!(r["total_ns"].as_u64().unwrap() >= count * 1000, "{r}");
    no_losses(&fin);
}

#[test]
fn per_disk_rows_name_the_loop_device() {
    require_root();
    let _g = serial();
    let (name, _, fin) = trace_reads(&["-D"]);
    let recs = records(&fin);
    let mine: Vec<&Value> = recs.iter().filter(|r| r["disk"] == name.as_str()).collect();
    assert_eq!(mine.len(), 1, "no single row for {name}: {recs:#?}");
    let count = mine[0]["latency"]["count"].as_u64().unwrap();
    assert!(within_one_percent(count), "{count} requests on {name}");
    // Every row names a disk, each once.
    let mut disks: Vec<&str> = recs.iter().map(|r| r["disk"].as_str().unwrap()).collect();
    disks.sort();
    let n = disks.len();
    disks.dedup();
    assert_eq!(disks.len(), n, "{disks:?}");
    no_losses(&fin);
}

#[test]
fn per_flags_with_queue_time_in_milliseconds() {
    require_root();
    let _g = serial();
    let (_, _, fin) = trace_reads(&["-F", "-Q", "-m"]);
    let recs = records(&fin);
    let reads: Vec<&Value> = recs.iter().filter(|r| r["rwbs"] == "RS").collect();
    assert_eq!(reads.len(), 1, "{recs:#?}");
    let r = reads[0];
    assert_eq!(r["flags"], "Sync-Read");
    assert_eq!(r["hist"]["unit"], "msecs");
    let count = r["latency"]["count"].as_u64().unwrap();
    assert!(within_one_percent(count), "{count} sync reads");
    no_losses(&fin);
}

#[test]
fn flushes_are_timed_like_writes() {
    require_root();
    let _g = serial();
    const N: u64 = 200;
    let dir = TempDir::new("biolatency");
    let dev = LoopDevice::new(dir.path(), 8 << 20);
    let w = Workload::start(&["sync-writes", &dev.path, &N.to_string()]);
    let t = Tracer::ours("biolatency", &["-F", "--disk", &dev.name, "--json"]);
    let report = w.go();
    assert_eq!(report["fsyncs"], N);
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let recs = records(&fin);
    let count = |rwbs: &str| -> u64 {
        recs.iter()
            .filter(|r| r["rwbs"] == rwbs)
            .map(|r| r["latency"]["count"].as_u64().unwrap())
            .sum()
    };
    // The completion of a flush names sector -1, its issue sector 0: both
    // must still pair up.
    let (writes, flushes) = (count("WS"), count("FF"));
    assert!(writes.abs_diff(N) * 100 <= N, "{writes} writes: {recs:#?}");
    assert!(
        flushes.abs_diff(N) * 100 <= N,
        "{flushes} flushes: {recs:#?}"
    );
    let flush = recs.iter().find(|r| r["rwbs"] == "FF").unwrap();
    assert_eq!(flush["flags"], "PreFlush-Flush");
    no_losses(&fin);
}

#[test]
fn table_prints_the_histogram_and_summary() {
    require_root();
    let _g = serial();
    let dir = TempDir::new("biolatency");
    let dev = LoopDevice::new(dir.path(), 8 << 20);
    let w = Workload::start(&["direct-reads", &dev.path, &READS.to_string()]);
    let t = Tracer::ours("biolatency", &["-D", "--disk", &dev.name]);
    w.go();
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let out = fin.stdout.join("\n");
    assert!(out.contains(&format!("disk = {}\n", dev.name)), "{out}");
    assert!(
        out.contains("     usecs               : count    distribution"),
        "{out}"
    );
    let summary = fin
        .stdout
        .iter()
        .find(|l| l.starts_with("count "))
        .unwrap_or_else(|| panic!("no summary line: {out}"));
    let count: u64 = summary.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(within_one_percent(count), "{summary}");
    assert!(
        summary.contains(" p50 ") && summary.contains(" max "),
        "{summary}"
    );
}

#[test]
fn unknown_disk_is_one_line_and_fails() {
    let out = Command::new(bin("biolatency"))
        .args(["--disk", "ebpftop-nosuchdisk"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("biolatency: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("no disk named \"ebpftop-nosuchdisk\""),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
