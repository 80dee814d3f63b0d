//! runqlat against the real kernel: a periodic sleeper pinned to a CPU
//! waits longer in the run queue when two CPU hogs share that CPU, and
//! --preemptors names the hogs' cgroups as the ones that held the CPU.

use ebpftop_tests::{
    Finished, Tracer, Workload, require_root,
    sched::{Hogs, TestCgroup, test_cpu},
    serial,
};
use serde_json::Value;

/// 500 sleeps of 1 ms at nice 19: a low-weight task that does not preempt
/// a busy CPU's tasks on wakeup (EEVDF would otherwise run it at once);
/// the hogs run at nice -5.
const SLEEPS: u64 = 500;

fn sleeper() -> Workload {
    let cpu = test_cpu().to_string();
    Workload::start(&["sleep-loop", &cpu, &SLEEPS.to_string(), "1000", "19"])
}

fn records<'a>(fin: &'a Finished, event: &'a str) -> impl Iterator<Item = Value> + 'a {
    fin.json().into_iter().filter(move |r| r["event"] == event)
}

/// Mean wait in microseconds (from the exact total, not the buckets).
fn mean_us(r: &Value) -> f64 {
    let total = r["total_ns"].as_u64().unwrap() as f64;
    total / r["latency"]["count"].as_u64().unwrap() as f64 / 1e3
}

/// The sleeper's own -P histogram (runqlat filtered to it with -p).
fn sleeper_latency() -> (u32, Value) {
    let w = sleeper();
    let pid = w.pid();
    let t = Tracer::ours("runqlat", &["-P", "--json", "-p", &pid.to_string()]);
    let report = w.go();
    assert_eq!(report["sleeps"], SLEEPS);
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let recs: Vec<Value> = records(&fin, "runqlat").collect();
    assert_eq!(recs.len(), 1, "-p let other processes through: {recs:#?}");
    let r = recs.into_iter().next().unwrap();
    assert_eq!(r["pid"], pid, "-P shows the sleeper's pid");
    assert_eq!(r["comm"], "ebpftop-workloa");
    // Each sleep ends in a wakeup; a few more come from start-up and exit.
    let count = r["latency"]["count"].as_u64().unwrap();
    // A wakeup that finds the task still on its CPU has no wait.
    assert!(
        (SLEEPS * 9 / 10..SLEEPS + 20).contains(&count),
        "{count} waits: {r}"
    );
    (pid, r)
}

#[test]
fn a_sleeper_waits_longer_behind_two_hogs() {
    require_root();
    let _g = serial();
    let (_, alone) = sleeper_latency();
    let hogs = Hogs::spawn(2, test_cpu(), 30_000);
    let (_, crowded) = sleeper_latency();
    drop(hogs);
    let (a, c) = (mean_us(&alone), mean_us(&crowded));
    assert!(
        c >= 3.0 * a && c > 1000.0,
        "mean wait {a:.1} us alone, {c:.1} us behind two hogs: {alone} {crowded}"
    );
    let (pa, pc) = (
        alone["latency"]["p99"].as_u64().unwrap(),
        crowded["latency"]["p99"].as_u64().unwrap(),
    );
    assert!(pc > pa, "p99 {pa} us alone, {pc} us crowded");
}

#[test]
fn system_wide_histogram_in_milliseconds() {
    require_root();
    let _g = serial();
    let t = Tracer::ours("runqlat", &["-m", "--json", "0.5", "2"]);
    let fin = t.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let recs: Vec<Value> = records(&fin, "runqlat").collect();
    assert!(!recs.is_empty(), "{:?}", fin.stdout);
    for r in &recs {
        assert_eq!(r["hist"]["unit"], "msecs");
        assert!(
            r.get("pid").is_none() && r.get("cgroup_id").is_none(),
            "{r}"
        );
    }
    // --verbose says which attach path each hook took.
    assert!(
        fin.stderr
            .iter()
            .any(|l| l.contains("attach context switch: tp_btf sched_switch")
                || l.contains("attach context switch: raw_tracepoint sched_switch")),
        "{:?}",
        fin.stderr
    );
}

#[test]
fn per_pid_namespace_and_per_thread_keys() {
    use std::os::unix::fs::MetadataExt;
    require_root();
    let _g = serial();
    for (flag, field) in [("--pidnss", "pidns"), ("-L", "tid")] {
        let cpu = test_cpu().to_string();
        let w = Workload::start(&["sleep-loop", &cpu, "50", "1000"]);
        let pid = w.pid();
        let t = Tracer::ours("runqlat", &[flag, "--json", "-p", &pid.to_string()]);
        let ns = std::fs::metadata(format!("/proc/{pid}/ns/pid"))
            .unwrap()
            .ino();
        let report = w.go();
        let fin = t.stop();
        assert!(fin.status.success(), "{:?}", fin.stderr);
        let recs: Vec<Value> = records(&fin, "runqlat").collect();
        assert_eq!(recs.len(), 1, "{flag}: {recs:#?}");
        let want = if field == "pidns" {
            ns
        } else {
            report["tid"].as_u64().unwrap()
        };
        assert_eq!(recs[0][field], want, "{flag}: {}", recs[0]);
        assert!(recs[0]["latency"]["count"].as_u64().unwrap() >= 45);
    }
}

#[test]
fn preemptors_of_a_sleeper_cgroup_are_the_hog_cgroups() {
    require_root();
    let _g = serial();
    // Declared first, dropped last: the hogs are killed before the cgroups go.
    let cg = TestCgroup::new("runqlat", &["hog1", "hog2", "sleeper"]);
    let hogs = Hogs::spawn(2, test_cpu(), 30_000);
    cg.add("hog1", hogs.pids()[0]);
    cg.add("hog2", hogs.pids()[1]);
    let preempt = Tracer::ours("runqlat", &["--preemptors", "--json"]);
    let by_cgroup = Tracer::ours("runqlat", &["-C", "--json"]);
    let w = sleeper();
    cg.add("sleeper", w.pid());
    w.go();
    let (fin, cfin) = (preempt.stop(), by_cgroup.stop());
    drop(hogs);
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let (sleeper_cg, hog1, hog2) = (cg.shown("sleeper"), cg.shown("hog1"), cg.shown("hog2"));
    let victims: Vec<Value> = records(&fin, "preemptors").collect();
    let v = victims
        .iter()
        .find(|v| v["name"] == sleeper_cg.as_str())
        .unwrap_or_else(|| panic!("no victim {sleeper_cg}: {victims:#?}"));
    assert_eq!(v["by"], "cgroup");
    // Its waits: one per sleep (give or take one racing the cgroup move).
    assert!(v["count"].as_u64().unwrap() >= SLEEPS * 9 / 10, "{v}");
    let top: Vec<&str> = v["preemptors"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .map(|p| p["name"].as_str().unwrap_or(""))
        .collect();
    let mut want = [hog1.as_str(), hog2.as_str()];
    let mut got = [top[0], top.get(1).copied().unwrap_or("")];
    want.sort();
    got.sort();
    assert_eq!(got, want, "top two preemptors of {sleeper_cg}: {v}");
    // Other tasks on that CPU (a build, this harness) steal some too;
    // the hogs most of what the slices cover.
    let hogs_share: f64 = v["preemptors"].as_array().unwrap()[..2]
        .iter()
        .map(|p| p["share"].as_f64().unwrap())
        .sum();
    assert!(hogs_share > 0.3, "{v}");
    // -C names the sleeper's cgroup by its path, with its long waits.
    let c = records(&cfin, "runqlat")
        .find(|r| r["cgroup"] == sleeper_cg.as_str())
        .unwrap_or_else(|| panic!("-C has no {sleeper_cg}: {:?}", cfin.stdout));
    assert!(c["cgroup_id"].as_u64().unwrap() > 1);
    assert!(mean_us(&c) > 1000.0, "{c}");
}
