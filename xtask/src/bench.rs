//! `cargo xtask bench TOOL`: our tool and its libbpf-tools namesake side
//! by side in the same run, interleaved (ours, theirs, ours, theirs ...
//! over the rounds), reporting medians. Needs root.
//!
//! A tool's benchmark is one small function driving a [`Bench`], whose
//! measurements are built from [`Tracer`] (spawn, wait for a marker line
//! or for its BPF links, stop with SIGINT and collect its rusage) and
//! [`time_workload`].

use std::{
    ffi::CString,
    fs::File,
    io::{BufRead, BufReader, Read},
    os::fd::{FromRawFd, OwnedFd},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, anyhow, bail};

use crate::{
    empty_program::{self, EmptyProgram},
    is_root, project_root, run as run_cmd,
};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The tool to benchmark against its libbpf-tools namesake.
    #[arg(value_enum)]
    tool: Tool,
    /// Iterations per workload run (overhead and delivery runs); by
    /// default 2,000,000 opens for opensnoop, 5,000 fork+execs for execsnoop,
    /// 5,000,000 getppid for syscount and syslat, 200,000 pipe round trips
    /// for runqlat.
    #[arg(long)]
    iterations: Option<u64>,
    /// Rounds; each runs every measurement once per tracer, interleaved.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds per measurement of ebpftop's CPU use.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Tool {
    Opensnoop,
    Execsnoop,
    Syscount,
    Syslat,
    /// runqlat against libbpf-tools' runqlat, over pipe ping-pong.
    Runqlat,
    /// tcpconnect and tcplife together (libbpf-tools' need kprobes).
    Tcp,
    /// The dashboard's own CPU use, idle and under 100,000 syscalls/s.
    Ebpftop,
}

/// The workload's comm, which delivery runs filter on.
const COMM: &str = "ebpftop-bench";
const LABELS: [&str; 2] = ["ours", "libbpf-tools"];
const SILENT: &str = "silently missing";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
const MS: Duration = Duration::from_millis(1);

pub fn run(args: BenchArgs) -> Result<()> {
    if !is_root() {
        bail!("benchmarks load BPF programs and must run as root: sudo -E cargo xtask bench ...");
    }
    if args.rounds == 0 || args.iterations == Some(0) {
        bail!("--rounds and --iterations must be at least 1");
    }
    match args.tool {
        Tool::Opensnoop => opensnoop(&args),
        Tool::Execsnoop => execsnoop(&args),
        Tool::Syscount => syscount(&args, "syscount", &[]),
        Tool::Syslat => syscount(&args, "syslat", &["-L"]),
        Tool::Runqlat => runqlat(&args),
        Tool::Tcp => tcp(&args),
        Tool::Ebpftop => crate::bench_dashboard::run(args.seconds),
    }
}

fn opensnoop(args: &BenchArgs) -> Result<()> {
    let mut b = Bench::new("opensnoop", "/usr/sbin/opensnoop", "open", 2_000_000, args)?;
    let n = b.n.to_string();
    let opens = ["open-loop", &n, "/dev/null", "--comm", COMM];
    let json: LineTest = |l| l.contains(r#""ebpftop-bench""#) && l.contains(r#""/dev/null""#);
    let table: LineTest = |l| l.contains(COMM) && l.ends_with(" /dev/null");
    for round in 1..=args.rounds {
        b.round = round;
        b.startup(0, &[])?;
        b.startup(1, &[])?;
        let base = b.untraced(&opens)?;
        b.traced(0, &[], &opens, base)?;
        b.traced(1, &[], &opens, base)?;
        // libbpf-tools has no JSON (and filters names in user space, -n).
        b.delivery(0, "JSON", &["--json", "-c", COMM], json, &opens)?;
        let theirs = b.delivery(1, "table", &["-n", COMM], table, &opens)?;
        b.record_delivery(1, "JSON", theirs);
        b.delivery(0, "table", &["-c", COMM], table, &opens)?;
    }
    b.finish("libbpf-tools has no JSON output: its table runs fill both of its delivery rows.");
    Ok(())
}

fn execsnoop(args: &BenchArgs) -> Result<()> {
    let mut b = Bench::new("execsnoop", "/usr/sbin/execsnoop", "fork+exec", 5_000, args)?;
    // Markers are failed execs, which libbpf-tools shows only with -x.
    b.poke = exec_marker;
    let n = b.n.to_string();
    let execs = ["exec-loop", &n, "/bin/true", "--comm", COMM];
    let json: LineTest = |l| l.contains(r#""argv":["/bin/true"]"#) && l.contains(r#""ret":0"#);
    let table: LineTest = |l| l.trim_end().ends_with(" 0 /bin/true");
    for round in 1..=args.rounds {
        b.round = round;
        b.startup(0, &[])?;
        b.startup(1, &["-x"])?;
        let base = b.untraced(&execs)?;
        b.traced(0, &[], &execs, base)?;
        b.traced(1, &["-x"], &execs, base)?;
        // The children exec with the workload's comm, which -c selects in
        // the kernel; libbpf-tools has no comm filter, nor JSON.
        b.delivery(0, "JSON", &["--json", "-c", COMM], json, &execs)?;
        let theirs = b.delivery(1, "table", &["-x"], table, &execs)?;
        b.record_delivery(1, "JSON", theirs);
        b.delivery(0, "table", &["-c", COMM], table, &execs)?;
    }
    b.finish(
        "libbpf-tools has no JSON output: its table runs fill both of its delivery rows. \
         It traces every process (no comm filter): a /bin/true run elsewhere counts too.",
    );
    Ok(())
}

/// tcpconnect and tcplife running together over loopback connect/close
/// pairs: the overhead against the untraced loop, and every connect and
/// both ends of every connection delivered. Only ours: libbpf-tools'
/// tcpconnect and tcplife need kprobes, which this project's test kernel
/// does not have.
fn tcp(args: &BenchArgs) -> Result<()> {
    let root = project_root();
    run_cmd(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "tcpconnect",
        "-p",
        "tcplife",
        "-p",
        "ebpftop-tests",
    ]))
    .context("building tcpconnect, tcplife and ebpftop-workload")?;
    let release = root.join("target/release");
    let workload = release.join("ebpftop-workload");
    let n = args.iterations.unwrap_or(20_000);
    let ns = n.to_string();
    let pairs = ["connect-loop", &ns, "--comm", COMM];
    let mut report = Report::new(format!(
        "tcpconnect + tcplife (ours), {n} loopback connect/close pairs per run,          median of {} rounds",
        args.rounds
    ));
    let ours: LineTest = |l| l.contains(r#""ebpftop-bench""#);
    // (wall, CPU) per pair, and the 10th percentile of a pair's time.
    let run = || -> Result<((f64, f64), f64)> {
        let (out, cpu) = run_workload(&workload, &pairs)?;
        let v: serde_json::Value = serde_json::from_str(&out)?;
        let field = |k: &str| {
            v[k].as_f64()
                .with_context(|| format!("connect-loop printed no {k}: {out}"))
        };
        Ok((
            (field("ns")? / n as f64, cpu.as_nanos() as f64 / n as f64),
            field("pair_p10_ns")?,
        ))
    };
    // Every run's (wall, CPU) per pair, untraced and traced: the host only
    // ever slows a run down, so the fastest runs are the least disturbed.
    let (mut untraced_runs, mut traced_runs) = (Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        eprintln!("bench: round {round}/{}: untraced", args.rounds);
        let (before, fast_before) = run()?;
        eprintln!("bench: round {round}/{}: traced", args.rounds);
        let json = ["--json", "--comm", COMM];
        let connect = Tracer::spawn(
            &release.join("tcpconnect"),
            &json,
            Out::Pipe,
            None,
            Some(ours),
        )?;
        let life = Tracer::spawn(&release.join("tcplife"), &json, Out::Pipe, None, Some(ours))?;
        connect.wait_attached()?;
        life.wait_attached()?;
        let (traced, fast_traced) = run()?;
        connect.wait_caught_up(n);
        life.wait_caught_up(2 * n);
        let (c, l) = (connect.stop()?, life.stop()?);
        // Untraced runs on both sides of the traced one: drift over the
        // round does not count as overhead.
        eprintln!("bench: round {round}/{}: untraced again", args.rounds);
        let (after, fast_after) = run()?;
        untraced_runs.extend([before, after]);
        traced_runs.push(traced);
        let base = ((before.0 + after.0) / 2.0, (before.1 + after.1) / 2.0);
        report.add("ns per connect+accept+close", 0, base.0);
        report.add("ns per connect+accept+close", 1, traced.0);
        report.add("overhead (%)", 1, (traced.0 / base.0 - 1.0) * 100.0);
        let fast_base = (fast_before + fast_after) / 2.0;
        report.add(FAST, 0, fast_base);
        report.add(FAST, 1, fast_traced);
        report.add(FAST_ADDED, 1, fast_traced - fast_base);
        report.add(FAST_PCT, 1, (fast_traced / fast_base - 1.0) * 100.0);
        report.add("workload CPU ns per pair", 0, base.1);
        report.add("workload CPU ns per pair", 1, traced.1);
        report.add(
            "overhead in workload CPU (%)",
            1,
            (traced.1 / base.1 - 1.0) * 100.0,
        );
        report.add(
            "tracers' CPU for the run (s)",
            1,
            (c.cpu + l.cpu).as_secs_f64(),
        );
        report.add(
            &format!("tcpconnect events delivered (of {n})"),
            1,
            c.counted as f64,
        );
        report.add(
            &format!("tcplife events delivered (of {}, both ends)", 2 * n),
            1,
            l.counted as f64,
        );
        report.add("lost reported", 1, (c.lost + l.lost) as f64);
        let silent = (n + 2 * n) as f64 - (c.counted + c.lost + l.counted + l.lost) as f64;
        report.add(SILENT, 1, silent);
        eprintln!(
            "bench: round {round}/{}: traced, BPF run times on",
            args.rounds
        );
        let bpf = tcp_programs_ns(&release, &json, &workload, &pairs, ours)?;
        let (spent, net) = (bpf.spent_ns / n as f64, bpf.net_ns() / n as f64);
        report.add("ns in our BPF programs per pair", 1, spent);
        report.add("  as % of the untraced pair", 1, spent / base.0 * 100.0);
        report.add(STATS_COST, 1, bpf.stats_ns_per_run);
        report.add(NET_NS, 1, net);
        report.add(NET_PCT, 1, net / base.0 * 100.0);
        // What the tracepoint's call of a program costs, apart from what
        // the program does: one program that does nothing, as the two
        // tools share one (see the runtime's hub).
        eprintln!("bench: round {round}/{}: an empty program", args.rounds);
        let empty = EmptyProgram::attach("inet_sock_set_state")?;
        let (_, fast_empty) = run()?;
        drop(empty);
        report.add(EMPTY_ADDED, 1, fast_empty - fast_base);
    }
    report.print();
    report.print_quartiles(&[
        "overhead (%)",
        FAST_ADDED,
        FAST_PCT,
        EMPTY_ADDED,
        "overhead in workload CPU (%)",
        "  as % of the untraced pair",
        NET_PCT,
    ]);
    // The fastest (wall, CPU) per pair of each kind of run.
    let fastest = |runs: &[(f64, f64)]| {
        runs.iter()
            .fold((f64::INFINITY, f64::INFINITY), |(w, c), r| {
                (w.min(r.0), c.min(r.1))
            })
    };
    let (u, t) = (fastest(&untraced_runs), fastest(&traced_runs));
    for (what, u, t) in [
        ("ns per pair", u.0, t.0),
        ("workload CPU ns per pair", u.1, t.1),
    ] {
        println!(
            "fastest run, {what}: untraced {} (of {}), traced {} (of {}): overhead {:.2}%",
            fmt(u),
            untraced_runs.len(),
            fmt(t),
            traced_runs.len(),
            (t / u - 1.0) * 100.0
        );
    }
    println!(
        "The BPF program times come from a third run with the kernel's run-time statistics \
         on. Those cost every program run two clock reads, counted in its time; an empty \
         program on the same tracepoint measures that cost, which the \"less\" lines take \
         out of each of our programs' runs."
    );
    println!("libbpf-tools' tcpconnect and tcplife need kprobes: not run.");
    Ok(())
}

/// A run's 10th-percentile pair: the host slows pairs down, never speeds
/// them up, so the fast pairs scatter least between runs.
const FAST: &str = "fast pair (10th percentile), ns";
const FAST_ADDED: &str = "  added by tracing, ns";
const FAST_PCT: &str = "  overhead on a fast pair (%)";
const EMPTY_ADDED: &str = "an empty program: added to a fast pair, ns";
const STATS_COST: &str = "  the statistics' own cost, ns a run";
const NET_NS: &str = "ns in our BPF programs per pair, less that";
const NET_PCT: &str = "  as % of the untraced pair, less that";

/// What the state-change programs cost over a run, by the kernel's own
/// statistics.
struct ProgramTime {
    /// Their time, as the statistics count it.
    spent_ns: f64,
    /// How many times they ran.
    runs: f64,
    /// The time per run of an empty program on the same tracepoint.
    stats_ns_per_run: f64,
}

impl ProgramTime {
    /// Their time, less what the statistics themselves cost each run.
    fn net_ns(&self) -> f64 {
        self.spent_ns - self.runs * self.stats_ns_per_run
    }
}

/// Runs the workload under tcpconnect and tcplife with the kernel's BPF
/// run-time statistics on, and an empty program on their tracepoint.
fn tcp_programs_ns(
    release: &Path,
    json: &[&str],
    workload: &Path,
    pairs: &[&str],
    ours: LineTest,
) -> Result<ProgramTime> {
    let connect = Tracer::spawn(
        &release.join("tcpconnect"),
        json,
        Out::Pipe,
        None,
        Some(ours),
    )?;
    let life = Tracer::spawn(&release.join("tcplife"), json, Out::Pipe, None, Some(ours))?;
    connect.wait_attached()?;
    life.wait_attached()?;
    let empty = EmptyProgram::attach("inet_sock_set_state")
        .context("attaching an empty program to inet_sock_set_state")?;
    let mut stats = ebpftop::bpf::BpfStats::default();
    stats.want(true).map_err(|e| anyhow!(e))?;
    // (time, runs) of our programs and of the empty one. Program names are
    // cut to 15 characters by the kernel.
    let totals = |stats: &ebpftop::bpf::BpfStats| {
        let (mut ours, mut empty) = ((0, 0), (0, 0));
        for p in stats.read() {
            let sum =
                // The tools' shared program (hub_*) runs theirs as tail
                // calls, within its own time; theirs count no runs then.
                if p.name.starts_with("tcpconnect_stat")
                    || p.name.starts_with("tcplife_state")
                    || p.name.starts_with("hub_")
                {
                    &mut ours
                } else if p.name == empty_program::NAME {
                    &mut empty
                } else {
                    continue;
                };
            sum.0 += p.run_time_ns.unwrap_or(0);
            sum.1 += p.run_count.unwrap_or(0);
        }
        (ours, empty)
    };
    let before = totals(&stats);
    run_workload(workload, pairs)?;
    let after = totals(&stats);
    stats.want(false).map_err(|e| anyhow!(e))?;
    drop(empty);
    connect.stop()?;
    life.stop()?;
    let diff = |a: (u64, u64), b: (u64, u64)| ((a.0 - b.0) as f64, (a.1 - b.1) as f64);
    let ((spent_ns, runs), (empty_ns, empty_runs)) =
        (diff(after.0, before.0), diff(after.1, before.1));
    if empty_runs == 0.0 {
        bail!("the empty program on inet_sock_set_state never ran");
    }
    Ok(ProgramTime {
        spent_ns,
        runs,
        stats_ns_per_run: empty_ns / empty_runs,
    })
}

/// Aggregating tools (nothing per event reaches user space): the cost a
/// traced getppid pays, and the tracer's own CPU over the run. `tool` runs
/// system-wide against libbpf-tools' syscount with `theirs` (syslat times
/// every syscall, like `syscount -L`, the nearest libbpf-tools has).
fn syscount(args: &BenchArgs, tool: &str, theirs: &[&str]) -> Result<()> {
    let mut b = Bench::new(tool, "/usr/sbin/syscount", "getppid", 5_000_000, args)?;
    let n = b.n.to_string();
    let calls = ["getppid-loop", &n, "--comm", COMM];
    for round in 1..=args.rounds {
        b.round = round;
        let base = b.untraced(&calls)?;
        b.traced(0, &[], &calls, base)?;
        b.traced(1, theirs, &calls, base)?;
    }
    b.report.print();
    let vs = match theirs {
        [] => "libbpf-tools syscount".to_string(),
        flags => format!("libbpf-tools syscount {}", flags.join(" ")),
    };
    println!("{tool} vs {vs}, both system-wide, output at Ctrl-C only.");
    b.report.print_ratios(&[
        ("added ns per getppid", "added cost per getppid"),
        ("tracer CPU under load (s)", "tracer CPU"),
        ("peak RSS, system-wide under load (MB)", "RSS under load"),
    ]);
    Ok(())
}

/// runqlat, system-wide, against libbpf-tools' runqlat: every round trip
/// of a pipe ping-pong between two processes is two wakeups and two
/// context switches (more when the two run on different CPUs), each timed
/// by the tracers' sched_wakeup and sched_switch programs.
fn runqlat(args: &BenchArgs) -> Result<()> {
    let mut b = Bench::new("runqlat", "/usr/sbin/runqlat", "round trip", 200_000, args)?;
    let n = b.n.to_string();
    let pingpong = ["pipe-pingpong", &n, "--comm", COMM];
    for round in 1..=args.rounds {
        b.round = round;
        let base = b.untraced(&pingpong)?;
        b.traced(0, &[], &pingpong, base)?;
        b.traced(1, &[], &pingpong, base)?;
    }
    b.report.print();
    println!("runqlat vs libbpf-tools runqlat, both system-wide, output at Ctrl-C only.");
    b.report.print_ratios(&[
        ("added ns per round trip", "added cost per round trip"),
        ("overhead ratio (traced / untraced)", "overhead ratio"),
        ("tracer CPU under load (s)", "tracer CPU"),
        ("peak RSS, system-wide under load (MB)", "RSS under load"),
    ]);
    Ok(())
}

type LineTest = fn(&str) -> bool;

/// What a marker thread does with the marker path every millisecond.
type Poke = fn(&CString);

/// Opens `path` (and closes what it opened).
fn open_marker(path: &CString) {
    // SAFETY: a NUL-terminated path; an fd, if any, is closed.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        if fd >= 0 {
            libc::close(fd);
        }
    }
}

/// Execs `path`, which does not exist: the exec fails before it could
/// replace anything, and tracers of execs show the failure.
fn exec_marker(path: &CString) {
    let argv = [path.as_ptr(), std::ptr::null()];
    // SAFETY: a NUL-terminated path and a NULL-terminated argv.
    unsafe { libc::execv(path.as_ptr(), argv.as_ptr()) };
}

/// One benchmark run: both tracers, the workload, the figures so far.
struct Bench {
    tracers: [PathBuf; 2],
    workload: PathBuf,
    /// What one workload iteration does, for row names ("ns per open").
    op: &'static str,
    /// How the marker is shown to the tracers.
    poke: Poke,
    n: u64,
    round: usize,
    rounds: usize,
    report: Report,
}

impl Bench {
    /// Builds our `tool` and the workload, and checks libbpf-tools' is there.
    fn new(
        tool: &str,
        theirs: &str,
        op: &'static str,
        default_n: u64,
        args: &BenchArgs,
    ) -> Result<Bench> {
        let n = args.iterations.unwrap_or(default_n);
        let root = project_root();
        run_cmd(Command::new("cargo").current_dir(&root).args([
            "build",
            "--release",
            "-p",
            tool,
            "-p",
            "ebpftop-tests",
        ]))
        .with_context(|| format!("building {tool} and ebpftop-workload"))?;
        if !Path::new(theirs).exists() {
            bail!("{theirs} is missing: apt-get install libbpf-tools");
        }
        let ours = root.join("target/release").join(tool);
        let title = format!(
            "{tool}: ours ({}) vs libbpf-tools ({theirs}), {} iterations per workload run, \
             median of {} interleaved rounds",
            ours.display(),
            n,
            args.rounds
        );
        Ok(Bench {
            tracers: [ours, PathBuf::from(theirs)],
            workload: root.join("target/release/ebpftop-workload"),
            op,
            poke: open_marker,
            n,
            round: 0,
            rounds: args.rounds,
            report: Report::new(title),
        })
    }

    fn progress(&self, what: &str) {
        eprintln!("bench: round {}/{}: {what}", self.round, self.rounds);
    }

    /// Spawn to first marker line printed on a terminal (as a user sees
    /// it: on a pipe, libc would buffer libbpf-tools' lines), and the
    /// peak RSS of a tracer that saw little.
    fn startup(&mut self, side: usize, args: &[&str]) -> Result<()> {
        self.progress(&format!("start-up, {}", LABELS[side]));
        let marker = marker_path();
        let t = Tracer::spawn(&self.tracers[side], args, Out::Pty, Some(&marker), None)?;
        let ms = (t.wait_marker(&marker, self.poke)? - t.spawned).as_secs_f64() * 1e3;
        let s = t.stop()?;
        self.report
            .add("start-up to first event (ms)", side + 1, ms);
        self.report
            .add("peak RSS, idle (MB)", side + 1, s.maxrss_mb());
        Ok(())
    }

    /// The workload alone: ns per iteration.
    fn untraced(&mut self, w_args: &[&str]) -> Result<f64> {
        self.progress("untraced workload");
        let ns = time_workload(&self.workload, w_args)? as f64 / self.n as f64;
        self.report.add(&format!("ns per {}", self.op), 0, ns);
        Ok(ns)
    }

    /// The workload under a tracer writing to /dev/null, against `base`.
    fn traced(&mut self, side: usize, args: &[&str], w_args: &[&str], base: f64) -> Result<()> {
        self.progress(&format!("traced workload, {}", LABELS[side]));
        let t = Tracer::spawn(&self.tracers[side], args, Out::Null, None, None)?;
        t.wait_attached()?;
        let ns = time_workload(&self.workload, w_args)? as f64 / self.n as f64;
        let s = t.stop()?;
        let (r, col, op) = (&mut self.report, side + 1, self.op);
        r.add(&format!("ns per {op}"), col, ns);
        r.add("overhead ratio (traced / untraced)", col, ns / base);
        r.add(&format!("added ns per {op}"), col, ns - base);
        r.add("peak RSS, system-wide under load (MB)", col, s.maxrss_mb());
        r.add("tracer CPU under load (s)", col, s.cpu.as_secs_f64());
        Ok(())
    }

    /// Events delivered (stdout lines passing `test`, read by the harness
    /// and discarded) and reported lost, for one workload run.
    fn delivery(
        &mut self,
        side: usize,
        mode: &str,
        args: &[&str],
        test: LineTest,
        w_args: &[&str],
    ) -> Result<(u64, u64)> {
        self.progress(&format!("delivery, {} {mode}", LABELS[side]));
        let marker = marker_path();
        let t = Tracer::spawn(
            &self.tracers[side],
            args,
            Out::Pipe,
            Some(&marker),
            Some(test),
        )?;
        t.wait_marker(&marker, self.poke)?;
        time_workload(&self.workload, w_args)?;
        t.wait_caught_up(self.n);
        let s = t.stop()?;
        let d = (s.counted, s.lost);
        self.record_delivery(side, mode, d);
        Ok(d)
    }

    /// Rows for one delivery run; "silently missing" is neither delivered
    /// nor reported lost.
    fn record_delivery(&mut self, side: usize, mode: &str, (delivered, lost): (u64, u64)) {
        let (n, r, col) = (self.n, &mut self.report, side + 1);
        r.add(
            &format!("events delivered, {mode} (of {n})"),
            col,
            delivered as f64,
        );
        r.add(&format!("lost reported, {mode}"), col, lost as f64);
        let missing = n as f64 - delivered as f64 - lost as f64;
        r.add(&format!("{SILENT}, {mode}"), col, missing);
    }

    fn finish(self, note: &str) {
        self.report.print();
        println!("{note}");
        for (side, who) in LABELS.iter().enumerate() {
            let silent = self
                .report
                .rows
                .iter()
                .filter(|(r, _)| r.starts_with(SILENT));
            let (mut most, mut least, mut per_mode) = (0.0f64, 0.0f64, Vec::new());
            for (row, cols) in silent {
                let missing = &cols[side + 1];
                let ok = missing.iter().filter(|m| **m == 0.0).count();
                let mode = row.trim_start_matches(SILENT).trim_start_matches(", ");
                per_mode.push(format!("{mode} {ok}/{} rounds", missing.len()));
                most = missing.iter().copied().fold(most, f64::max);
                least = missing.iter().copied().fold(least, f64::min);
            }
            let verdict = if most > 0.0 {
                format!("NO, up to {most} events neither delivered nor reported lost")
            } else if least < 0.0 {
                format!(
                    "unclear, up to {} more reported lost than missing (loss counts \
                     cover events a user-space filter would have dropped)",
                    -least
                )
            } else {
                "yes".to_string()
            };
            println!(
                "zero silent loss (delivered + reported lost = {}), {who}: {verdict} ({})",
                self.n,
                per_mode.join(", ")
            );
        }
        let op = self.op;
        self.report.print_ratios(&[
            ("start-up to first event (ms)", "start-up"),
            ("peak RSS, idle (MB)", "RSS idle"),
            ("peak RSS, system-wide under load (MB)", "RSS under load"),
            (
                &format!("added ns per {op}"),
                &format!("added cost per {op}"),
            ),
            ("tracer CPU under load (s)", "tracer CPU"),
            (
                &format!("events delivered, JSON (of {})", self.n),
                "delivered JSON",
            ),
            (
                &format!("events delivered, table (of {})", self.n),
                "delivered table",
            ),
        ]);
    }
}

/// A path unique to this run; opening it fails with ENOENT, which the
/// tracers show like any other open.
fn marker_path() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    format!(
        "/tmp/ebpftop-bench-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Relaxed)
    )
}

/// Runs a workload that prints its elapsed nanoseconds; returns them.
fn time_workload(workload: &Path, args: &[&str]) -> Result<u64> {
    let (out, _) = run_workload(workload, args)?;
    out.trim()
        .parse()
        .with_context(|| format!("{} printed {out:?}", workload.display()))
}

/// Runs the workload to its end: what it printed, and the CPU time it
/// used (its own and the kernel's work in its context: our programs run
/// there). It leaves out the time the workload waited for a CPU, but not
/// a host that runs it slower: on the test VM it scatters as the wall time
/// does.
fn run_workload(workload: &Path, args: &[&str]) -> Result<(String, Duration)> {
    let before = children_cpu();
    let what = format!("{} {}", workload.display(), args.join(" "));
    let mut child = Command::new(workload)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {what}"))?;
    let Some(status) = poll(Duration::from_secs(600), MS * 5, || Ok(child.try_wait()?))? else {
        let _ = child.kill();
        let _ = child.wait();
        bail!("{what} did not finish within 600 s");
    };
    let mut out = String::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_string(&mut out)?;
    }
    if !status.success() {
        bail!("{what} failed: {status}");
    }
    Ok((out, children_cpu().saturating_sub(before)))
}

/// User and system time of the reaped children so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Where a tracer's stdout goes.
enum Out {
    Null,
    Pipe,
    Pty,
}

/// What a reader thread saw on one of a tracer's outputs.
#[derive(Default)]
struct Seen {
    marker: Option<String>,
    test: Option<LineTest>,
    /// Lost reports as text (stderr), not only as JSON records.
    lost_text: bool,
    marker_at: Mutex<Option<Instant>>,
    lines: AtomicU64,
    counted: AtomicU64,
    lost: AtomicU64,
    head: Mutex<Vec<String>>,
    done: AtomicBool,
}

impl Seen {
    fn read(self: Arc<Self>, r: impl Read + Send + 'static) {
        thread::spawn(move || {
            let (mut r, mut buf) = (BufReader::with_capacity(1 << 16, r), Vec::new());
            // A pty master reads EIO once the tracer is gone: end of output.
            while matches!(r.read_until(b'\n', &mut buf), Ok(1..)) {
                let now = Instant::now();
                let line = String::from_utf8_lossy(&buf);
                let line = line.trim_end_matches(['\n', '\r']);
                self.lines.fetch_add(1, Relaxed);
                if self.test.is_some_and(|t| t(line)) {
                    self.counted.fetch_add(1, Relaxed);
                } else if self.marker.as_deref().is_some_and(|m| line.contains(m)) {
                    self.marker_at.lock().unwrap().get_or_insert(now);
                } else if let Some(n) = lost_count(line, self.lost_text) {
                    self.lost.fetch_add(n, Relaxed);
                }
                let mut head = self.head.lock().unwrap();
                if head.len() < 10 {
                    head.push(line.to_string());
                }
                drop(head);
                buf.clear();
            }
            self.done.store(true, Relaxed);
        });
    }
}

/// The count in a lost-events report: a JSON record `{"event":"lost",
/// "count":N}`, or (with `text`) a line such as "N events lost",
/// "N events, M lost" or libbpf-tools' "Lost N events on CPU #C!".
fn lost_count(line: &str, text: bool) -> Option<u64> {
    if line.starts_with('{') {
        if !line.contains(r#""lost""#) {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        return if v["event"] == "lost" {
            v["count"].as_u64()
        } else {
            None
        };
    }
    let line = line.to_ascii_lowercase();
    let words: Vec<&str> = line
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .collect();
    let i = words.iter().position(|w| *w == "lost").filter(|_| text)?;
    let num = |j: Option<usize>| j.and_then(|j| words.get(j)?.parse::<u64>().ok());
    let skip = usize::from(i >= 1 && words[i - 1] == "events");
    num(i.checked_sub(1 + skip)).or_else(|| num(Some(i + 1)))
}

/// How a tracer ended.
struct Stopped {
    maxrss_kb: i64,
    cpu: Duration,
    counted: u64,
    lost: u64,
}

impl Stopped {
    fn maxrss_mb(&self) -> f64 {
        self.maxrss_kb as f64 / 1024.0
    }
}

/// A running tracer; killed if dropped before [`Tracer::stop`].
struct Tracer {
    pid: i32,
    what: String,
    spawned: Instant,
    out: Arc<Seen>,
    err: Arc<Seen>,
    reaped: bool,
}

impl Tracer {
    /// Starts `prog`; stdout lines containing `marker` are timed, those
    /// passing `test` counted.
    fn spawn(
        prog: &Path,
        args: &[&str],
        out: Out,
        marker: Option<&str>,
        test: Option<LineTest>,
    ) -> Result<Tracer> {
        let what = format!("{} {}", prog.display(), args.join(" "));
        let mut cmd = Command::new(prog);
        cmd.args(args).stdin(Stdio::null()).stderr(Stdio::piped());
        let mut pty = None;
        match out {
            Out::Null => cmd.stdout(Stdio::null()),
            Out::Pipe => cmd.stdout(Stdio::piped()),
            Out::Pty => {
                let (master, slave) = open_pty()?;
                pty = Some(master);
                cmd.stdout(slave)
            }
        };
        let spawned = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("spawning {what}"))?;
        drop(cmd); // closes our copy of the pty slave, so its EOF is the tracer's
        let marker = marker.map(String::from);
        let out = Arc::new(Seen {
            marker,
            test,
            ..Seen::default()
        });
        match (pty, child.stdout.take()) {
            (Some(master), _) => Arc::clone(&out).read(master),
            (None, Some(pipe)) => Arc::clone(&out).read(pipe),
            (None, None) => out.done.store(true, Relaxed),
        }
        let err = Arc::new(Seen {
            lost_text: true,
            ..Seen::default()
        });
        Arc::clone(&err).read(child.stderr.take().expect("stderr is piped"));
        let pid = child.id() as i32;
        Ok(Tracer {
            pid,
            what,
            spawned,
            out,
            err,
            reaped: false,
        })
    }

    /// Checks, without reaping it, that the tracer has not exited.
    fn alive(&self) -> Result<()> {
        // SAFETY: a zeroed siginfo for waitid to fill; WNOWAIT leaves the child be.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        // SAFETY: as above; si_pid stays 0 unless the child has exited.
        if unsafe {
            libc::waitid(libc::P_PID, self.pid as _, &mut info, flags) == 0 && info.si_pid() == 0
        } {
            return Ok(());
        }
        thread::sleep(MS * 100); // for the last stderr lines
        bail!(
            "{} exited early: {}",
            self.what,
            self.err.head.lock().unwrap().join(" | ")
        )
    }

    /// Pokes `marker` (opens it, by default) every millisecond, from a
    /// thread named like the workload (so comm filters let it through),
    /// until the tracer prints it; returns when the line was read.
    fn wait_marker(&self, marker: &str, poke: Poke) -> Result<Instant> {
        let stop = Arc::new(AtomicBool::new(false));
        let path = CString::new(marker)?;
        let stop2 = Arc::clone(&stop);
        let poker = thread::Builder::new().name(COMM.into()).spawn(move || {
            while !stop2.load(Relaxed) {
                poke(&path);
                thread::sleep(MS);
            }
        })?;
        let seen = poll(START_TIMEOUT, MS / 5, || {
            let at = *self.out.marker_at.lock().unwrap();
            self.alive().map(|()| at)
        });
        stop.store(true, Relaxed);
        let _ = poker.join();
        let what = &self.what;
        seen?.ok_or_else(|| anyhow!("{what} did not show {marker} within {START_TIMEOUT:?}"))
    }

    /// For a tracer whose output is not watched: waits until it holds BPF
    /// links and their number has not changed for 200 ms.
    fn wait_attached(&self) -> Result<()> {
        let (mut last, mut stable) = (0, 0);
        let attached = poll(START_TIMEOUT, MS * 50, || {
            self.alive()?;
            let links = bpf_links(self.pid);
            stable = if links > 0 && links == last {
                stable + 1
            } else {
                0
            };
            last = links;
            Ok((stable == 4).then_some(()))
        })?;
        let what = &self.what;
        attached.ok_or_else(|| anyhow!("{what} attached no BPF link within {START_TIMEOUT:?}"))
    }

    /// Waits until `expected` lines were counted or no line came for a
    /// second (at most two minutes): the tracer has caught up.
    fn wait_caught_up(&self, expected: u64) {
        let (mut last, mut since) = (u64::MAX, Instant::now());
        let _ = poll(Duration::from_secs(120), MS * 50, || {
            let lines = self.out.lines.load(Relaxed);
            if lines != last {
                (last, since) = (lines, Instant::now());
            }
            let quiet = since.elapsed() > Duration::from_secs(1);
            Ok((quiet || self.out.counted.load(Relaxed) >= expected).then_some(()))
        });
    }

    /// SIGINT, then a bounded wait for the exit (status 0 expected) and for
    /// the end of its output.
    fn stop(mut self) -> Result<Stopped> {
        // SAFETY: signalling our own child, not yet reaped.
        unsafe { libc::kill(self.pid, libc::SIGINT) };
        let Some((status, ru)) = poll(STOP_TIMEOUT, MS * 5, || wait4(self.pid, libc::WNOHANG))?
        else {
            bail!(
                "{} did not exit within {STOP_TIMEOUT:?} of SIGINT",
                self.what
            );
        };
        self.reaped = true;
        let (out, err) = (&self.out.done, &self.err.done);
        let _ = poll(Duration::from_secs(10), MS * 5, || {
            Ok((out.load(Relaxed) && err.load(Relaxed)).then_some(()))
        });
        if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
            let err = self.err.head.lock().unwrap().join(" | ");
            bail!("{} ended with wait status {status:#x}: {err}", self.what);
        }
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Ok(Stopped {
            maxrss_kb: ru.ru_maxrss,
            cpu: Duration::from_secs_f64(tv(ru.ru_utime) + tv(ru.ru_stime)),
            counted: self.out.counted.load(Relaxed),
            // Ours may report a loss both as a JSON record and on stderr.
            lost: self.out.lost.load(Relaxed).max(self.err.lost.load(Relaxed)),
        })
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: our own child, not yet reaped, so the pid is still its.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = wait4(self.pid, 0);
        }
    }
}

/// Calls `f` every `step` until it gives a value; `None` after `timeout`.
fn poll<T>(
    timeout: Duration,
    step: Duration,
    mut f: impl FnMut() -> Result<Option<T>>,
) -> Result<Option<T>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f()? {
            return Ok(Some(v));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(step);
    }
}

fn wait4(pid: i32, flags: i32) -> Result<Option<(i32, libc::rusage)>> {
    let mut status = 0;
    // SAFETY: plain data for wait4 to fill.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pointers to the two locals above.
        match unsafe { libc::wait4(pid, &mut status, flags, &mut ru) } {
            0 => return Ok(None),
            r if r == pid => return Ok(Some((status, ru))),
            _ => {
                let e = std::io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EINTR) {
                    return Err(e).context("wait4");
                }
            }
        }
    }
}

/// How many BPF links (attached programs) a process holds.
fn bpf_links(pid: i32) -> usize {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fdinfo")) else {
        return 0;
    };
    dir.flatten()
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|s| s.contains("link_type:")))
        .count()
}

/// A pseudo-terminal (master, slave), both close-on-exec.
fn open_pty() -> Result<(File, OwnedFd)> {
    let (mut master, mut slave) = (-1, -1);
    let size = libc::winsize {
        ws_row: 50,
        ws_col: 500,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: out-pointers to two ints; no name; default termios.
    if unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    } != 0
    {
        return Err(std::io::Error::last_os_error()).context("openpty");
    }
    for fd in [master, slave] {
        // SAFETY: setting FD_CLOEXEC on an fd just opened here.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: both fds were just opened and are owned by nothing else.
    Ok(unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) })
}

/// Samples per row (a metric) and column (untraced, ours, libbpf-tools),
/// rows in the order first added; printed as medians.
struct Report {
    title: String,
    rows: Vec<(String, [Vec<f64>; 3])>,
}

impl Report {
    fn new(title: String) -> Report {
        Report {
            title,
            rows: Vec::new(),
        }
    }

    /// A sample for `row` in column 0 (untraced), 1 (ours) or 2 (theirs).
    fn add(&mut self, row: &str, col: usize, v: f64) {
        let i = match self.rows.iter().position(|(r, _)| r == row) {
            Some(i) => i,
            None => {
                self.rows.push((row.to_string(), Default::default()));
                self.rows.len() - 1
            }
        };
        self.rows[i].1[col].push(v);
    }

    /// The first and third quartiles of `row`'s samples in column `col`:
    /// how far rounds scatter around the median.
    fn quartiles(&self, row: &str, col: usize) -> Option<(f64, f64)> {
        let v = self.sorted(row, col)?;
        let at = |q: f64| {
            let x = q * (v.len() - 1) as f64;
            let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (x - lo as f64)
        };
        (!v.is_empty()).then(|| (at(0.25), at(0.75)))
    }

    /// `row`'s samples in column `col`, smallest first.
    fn sorted(&self, row: &str, col: usize) -> Option<Vec<f64>> {
        let (_, cols) = self.rows.iter().find(|(r, _)| r == row)?;
        let mut v = cols[col].clone();
        v.sort_by(f64::total_cmp);
        Some(v)
    }

    /// One line per row: the middle half of ours's rounds, and where the
    /// median itself lies with 95% confidence.
    fn print_quartiles(&self, rows: &[&str]) {
        for row in rows {
            if let Some((q1, q3)) = self.quartiles(row, 1) {
                let ci = match self.median_ci(row, 1) {
                    Some((lo, hi)) => format!(
                        "; median within {} to {} (95% confidence)",
                        fmt(lo),
                        fmt(hi)
                    ),
                    None => String::new(),
                };
                let row = row.trim();
                println!(
                    "{row}: middle half of rounds {} to {}{ci}",
                    fmt(q1),
                    fmt(q3)
                );
            }
        }
    }

    /// A 95% confidence interval for the median of `row`'s rounds in
    /// column `col` that assumes nothing of their distribution: the k-th
    /// smallest and k-th largest round, with k as large as keeps the
    /// chance that the median lies outside them at or below 5% (each round
    /// falls below the true median with probability one half). `None`
    /// with fewer than 6 rounds, where no such k exists.
    fn median_ci(&self, row: &str, col: usize) -> Option<(f64, f64)> {
        let v = self.sorted(row, col)?;
        let k = median_ci_rank(v.len())?;
        Some((v[k - 1], v[v.len() - k]))
    }

    fn ratio(&self, row: &str) -> Option<f64> {
        let (_, cols) = self.rows.iter().find(|(r, _)| r == row)?;
        Some(median(&cols[1])? / median(&cols[2])?).filter(|r| r.is_finite())
    }

    fn print(&self) {
        println!("\n{}\n", self.title);
        let [a, b] = LABELS;
        println!(
            "{:<42}{:>10}{:>10}{:>14}{:>19}",
            "", "untraced", a, b, "ours/libbpf-tools"
        );
        for (row, cols) in &self.rows {
            let cell = |c: usize| median(&cols[c]).map(fmt).unwrap_or_default();
            let ratio = self
                .ratio(row)
                .map(|r| format!("{r:.2}"))
                .unwrap_or_default();
            println!(
                "{row:<42}{:>10}{:>10}{:>14}{ratio:>19}",
                cell(0),
                cell(1),
                cell(2)
            );
        }
        println!();
    }

    /// One line of ours/libbpf-tools ratios for (row, short name) pairs.
    fn print_ratios(&self, rows: &[(&str, &str)]) {
        let parts: Vec<String> = rows
            .iter()
            .filter_map(|(row, short)| Some(format!("{short} {:.2}", self.ratio(row)?)))
            .collect();
        println!("ours/libbpf-tools: {}", parts.join(", "));
    }
}

/// The largest k with P(Binomial(n, 1/2) < k) <= 2.5%: the rank of the
/// lower end of a 95% confidence interval for a median of n samples.
fn median_ci_rank(n: usize) -> Option<usize> {
    // Probabilities in logs: 0.5^n underflows past n = 1074.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let (mut ln_choose, mut below) = (0.0f64, 0.0f64);
    let mut k = 0;
    // P(X < k + 1) = P(X < k) + P(X = k), with C(n, k) built up in logs.
    while k < n / 2 {
        let p = (ln_choose + ln_half_n).exp();
        if below + p > 0.025 {
            break;
        }
        below += p;
        k += 1;
        ln_choose += ((n - k + 1) as f64 / k as f64).ln();
    }
    (k > 0).then_some(k)
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    (n > 0).then(|| (v[(n - 1) / 2] + v[n / 2]) / 2.0)
}

fn fmt(v: f64) -> String {
    match v.abs() {
        a if a >= 100.0 || v == v.trunc() => format!("{v:.0}"),
        a if a >= 10.0 => format!("{v:.1}"),
        _ => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::lost_count;

    #[test]
    fn quartiles_interpolate() {
        let mut r = super::Report::new(String::new());
        for v in [4.0, 1.0, 3.0, 2.0, 5.0] {
            r.add("x", 1, v);
        }
        assert_eq!(r.quartiles("x", 1), Some((2.0, 4.0)));
        r.add("x", 1, 6.0);
        assert_eq!(r.quartiles("x", 1), Some((2.25, 4.75)));
        assert_eq!(r.quartiles("x", 2), None);
        assert_eq!(r.quartiles("y", 1), None);
    }

    #[test]
    fn median_confidence_ranks() {
        // Known values: n = 6 gives the extremes (P(X = 0) = 1.6%), n = 20
        // the 6th from each end, n = 100 the 40th.
        assert_eq!(super::median_ci_rank(5), None);
        assert_eq!(super::median_ci_rank(6), Some(1));
        assert_eq!(super::median_ci_rank(20), Some(6));
        assert_eq!(super::median_ci_rank(100), Some(40));
        assert!(super::median_ci_rank(3000).is_some());
        let mut r = super::Report::new(String::new());
        for v in 1..=20 {
            r.add("x", 1, f64::from(v));
        }
        assert_eq!(r.median_ci("x", 1), Some((6.0, 15.0)));
    }

    #[test]
    fn lost_reports() {
        let json = r#"{"event":"lost","count":12,"ts_ns":1}"#;
        assert_eq!(lost_count(json, false), Some(12));
        assert_eq!(
            lost_count(r#"{"event":"open","path":"/lost 3"}"#, true),
            None
        );
        assert_eq!(lost_count("Lost 7 events on CPU #1!", true), Some(7));
        assert_eq!(lost_count("Lost 7 events on CPU #1!", false), None);
        assert_eq!(lost_count("opensnoop: 5 events lost", true), Some(5));
        assert_eq!(lost_count("opensnoop: 71 events, 0 lost", true), Some(0));
        assert_eq!(lost_count("123 bash 3 0 /lost+found", true), None);
    }
}
