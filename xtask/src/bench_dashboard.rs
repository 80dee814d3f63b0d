//! `cargo xtask bench ebpftop`: the dashboard's own CPU use (user + sys of
//! the ebpftop process), idle and under a paced syscall load, in a real
//! terminal (a tmux session of its own).

use std::{
    fs,
    process::{Command, Stdio},
    thread,
    time::Duration,
};

use anyhow::{Context, Result, bail};

use crate::{project_root, run as run_cmd};

/// Syscalls per second of the loaded run.
const LOAD_RATE: u64 = 100_000;

struct Session(String);

impl Session {
    fn start(command: &str) -> Result<Session> {
        let name = format!("ebpftop-bench-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "50",
                command,
            ])
            .status()
            .context("running tmux (apt-get install tmux)")?
            .success();
        if !ok {
            bail!("tmux new-session failed");
        }
        Ok(Session(name))
    }

    fn pane_pid(&self) -> Result<i32> {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.0, "#{pane_pid}"])
            .output()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .context("tmux pane pid")
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

/// User + system CPU seconds of `pid` so far.
fn cpu_secs(pid: i32) -> Result<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("ebpftop (pid {pid}) is not running"))?;
    // Fields after the parenthesised comm; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>()? + f[12].parse::<f64>()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(ticks / hz)
}

fn peak_rss_mb(pid: i32) -> Option<f64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// CPU % of one core used by `pid` over `secs` seconds.
fn measure(pid: i32, secs: u64) -> Result<f64> {
    let before = cpu_secs(pid)?;
    thread::sleep(Duration::from_secs(secs));
    let after = cpu_secs(pid)?;
    Ok((after - before) / secs as f64 * 100.0)
}

pub fn run(secs: u64) -> Result<()> {
    let root = project_root();
    run_cmd(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "ebpftop",
        "-p",
        "ebpftop-tests",
    ]))
    .context("building ebpftop and ebpftop-workload")?;
    let release = root.join("target/release");
    let session = Session::start(&format!("exec {} -i 1", release.join("ebpftop").display()))?;
    // Attached, and a first interval drawn.
    thread::sleep(Duration::from_secs(3));
    let pid = session.pane_pid()?;
    eprintln!("bench: ebpftop idle for {secs} s");
    let idle = measure(pid, secs)?;
    eprintln!("bench: ebpftop under {LOAD_RATE} syscalls/s for {secs} s");
    let load = Command::new(release.join("ebpftop-workload"))
        .args([
            "--comm",
            "ebpftop-bench",
            "dashboard-mix",
            &(secs + 2).to_string(),
            &LOAD_RATE.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the workload")?;
    thread::sleep(Duration::from_secs(1));
    let loaded = measure(pid, secs)?;
    let out = load.wait_with_output()?;
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("the workload's report")?;
    let done = report["syscalls"].as_f64().unwrap_or(0.0) / (secs + 2) as f64;
    let rss = peak_rss_mb(pid);
    println!(
        "\nebpftop's own CPU use over {secs} s, one core = 100% (targets: idle < 2%, loaded < 10%)"
    );
    println!("{:<44} {:>8}", "", "CPU %");
    println!("{:<44} {:>8.2}", "idle machine", idle);
    println!(
        "{:<44} {:>8.2}",
        format!("{} getppid/s + opens + connects", done.round()),
        loaded
    );
    if let Some(rss) = rss {
        println!("{:<44} {:>8.1}", "peak RSS, MB", rss);
    }
    Ok(())
}
