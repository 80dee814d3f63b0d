//! execsnoop against the real kernel: what it reports must be what a
//! workload with a known pid exec'd, and what libbpf-tools' execsnoop saw.

use std::{
    ffi::OsString,
    os::unix::ffi::OsStringExt,
    process::Command,
    time::{Duration, Instant},
};

use ebpftop_tests::{Tracer, Workload, bin, bpf_program_ids, require_root, serial};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(15);
const PROGRAMS: [&str; 4] = [
    "execve_enter",
    "execve_exit",
    "execveat_enter",
    "execveat_exit",
];

fn execs_by(events: &[Value], pid: u64) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event"] == "exec" && e["pid"] == pid)
        .collect()
}

/// A path that does not exist, unique to this test run.
fn missing(tag: &str) -> String {
    format!("/nonexistent/ebpftop-{tag}-{}", std::process::id())
}

/// Waits until `t` printed `n` lines containing `needle`.
fn wait_lines(t: &Tracer, needle: &str, n: usize) {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline
        && t.stdout_so_far()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
            < n
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn reports_a_failed_and_a_successful_exec_as_done_and_as_libbpf_tools_saw_them() {
    require_root();
    let _g = serial();
    let gone = missing("enoent");
    // libbpf-tools has no pid filter; -x makes it show failed execs too.
    // Line-buffered: its rows reach the pipe as printed. Started before
    // the workload: when the workload's process existed before it
    // attached, it missed the workload's failed exec in 5 runs of 5 here.
    let reference = Tracer::spawn("stdbuf", &["-oL", "/usr/sbin/execsnoop", "-x"]);
    reference.wait_reference_header("PCOMM");
    let w = Workload::start(&[
        "exec-self",
        &gone,
        "/bin/true",
        "a",
        "b",
        "c",
        "--comm",
        "esnoop-self",
    ]);
    let pid = w.pid();
    let ours = Tracer::ours("execsnoop", &["--json", "-p", &pid.to_string()]);
    let report = w.go();
    assert_eq!(report["pid"], pid);
    assert_eq!(report["missing_errno"], 2);
    wait_lines(&ours, "\"/bin/true\"", 1);
    // Its per-CPU perf buffers may deliver the two in either order.
    reference
        .wait_stdout(|l| l.trim_end().ends_with("/bin/true a b c"), WAIT)
        .unwrap_or_else(|| {
            panic!(
                "libbpf-tools missed the exec: {:?}",
                reference.stdout_so_far()
            )
        });
    reference
        .wait_stdout(|l| l.trim_end().ends_with(&gone), WAIT)
        .unwrap_or_else(|| {
            panic!(
                "libbpf-tools missed the failure: {:?}",
                reference.stdout_so_far()
            )
        });
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    let events = fin.json();
    let mine = execs_by(&events, pid.into());
    assert_eq!(mine.len(), events.len(), "-p let other processes through");
    assert_eq!(mine.len(), 2, "exactly the two execs: {mine:#?}");

    let (f, s) = (mine[0], mine[1]);
    assert_eq!(f["ret"], -2);
    assert_eq!(f["errno"], 2);
    assert_eq!(f["error"], "ENOENT");
    assert_eq!(f["filename"], gone.as_str());
    assert_eq!(f["argv"], json!([gone]));
    assert_eq!(f["comm"], "esnoop-self");
    assert_eq!(f["syscall"], "execve");
    for e in [f, s] {
        assert_eq!(e["ppid"], report["ppid"], "ppid: {e}");
        assert_eq!(e["ppid"], std::process::id(), "the test spawned it: {e}");
        assert_eq!(e["tid"], report["tid"]);
        assert_eq!(e["uid"], 0);
        assert_eq!(e["args_truncated"], false);
        assert!(e["ts_ns"].as_u64().unwrap() > 1_600_000_000_000_000_000);
        assert!(e["cgroup_id"].as_u64().unwrap() > 0);
    }
    assert_eq!(s["ret"], 0);
    assert_eq!(s["errno"], Value::Null);
    assert_eq!(s["error"], Value::Null);
    assert_eq!(s["filename"], "/bin/true");
    assert_eq!(s["argv"], json!(["/bin/true", "a", "b", "c"]));
    // The command name after the exec.
    assert_eq!(s["comm"], "true");

    // libbpf-tools prints `PCOMM PID PPID RET ARGS`: the same execs.
    let fin = reference.stop();
    let mut rows: Vec<Vec<&str>> = fin
        .stdout
        .iter()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|r| r.get(1) == Some(&pid.to_string().as_str()))
        // The exec that started the workload, before ours was tracing.
        .filter(|r| r[0] != "ebpftop-workloa")
        .collect();
    let ppid = std::process::id().to_string();
    rows.sort_by_key(|r| r[0] != "esnoop-self");
    assert_eq!(
        rows,
        vec![
            vec!["esnoop-self", &pid.to_string(), &ppid, "-2", &gone],
            vec![
                "true",
                &pid.to_string(),
                &ppid,
                "0",
                "/bin/true",
                "a",
                "b",
                "c"
            ],
        ],
        "libbpf-tools: {:?}",
        fin.stdout
    );
}

#[test]
fn failed_only_shows_only_the_failure() {
    require_root();
    let _g = serial();
    let gone = missing("x");
    let w = Workload::start(&["exec-self", &gone, "/bin/true", "ok"]);
    let pid = w.pid();
    let ours = Tracer::ours("execsnoop", &["--json", "-x", "-p", &pid.to_string()]);
    let table = Tracer::ours("execsnoop", &["-x", "-p", &pid.to_string()]);
    w.go();
    wait_lines(&ours, &gone, 1);
    wait_lines(&table, &gone, 1);
    // Whatever the success would have printed has had time to arrive.
    std::thread::sleep(Duration::from_millis(300));
    let events = ours.stop().json();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["errno"], 2);
    assert_eq!(events[0]["argv"], json!([gone]));
    let fin = table.stop();
    let rows: Vec<&String> = fin.stdout.iter().skip(1).collect();
    assert_eq!(rows.len(), 1, "{:?}", fin.stdout);
    let cells: Vec<&str> = rows[0].split_whitespace().collect();
    assert_eq!(
        cells[1..],
        [
            pid.to_string().as_str(),
            &std::process::id().to_string(),
            "-2",
            &gone
        ]
    );
}

/// 30 arguments with spaces, quotes, an empty one, UTF-8 and a byte that
/// is not UTF-8: all of them with `--max-args 40`, 20 and a mark by default.
#[test]
fn arguments_round_trip_exactly_and_truncation_is_marked() {
    require_root();
    let _g = serial();
    let mut args: Vec<OsString> = (1..=30).map(|i| format!("arg{i}").into()).collect();
    args[1] = "two words".into();
    args[2] = r#"say "hi""#.into();
    args[3] = "".into();
    args[4] = "caf\u{e9} \u{1f980}".into();
    args[5] = OsString::from_vec(b"bad\xffbyte".to_vec());
    args[6] = "-".repeat(700).into(); // past the small record's first read
    let mut cmd: Vec<OsString> = vec![
        "exec-self".into(),
        missing("argv").into(),
        "/bin/true".into(),
    ];
    cmd.extend(args.iter().cloned());
    let w = Workload::start(&cmd);
    let pid = w.pid().to_string();
    let full = Tracer::ours("execsnoop", &["--json", "--max-args", "40", "-p", &pid]);
    let cut = Tracer::ours("execsnoop", &["--json", "-p", &pid]);
    let table = Tracer::ours("execsnoop", &["-q", "-p", &pid]);
    w.go();
    wait_lines(&full, "\"/bin/true\"", 1);
    wait_lines(&cut, "\"/bin/true\"", 1);
    wait_lines(&table, "\"/bin/true\"", 1);

    let mut expected: Vec<String> = vec!["/bin/true".into()];
    expected.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
    expected[6] = r"bad\xffbyte".into();
    let success = |t: Tracer| -> Value {
        let events = t.stop().json();
        events
            .into_iter()
            .find(|e| e["ret"] == 0)
            .expect("the successful exec")
    };
    let e = success(full);
    assert_eq!(e["argv"], json!(expected));
    assert_eq!(e["args_truncated"], false);
    let e = success(cut);
    assert_eq!(e["argv"], json!(expected[..20]));
    assert_eq!(e["args_truncated"], true);

    let fin = table.stop();
    let row = fin
        .stdout
        .iter()
        .find(|l| l.contains("\"/bin/true\""))
        .expect("table row");
    // -q puts each argument in quotes (an inner quote as \"); the table
    // then writes a backslash as \\ and a byte that is not UTF-8 as \xNN.
    let quoted: Vec<String> = std::iter::once(OsString::from("/bin/true"))
        .chain(args.iter().cloned())
        .take(20)
        .map(|a| {
            // Escaped for the terminal first, then quoted: `"` as `\"`.
            let escaped = a
                .to_string_lossy()
                .replace('\\', "\\\\")
                .replace('\u{fffd}', "\\xff");
            format!("\"{}\"", escaped.replace('"', "\\\""))
        })
        .collect();
    assert!(
        row.ends_with(&format!(" 0 {} ...", quoted.join(" "))),
        "table row: {row}"
    );
}

/// A thread other than the leader execs: it returns as the leader, with
/// the process id as its thread id, and the exec is still reported whole.
#[test]
fn an_exec_from_a_thread_is_paired() {
    require_root();
    let _g = serial();
    let w = Workload::start(&["exec-thread", "/bin/true", "from", "a", "thread"]);
    let pid = w.pid();
    let ours = Tracer::ours("execsnoop", &["--json", "-p", &pid.to_string()]);
    let report = w.go();
    wait_lines(&ours, "\"/bin/true\"", 1);
    let events = ours.stop().json();
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(e["pid"], pid);
    assert_eq!(e["tid"], report["pid"]);
    assert_eq!(e["ret"], 0);
    assert_eq!(e["comm"], "true");
    assert_eq!(e["argv"], json!(["/bin/true", "from", "a", "thread"]));
}

#[test]
fn name_and_line_filters_select_by_regex() {
    require_root();
    let _g = serial();
    let gone = missing("nl");
    let w = Workload::start(&[
        "exec-self",
        &gone,
        "/bin/true",
        "pick",
        "me",
        "--comm",
        "esnoop-nl",
    ]);
    let by_name = Tracer::ours("execsnoop", &["--json", "-c", "esnoop-nl", "-n", "^tr.e$"]);
    let by_line = Tracer::ours(
        "execsnoop",
        &["--json", "-c", "esnoop-nl", "-l", "ebpftop-nl-"],
    );
    let pid = w.pid();
    w.go();
    wait_lines(&by_name, "\"/bin/true\"", 1);
    wait_lines(&by_line, &gone, 1);
    std::thread::sleep(Duration::from_millis(300));
    let name = by_name.stop().json();
    assert_eq!(name.len(), 1, "{name:#?}");
    assert_eq!(name[0]["pid"], pid);
    assert_eq!(name[0]["argv"], json!(["/bin/true", "pick", "me"]));
    let line = by_line.stop().json();
    assert_eq!(line.len(), 1, "{line:#?}");
    assert_eq!(line[0]["argv"], json!([gone]));
}

#[test]
fn no_programs_are_left_after_sigint() {
    require_root();
    let _g = serial();
    let ours = Tracer::ours("execsnoop", &[]);
    assert!(!bpf_program_ids(&PROGRAMS).is_empty(), "programs loaded");
    let fin = ours.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    assert!(
        bpf_program_ids(&PROGRAMS).is_empty(),
        "programs left after SIGINT"
    );
}

#[test]
fn a_bad_regex_is_one_line_and_exit_1() {
    for flag in ["-n", "-l"] {
        let out = Command::new(bin("execsnoop"))
            .args([flag, "(unclosed"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("execsnoop: invalid --") && err.contains("(unclosed"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}
