//! cpudist against the real kernel: a workload that alternates 5 ms on
//! the CPU with 5 ms asleep, under SCHED_FIFO so that other tasks (the
//! machine may be busy) cannot cut its slices short.

use std::{
    io::{Read, Write},
    process::{Child, Command, Stdio},
    time::Duration,
};

use ebpftop_tests::{Finished, Tracer, bin, require_root, serial, wait_timeout};
use serde_json::Value;

const ROUNDS: u64 = 100;

/// `busy-sleep ROUNDS 5 5` at real-time priority, held until released.
struct BusySleep(Child);

impl BusySleep {
    fn start() -> BusySleep {
        let child = Command::new("chrt")
            .args(["-f", "10"])
            .arg(bin("ebpftop-workload"))
            .args(["busy-sleep", &ROUNDS.to_string(), "5", "5", "--wait-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawning chrt ebpftop-workload");
        BusySleep(child)
    }

    fn pid(&self) -> u32 {
        // chrt execs the workload: the same process.
        self.0.id()
    }

    fn go(mut self) {
        let mut stdin = self.0.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        drop(stdin);
        let status = wait_timeout(&mut self.0, Duration::from_secs(30)).expect("workload hung");
        let mut out = String::new();
        self.0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(status.success(), "workload: {status} {out}");
        assert!(out.contains(&format!("\"rounds\":{ROUNDS}")), "{out}");
    }
}

impl Drop for BusySleep {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn trace(args: &[&str]) -> (u32, Finished) {
    let w = BusySleep::start();
    let pid = w.pid();
    let p = pid.to_string();
    let mut all = vec!["-p", p.as_str()];
    all.extend_from_slice(args);
    let t = Tracer::ours("cpudist", &all);
    w.go();
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    (pid, fin)
}

fn record(fin: &Finished, pid: u32) -> Value {
    let recs: Vec<Value> = fin
        .json()
        .into_iter()
        .filter(|r| r["event"] == "cpudist")
        .collect();
    assert_eq!(recs.len(), 1, "-p let others through: {recs:#?}");
    assert_eq!(recs[0]["pid"], pid);
    recs[0].clone()
}

fn bucket(r: &Value, low: u64) -> u64 {
    r["hist"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["low"] == low)
        .map_or(0, |b| b["count"].as_u64().unwrap())
}

/// Most slices (at least 90 of 100 rounds) in 4096-8191 us, the fullest
/// bucket, and the median in 4-8 ms.
fn assert_five_ms(r: &Value) {
    assert_eq!(r["hist"]["unit"], "usecs");
    let in_bucket = bucket(r, 4096);
    let count = r["latency"]["count"].as_u64().unwrap();
    assert!(
        in_bucket >= ROUNDS * 9 / 10,
        "{in_bucket} of {count} slices: {r:#}"
    );
    assert!(
        in_bucket * 2 > count,
        "{in_bucket} of {count} slices: {r:#}"
    );
    let p50 = r["latency"]["p50"].as_u64().unwrap();
    assert!((4_000..8_192).contains(&p50), "p50 {p50} us: {r:#}");
}

#[test]
fn on_cpu_slices_of_five_milliseconds() {
    require_root();
    let _g = serial();
    let (pid, fin) = trace(&["-P", "--json"]);
    let r = record(&fin, pid);
    assert_eq!(r["mode"], "on-cpu");
    assert_eq!(r["comm"], "ebpftop-workloa");
    assert_five_ms(&r);
    // 100 rounds of 5 ms on the CPU: at least 500 ms in all.
    let total = r["total_ns"].as_u64().unwrap();
    assert!(
        (500_000_000..700_000_000).contains(&total),
        "total {total} ns"
    );
    let end: Vec<Value> = fin
        .json()
        .into_iter()
        .filter(|r| r["event"] == "interval")
        .collect();
    assert_eq!(end.len(), 1);
    assert_eq!(end[0]["lost"], 0);
}

#[test]
fn off_cpu_slices_of_five_milliseconds() {
    require_root();
    let _g = serial();
    let (pid, fin) = trace(&["-O", "-P", "--json"]);
    let r = record(&fin, pid);
    assert_eq!(r["mode"], "off-cpu");
    assert_five_ms(&r);
    let p50 = r["latency"]["p50"].as_u64().unwrap();
    assert!((4_900..6_000).contains(&p50), "off-CPU p50 {p50} us: {r:#}");
}

#[test]
fn per_thread_keys_and_the_bcc_table() {
    require_root();
    let _g = serial();
    let (pid, fin) = trace(&["-L", "--json"]);
    let r = record(&fin, pid);
    // Single-threaded: the thread id is the process id.
    assert_eq!(r["tid"], pid);
    assert_five_ms(&r);

    let (pid, fin) = trace(&["-P", "-m"]);
    let out = fin.stdout.join("\n");
    assert!(
        out.contains(&format!("pid = {pid} ebpftop-workloa")),
        "{out}"
    );
    assert!(
        out.contains("     msecs               : count    distribution"),
        "{out}"
    );
    let row = fin
        .stdout
        .iter()
        .find(|l| l.trim_start().starts_with("4 -> 7"))
        .unwrap_or_else(|| panic!("no 4 -> 7 ms row: {out}"));
    let n: u64 = row.split_whitespace().nth(4).unwrap().parse().unwrap();
    assert!(n >= ROUNDS * 9 / 10, "{row}");
    assert!(fin.stdout.iter().any(|l| l.starts_with("count ")), "{out}");
}
