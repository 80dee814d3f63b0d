//! sigsnoop against the real kernel: signals a workload with a known pid
//! sends to a target with a known pid and known dispositions, and what
//! libbpf-tools' sigsnoop saw of them.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use ebpftop_tests::{Tracer, Workload, bin, bpf_program_ids, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);
/// No process has this id: pid_max is at most 2^22.
const NO_SUCH_PID: &str = "2147483647";

/// `ebpftop-workload signal-target`: SIGUSR1 blocked (so it stays
/// pending), SIGUSR2 ignored. Killed on drop.
struct Target {
    child: Child,
    pid: u32,
}

impl Target {
    fn start() -> Target {
        let mut child = Command::new(bin("ebpftop-workload"))
            .arg("signal-target")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawning the signal target");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line).expect("target's ready line");
        assert_eq!(ready["pid"], child.id());
        let pid = child.id();
        Target { child, pid }
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `sigs` from a workload named `comm` to `target`, with sigsnoop
/// `args` (and `-p SENDER`) tracing it; returns the sender's report and
/// the events for `target` once `expect` of them arrived. The only other
/// signal the sender may send is the SIGCHLD its exit sends us.
fn send(comm: &str, target: &str, sigs: &str, args: &[&str], expect: usize) -> (Value, Vec<Value>) {
    let w = Workload::start(&["kill", target, sigs, "--comm", comm]);
    let pid = w.pid().to_string();
    let mut all = vec!["--json", "-p", &pid];
    all.extend_from_slice(args);
    let ours = Tracer::ours("sigsnoop", &all);
    let report = w.go();
    let to_target = format!(r#""target_pid":{target},"#);
    let seen = || {
        ours.stdout_so_far()
            .iter()
            .filter(|l| l.contains(&to_target))
            .count()
    };
    let deadline = std::time::Instant::now() + WAIT;
    while expect > 0 && seen() < expect && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    if expect == 0 {
        // Nothing should come; give a wrong event time to arrive.
        std::thread::sleep(Duration::from_millis(300));
    }
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let (mine, others): (Vec<Value>, Vec<Value>) = fin
        .json()
        .into_iter()
        .partition(|e| e["target_pid"].as_i64() == target.parse().ok());
    for e in &others {
        assert_eq!(e["signal"], "SIGCHLD", "unexpected {e}");
        // SAFETY: gettid cannot fail. The thread that forked is the parent.
        assert_eq!(e["target_pid"], unsafe { libc::gettid() }, "unexpected {e}");
    }
    (report, mine)
}

fn summary(events: &[Value]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["signal"].as_str().unwrap().to_string(),
                e["result"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(sig: &str, result: &str) -> (String, String) {
    (sig.to_string(), result.to_string())
}

#[test]
fn reports_sender_target_signal_and_result_as_libbpf_tools_saw_them() {
    require_root();
    let _g = serial();
    let target = Target::start();
    let reference = Tracer::spawn("stdbuf", &["-oL", "/usr/sbin/sigsnoop"]);
    reference.wait_reference_header("TPID");
    let tpid = target.pid.to_string();
    let (r, events) = send("sigsnoop-send", &tpid, "10,10,12", &[], 3);
    assert_eq!(r["errnos"], serde_json::json!([0, 0, 0]));
    assert_eq!(
        summary(&events),
        [
            pair("SIGUSR1", "delivered"),
            pair("SIGUSR1", "already_pending"),
            pair("SIGUSR2", "ignored"),
        ]
    );
    for e in &events {
        assert_eq!(e["event"], "signal");
        assert_eq!(e["source"], "generate");
        assert_eq!((&e["pid"], &e["tid"]), (&r["pid"], &r["tid"]));
        assert_eq!(e["comm"], "sigsnoop-send");
        assert_eq!(e["target_pid"], target.pid);
        // The kernel keeps 15 bytes of "ebpftop-workload".
        assert_eq!(e["target_comm"], "ebpftop-workloa");
        assert_eq!(e["group"], true, "kill(2) signals the whole process");
        assert_eq!(e["si_code"], 0, "SI_USER");
        assert_eq!(e["errno"], Value::Null);
    }
    assert_eq!(events[0]["sig"], libc::SIGUSR1);
    assert_eq!(events[2]["sig"], libc::SIGUSR2);

    // libbpf-tools: `TIME PID COMM SIG TPID RESULT`, signals as numbers.
    let sender = r["pid"].to_string();
    let want = |l: &String| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.get(1) == Some(&sender.as_str()) && f.get(4) == Some(&tpid.as_str())
    };
    reference
        .wait_stdout(
            |l| l.split_whitespace().nth(3) == Some("12") && want(&l.to_string()),
            WAIT,
        )
        .expect("libbpf-tools saw SIGUSR2");
    let rows: Vec<Vec<String>> = reference
        .stop()
        .stdout
        .iter()
        .filter(|l| want(l))
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    let sigs: Vec<&str> = rows.iter().map(|f| f[3].as_str()).collect();
    assert_eq!(sigs, ["10", "10", "12"]);
    for f in &rows {
        assert_eq!(
            (f[2].as_str(), f[4].as_str()),
            ("sigsnoop-send", tpid.as_str())
        );
    }
}

#[test]
fn signal_filter_takes_names_numbers_and_lists() {
    require_root();
    let _g = serial();
    let target = Target::start();
    let tpid = target.pid.to_string();
    let (_, events) = send("sigsnoop-s", &tpid, "10,12,10", &["-s", "SIGUSR2"], 1);
    assert_eq!(summary(&events), [pair("SIGUSR2", "ignored")]);
    let (_, events) = send("sigsnoop-s", &tpid, "10,12", &["-s", "12,usr1"], 2);
    assert_eq!(summary(&events).len(), 2);
    let (_, events) = send("sigsnoop-s", &tpid, "12", &["-s", "10", "-s", "KILL"], 0);
    assert!(events.is_empty(), "{events:#?}");
}

#[test]
fn failed_only_shows_signals_not_delivered() {
    require_root();
    let _g = serial();
    let target = Target::start();
    let tpid = target.pid.to_string();
    let (_, events) = send("sigsnoop-x", &tpid, "10,10,12", &["-x"], 2);
    assert_eq!(
        summary(&events),
        [
            pair("SIGUSR1", "already_pending"),
            pair("SIGUSR2", "ignored")
        ]
    );
}

#[test]
fn kill_mode_reports_each_call_and_its_error() {
    require_root();
    let _g = serial();
    let target = Target::start();
    let tpid = target.pid.to_string();
    let (r, events) = send("sigsnoop-k", &tpid, "10,0", &["-k"], 2);
    assert_eq!(summary(&events), [pair("SIGUSR1", "ok"), pair("0", "ok")]);
    for e in &events {
        assert_eq!(e["source"], "kill");
        assert_eq!((&e["pid"], &e["comm"]), (&r["pid"], &r["comm"]));
        assert_eq!(e["target_pid"], target.pid);
        assert_eq!(
            (&e["errno"], &e["target_comm"]),
            (&Value::Null, &Value::Null)
        );
    }
    // A kill that finds no process generates no signal: only -k sees it.
    let (r, events) = send("sigsnoop-k", NO_SUCH_PID, "9", &["-k"], 1);
    assert_eq!(r["errnos"], serde_json::json!([libc::ESRCH]));
    assert_eq!(summary(&events), [pair("SIGKILL", "ESRCH")]);
    assert_eq!(events[0]["target_pid"], i32::MAX);
    assert_eq!(
        (&events[0]["errno"], &events[0]["error"]),
        (&3.into(), &"ESRCH".into())
    );
    let (_, events) = send("sigsnoop-k", NO_SUCH_PID, "9", &[], 0);
    assert!(events.is_empty(), "{events:#?}");
    // -x: the failed kill, not the one that worked.
    let w = Workload::start(&["kill", &tpid, "12", "--comm", "sigsnoop-kx"]);
    let bad = Workload::start(&["kill", NO_SUCH_PID, "15", "--comm", "sigsnoop-kx"]);
    let ours = Tracer::ours("sigsnoop", &["--json", "-k", "-x", "-c", "sigsnoop-kx"]);
    w.go();
    let r = bad.go();
    ours.wait_stdout(|l| l.contains("ESRCH"), WAIT)
        .expect("the failed kill");
    let events = ours.stop().json();
    assert_eq!(summary(&events), [pair("SIGTERM", "ESRCH")]);
    assert_eq!(events[0]["pid"], r["pid"]);
}

#[test]
fn bad_signal_is_one_clear_error() {
    require_root();
    for bad in ["SIGFOO", "65", "RTMIN+40"] {
        let out = Command::new(bin("sigsnoop"))
            .args(["-s", bad])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad}");
        assert!(err.contains("is not a signal"), "{err}");
        assert!(err.starts_with("sigsnoop: "), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// One object, two modes: each loads only its own programs, and stopping
/// unloads them.
#[test]
fn loads_only_the_chosen_mode_and_leaves_nothing_behind() {
    require_root();
    let _g = serial();
    let names = ["signal_generate", "kill_enter", "kill_exit"];
    let before = bpf_program_ids(&names);
    for (args, want) in [(&[][..], 1), (&["-k"][..], 2)] {
        let t = Tracer::ours("sigsnoop", args);
        let running: Vec<u64> = bpf_program_ids(&names)
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(running.len(), want, "{args:?}: programs while running");
        assert!(t.stop().status.success());
        let after = bpf_program_ids(&names);
        assert!(
            running.iter().all(|id| !after.contains(id)),
            "{args:?}: left loaded"
        );
    }
}
