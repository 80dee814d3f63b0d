//! exitsnoop against the real kernel: the exits of a workload's children
//! and threads, whose pids, codes and lifetimes the workload reports, and
//! what libbpf-tools' exitsnoop saw of the same children.

use std::{process::Command, time::Duration};

use ebpftop_tests::{Tracer, Workload, bin, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
/// How long the workload's children and thread live.
const LIFE_MS: u64 = 200;

fn id(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("{v} is not an id"))
}

fn age_ms(e: &Value) -> u64 {
    id(&e["age_ns"]) / 1_000_000
}

/// Runs `exit-children` under exitsnoop with `args`; returns the
/// workload's report and the exit events.
fn trace_children(comm: &str, args: &[&str]) -> (Value, Vec<Value>) {
    let w = Workload::start(&["exit-children", &LIFE_MS.to_string(), "--comm", comm]);
    let pid = w.pid().to_string();
    let mut all = vec!["--json", "-c", comm];
    all.extend_from_slice(args);
    let ours = Tracer::ours("exitsnoop", &all);
    let report = w.go();
    // The workload's own exit comes last (unless -x hides it: status 0).
    let last = if args.contains(&"-x") {
        report["killed"].to_string()
    } else {
        format!(r#""pid":{pid},"tid":{pid},"#)
    };
    ours.wait_stdout(|l| l.contains(&last), WAIT)
        .unwrap_or_else(|| panic!("no exit with {last}: {:?}", ours.stdout_so_far()));
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    (report, fin.json())
}

fn by_pid<'a>(events: &'a [Value], pid: &Value) -> Vec<&'a Value> {
    events.iter().filter(|e| e["pid"] == *pid).collect()
}

#[test]
fn reports_each_exit_with_its_code_signal_parent_and_age() {
    require_root();
    let _g = serial();
    let reference = Tracer::spawn("stdbuf", &["-oL", "/usr/sbin/exitsnoop"]);
    reference.wait_reference_header("PCOMM");
    let (r, events) = trace_children("exsnoop-kids", &[]);
    assert!(events.iter().all(|e| e["event"] == "exit"), "{events:#?}");
    let children: Vec<&Value> = events.iter().filter(|e| e["ppid"] == r["pid"]).collect();
    assert_eq!(
        children.len(),
        3,
        "exactly the three children: {children:#?}"
    );

    let c = by_pid(&events, &r["code3"]);
    assert_eq!(c.len(), 1);
    let c = c[0];
    assert_eq!(c["tid"], r["code3"]);
    assert_eq!(c["comm"], "exsnoop-kids");
    assert_eq!(
        (c["exit_code"].clone(), c["status"].clone()),
        (3.into(), 768.into())
    );
    assert_eq!(c["signal"], Value::Null);
    assert_eq!(c["core_dumped"], false);
    assert!((LIFE_MS..5_000).contains(&age_ms(c)), "age {}", c["age_ns"]);

    let k = by_pid(&events, &r["killed"])[0];
    assert_eq!(k["ppid"], r["pid"]);
    assert_eq!(k["signal"], "SIGKILL");
    assert_eq!(
        (k["exit_code"].clone(), k["status"].clone()),
        (Value::Null, 9.into())
    );
    assert!((LIFE_MS..5_000).contains(&age_ms(k)), "age {}", k["age_ns"]);

    let z = by_pid(&events, &r["clean"])[0];
    assert_eq!(
        (z["exit_code"].clone(), z["status"].clone()),
        (0.into(), 0.into())
    );
    assert_eq!(z["signal"], Value::Null);
    assert!(
        age_ms(z) < LIFE_MS,
        "a child that exits at once: {}",
        z["age_ns"]
    );

    // The workload itself: one record, from its last thread, aged by its
    // whole life (children's wait, then the thread's); the thread that
    // ended before it is not a process exit.
    let me = by_pid(&events, &r["pid"]);
    assert_eq!(me.len(), 1, "{me:#?}");
    assert_eq!(me[0]["tid"], r["pid"]);
    assert_eq!(me[0]["ppid"], std::process::id());
    assert_eq!(me[0]["process_ended"], true);
    assert!(age_ms(me[0]) >= 2 * LIFE_MS, "age {}", me[0]["age_ns"]);
    assert!(!events.iter().any(|e| e["tid"] == r["thread_tid"]));

    // libbpf-tools: `PCOMM PID PPID TID AGE(s) EXIT_CODE`.
    let rows = reference.stop().stdout;
    let row = |pid: &Value| -> String {
        let pid = pid.to_string();
        rows.iter()
            .find(|l| l.split_whitespace().nth(1) == Some(pid.as_str()))
            .unwrap_or_else(|| panic!("libbpf-tools missed {pid}: {rows:?}"))
            .clone()
    };
    let ppid = r["pid"].to_string();
    for (pid, exit) in [
        (&r["code3"], "code 3"),
        (&r["killed"], "signal 9 (Killed)"),
        (&r["clean"], "0"),
    ] {
        let line = row(pid);
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[2], ppid, "{line}");
        assert!(line.ends_with(exit), "{line}");
    }
}

#[test]
fn failed_only_hides_clean_exits() {
    require_root();
    let _g = serial();
    let (r, events) = trace_children("exsnoop-fail", &["-x"]);
    let pids: Vec<u64> = events.iter().map(|e| id(&e["pid"])).collect();
    assert!(pids.contains(&id(&r["code3"])), "{pids:?}");
    assert!(pids.contains(&id(&r["killed"])), "{pids:?}");
    assert!(!pids.contains(&id(&r["clean"])), "-x showed exit 0");
    for e in &events {
        assert_ne!(e["status"], 0, "-x showed {e}");
    }
}

#[test]
fn threads_mode_reports_each_thread_with_its_own_age() {
    require_root();
    let _g = serial();
    let (r, events) = trace_children("exsnoop-thr", &["-t"]);
    let t: Vec<&Value> = events
        .iter()
        .filter(|e| e["tid"] == r["thread_tid"])
        .collect();
    assert_eq!(t.len(), 1, "{events:#?}");
    let t = t[0];
    assert_eq!(t["pid"], r["pid"]);
    assert_eq!(t["process_ended"], false);
    assert_eq!(t["status"], 0);
    // Its own life, not the process's (which is twice as long by then).
    let age = age_ms(t);
    assert!((LIFE_MS..2 * LIFE_MS).contains(&age), "thread age {age} ms");
    let main: Vec<&Value> = by_pid(&events, &r["pid"])
        .into_iter()
        .filter(|e| e["tid"] == r["pid"])
        .collect();
    assert_eq!(main.len(), 1);
    assert_eq!(main[0]["process_ended"], true);
}

/// A leader that leaves first does not end its process: the last thread
/// does, and that is the exit reported (and, with -t, both are).
#[test]
fn a_process_ends_with_its_last_thread() {
    require_root();
    let _g = serial();
    for threads in [false, true] {
        let comm = "exsnoop-lead";
        let w = Workload::start(&["leader-exits-first", &LIFE_MS.to_string(), "--comm", comm]);
        let pid = w.pid();
        let mut args = vec!["--json", "-p"];
        let p = pid.to_string();
        args.push(&p);
        if threads {
            args.push("-t");
        }
        let ours = Tracer::ours("exitsnoop", &args);
        let r = w.go();
        let last = format!(r#""tid":{},"#, r["tid"]);
        ours.wait_stdout(|l| l.contains(&last), WAIT)
            .expect("the last thread's exit");
        let events = ours.stop().json();
        assert!(events.iter().all(|e| e["pid"] == pid), "-p let others in");
        let ended: Vec<&Value> = events
            .iter()
            .filter(|e| e["process_ended"] == true)
            .collect();
        assert_eq!(ended.len(), 1, "{events:#?}");
        assert_eq!(ended[0]["tid"], r["tid"]);
        assert!(
            age_ms(ended[0]) >= LIFE_MS,
            "process age {}",
            ended[0]["age_ns"]
        );
        let leader = events.iter().find(|e| e["tid"] == r["leader_tid"]);
        if threads {
            let leader = leader.expect("-t shows the leader's own exit");
            assert_eq!(leader["process_ended"], false);
            assert!(age_ms(leader) < LIFE_MS);
            assert_eq!(events.len(), 2);
        } else {
            assert!(leader.is_none(), "the leader's exit is not the process's");
            assert_eq!(events.len(), 1);
        }
    }
}

#[test]
fn bad_input_is_one_line_and_a_failure() {
    require_root();
    for args in [
        &["-p", "0"][..],
        &["--tid", "4294967294"],
        &["--cgroup", "/tmp"],
    ] {
        let out = Command::new(bin("exitsnoop")).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("exitsnoop: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // -t is --threads here: it takes no value.
    let out = Command::new(bin("exitsnoop"))
        .args(["-t", "5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
