//! TCP tools running at once share one program on inet_sock_set_state
//! (the runtime's hub): against the real kernel, each still reports
//! exactly its events, whichever tool came first, left first or was
//! killed.

use std::{
    thread,
    time::{Duration, Instant},
};

use ebpftop_tests::{Tracer, Workload, bin, bpf_program_ids, require_root, serial};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(15);

/// Environment variables for a tool.
type Env = &'static [(&'static str, &'static str)];

/// Both attach kinds, with the starter program each attaches.
const KINDS: [(Env, &str, &str); 2] = [
    (&[], "tp_btf", "hub_tp_btf"),
    (
        &[("EBPFTOP_SKIP_ATTACH", "tp_btf")],
        "raw_tracepoint",
        "hub_raw_tp",
    ),
];

/// A loopback connection from a held workload, and the tools' reports of
/// it: one connect, and both ends' lives.
fn check_pair(connect: &Tracer, life: &Tracer) {
    let w = Workload::start(&[
        "tcp-pair",
        "127.0.0.1",
        "1000",
        "100",
        "--comm",
        "tcp-shared",
    ]);
    let pid = w.pid();
    let report = w.go();
    let (port, client) = (&report["port"], &report["client_port"]);
    let ours = |l: &str| l.contains(&format!("\"pid\":{pid},"));
    connect
        .wait_stdout(ours, WAIT)
        .expect("tcpconnect saw the connect");
    life.wait_stdout_count(ours, 2, WAIT);
    let mine = |t: &Tracer| -> Vec<Value> {
        t.stdout_so_far()
            .iter()
            .filter(|l| ours(l))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let c = mine(connect);
    assert_eq!(c.len(), 1, "{c:#?}");
    assert_eq!(c[0]["event"], "connect");
    assert_eq!(&c[0]["dport"], port);
    assert_eq!(&c[0]["sport"], client);
    assert_eq!(c[0]["result"], "connected");
    let mut lives = mine(life);
    assert_eq!(lives.len(), 2, "{lives:#?}");
    lives.sort_by_key(|e| e["sport"].as_u64());
    let mut ends = [(client, port), (port, client)];
    ends.sort_by_key(|(s, _)| s.as_u64());
    for (l, (sport, dport)) in lives.iter().zip(ends) {
        assert_eq!(l["event"], "tcplife");
        assert_eq!(&l["sport"], sport, "{l}");
        assert_eq!(&l["dport"], dport, "{l}");
    }
}

/// Asserts that a program named `name` (as the kernel names them, cut to
/// 15 characters) is loaded.
fn assert_loaded(name: &str) {
    assert_eq!(bpf_program_ids(&[name]).len(), 1, "{name} is loaded");
}

/// Waits until exactly `n` programs named `name` are loaded.
fn wait_loaded(name: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let loaded = bpf_program_ids(&[name]).len();
        if loaded == n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{loaded} of {name} loaded, not {n}, 10 s on"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// What each tool here traces: the workloads' connections only.
const ARGS: [&str; 3] = ["--json", "--comm", "tcp-shared"];

fn start(tool: &str) -> Tracer {
    Tracer::ours(tool, &ARGS)
}

/// Stops each tool in turn; each must exit 0.
fn stop_ok<const N: usize>(tools: [Tracer; N]) {
    for t in tools {
        let fin = t.stop();
        assert!(fin.status.success(), "{:?}", fin.stderr);
    }
}

fn attach_line(t: &Tracer) -> String {
    t.wait_stderr(|l| l.contains("attach TCP state changes"), WAIT)
        .expect("--verbose names the attach")
}

#[test]
fn tools_started_together_share_one_program() {
    require_root();
    let _g = serial();
    for (env, kind, starter) in KINDS {
        // Started together: one claims the chain, the other waits for it.
        let connect = Tracer::ours_starting("tcpconnect", &ARGS, env);
        let life = Tracer::ours_starting("tcplife", &ARGS, env);
        connect.wait_ready();
        life.wait_ready();
        assert_eq!(
            bpf_program_ids(&[starter]).len(),
            1,
            "one program on the tracepoint for both ({kind})"
        );
        let (a, b) = (attach_line(&connect), attach_line(&life));
        assert!(a.contains(kind) && b.contains(kind), "{a}\n{b}");
        let first = |l: &str| l.contains("first in a chain");
        let joined =
            |l: &str, pid: u32| l.contains(&format!("in place 1 of the chain that pid {pid}"));
        assert!(
            first(&a) && joined(&b, connect.pid()) || first(&b) && joined(&a, life.pid()),
            "{a}\n{b}"
        );
        check_pair(&connect, &life);
        for t in [connect.stop(), life.stop()] {
            assert!(t.status.success(), "{:?}", t.stderr);
            assert!(
                t.stderr.iter().any(|l| l.contains(" 0 lost")),
                "{:?}",
                t.stderr
            );
        }
    }
}

#[test]
fn a_tool_that_joined_traces_on_after_the_first_leaves() {
    require_root();
    let _g = serial();
    let life = start("tcplife");
    let connect = start("tcpconnect");
    let line = attach_line(&connect);
    assert!(
        line.contains(&format!("in place 1 of the chain that pid {}", life.pid())),
        "{line}"
    );
    assert_loaded("tcplife_state_b");
    let fin = life.stop();
    assert!(fin.status.success(), "{:?}", fin.stderr);
    // The first tool's program is gone from the chain, the chain is not.
    wait_loaded("tcplife_state_b", 0);
    assert_eq!(bpf_program_ids(&["hub_tp_btf"]).len(), 1);
    // No one serves the chain now: a tool started later has its own.
    let life = start("tcplife");
    assert!(attach_line(&life).contains("first in a chain"));
    check_pair(&connect, &life);
    connect.stop();
    life.stop();
}

#[test]
fn a_killed_tools_place_is_emptied() {
    require_root();
    let _g = serial();
    let life = start("tcplife");
    let connect = start("tcpconnect");
    // SIGKILL: the first tool empties the place of a tool it lost.
    assert_loaded("tcpconnect_stat");
    drop(connect);
    wait_loaded("tcpconnect_stat", 0);
    let connect = start("tcpconnect");
    assert!(
        attach_line(&connect).contains("in place 1 of"),
        "the place was handed back"
    );
    check_pair(&connect, &life);
    // The first tool killed: the tool that joined empties its place.
    assert_loaded("tcplife_state_b");
    drop(life);
    wait_loaded("tcplife_state_b", 0);
    let life = start("tcplife");
    check_pair(&connect, &life);
    stop_ok([connect, life]);
}

/// After the first tool has gone, no one serves the chain: a tool of it
/// that is killed then has its place emptied by the tools left, and
/// theirs stay as they are.
#[test]
fn a_tool_killed_after_the_first_left_has_its_place_emptied() {
    require_root();
    let _g = serial();
    let first = start("tcplife");
    let killed = start("tcpconnect");
    let life = start("tcplife");
    let connect = start("tcpconnect");
    for (t, place) in [(&killed, 1), (&life, 2), (&connect, 3)] {
        let line = attach_line(t);
        assert!(line.contains(&format!("in place {place} of")), "{line}");
    }
    stop_ok([first]);
    wait_loaded("tcplife_state_b", 1);
    // SIGKILL: it cannot empty its place itself.
    wait_loaded("tcpconnect_stat", 2);
    drop(killed);
    wait_loaded("tcpconnect_stat", 1);
    assert_eq!(
        bpf_program_ids(&["hub_tp_btf"]).len(),
        1,
        "the chain goes on"
    );
    // Time for more looks by both tools left: neither empties the other's.
    thread::sleep(Duration::from_secs(3));
    check_pair(&connect, &life);
    stop_ok([connect, life]);
}

/// A tool in a pid namespace of its own (a container sharing the host's
/// network) shares the chain too: the tools left after the first has gone
/// see each other's processes under different pids, or none, and still
/// leave each other's places alone.
#[test]
fn tools_in_other_pid_namespaces_keep_their_places() {
    require_root();
    let _g = serial();
    let first = start("tcplife");
    let connect = bin("tcpconnect").display().to_string();
    let contained = Tracer::spawn(
        "unshare",
        &[
            &[
                "--pid",
                "--fork",
                "--mount-proc",
                "--kill-child=SIGINT",
                &connect,
                "--verbose",
            ][..],
            &ARGS,
        ]
        .concat(),
    );
    contained.wait_ready();
    let life = start("tcplife");
    assert!(attach_line(&contained).contains("in place 1 of"));
    assert!(attach_line(&life).contains("in place 2 of"));
    stop_ok([first]);
    wait_loaded("tcplife_state_b", 1);
    // Time for more looks by both tools left.
    thread::sleep(Duration::from_secs(3));
    assert_eq!(bpf_program_ids(&["tcpconnect_stat"]).len(), 1);
    assert_eq!(bpf_program_ids(&["tcplife_state_b"]).len(), 1);
    check_pair(&contained, &life);
    stop_ok([life]);
}

#[test]
fn a_tool_whose_programs_cannot_be_chained_runs_beside_the_chain() {
    require_root();
    let _g = serial();
    let life = start("tcplife");
    // As on a kernel that refuses every chained program.
    let skip = "tcpconnect_state_btf,tcpconnect_state_raw,tcpconnect_state_btf_h,\
                tcpconnect_state_raw_h";
    let connect = Tracer::ours_env("tcpconnect", &ARGS, &[("EBPFTOP_SKIP_ATTACH", skip)]);
    let line = attach_line(&connect);
    assert!(
        line.contains("(program tcpconnect_state_btf_alone)"),
        "{line}"
    );
    assert!(!line.contains("chain"), "{line}");
    assert!(attach_line(&life).contains("first in a chain"));
    check_pair(&connect, &life);
    stop_ok([connect, life]);
}
