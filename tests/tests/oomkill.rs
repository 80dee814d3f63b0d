//! oomkill against the real kernel: a process in a memory cgroup limited
//! to 32 MiB touches 256 MiB and is OOM-killed; oomkill must name it.

use std::{
    io::Write,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use ebpftop_tests::{Tracer, bin, require_root, serial, wait_timeout};
use serde_json::Value;

const LIMIT: u64 = 32 << 20;

/// A memory cgroup made for the test: v2 where the unified hierarchy has
/// the memory controller, otherwise v1's memory hierarchy. Removed on
/// drop, after killing anything left in it.
struct MemCgroup(PathBuf);

impl MemCgroup {
    fn new() -> MemCgroup {
        let tag = format!("ebpftop-oomkill-{}", std::process::id());
        let v2 = PathBuf::from("/sys/fs/cgroup/unified");
        let v2_memory = std::fs::read_to_string(v2.join("cgroup.subtree_control"))
            .is_ok_and(|c| c.split_whitespace().any(|w| w == "memory"));
        let (dir, limit_file) = if v2_memory {
            (v2.join(tag), "memory.max")
        } else {
            (
                PathBuf::from("/sys/fs/cgroup/memory").join(tag),
                "memory.limit_in_bytes",
            )
        };
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let cg = MemCgroup(dir);
        std::fs::write(cg.0.join(limit_file), LIMIT.to_string()).unwrap();
        cg
    }

    fn add(&self, pid: u32) {
        std::fs::write(self.0.join("cgroup.procs"), pid.to_string()).unwrap();
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        if let Ok(procs) = std::fs::read_to_string(self.0.join("cgroup.procs")) {
            for pid in procs.lines().filter_map(|p| p.parse::<i32>().ok()) {
                // SAFETY: signalling a process the test put there.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        for _ in 0..50 {
            if std::fs::remove_dir(&self.0).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("could not remove {}", self.0.display());
    }
}

struct Hog(Child);

impl Drop for Hog {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_process_over_its_cgroup_limit_is_reported_as_the_victim() {
    require_root();
    let _g = serial();
    let cg = MemCgroup::new();
    let mut hog = Hog(Command::new(bin("ebpftop-workload"))
        .args(["alloc-touch", "256", "--wait-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawning ebpftop-workload"));
    let pid = hog.0.id();
    cg.add(pid);
    let json = Tracer::ours("oomkill", &["--json"]);
    let text = Tracer::ours("oomkill", &[]);
    let mut stdin = hog.0.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    drop(stdin);
    let status = wait_timeout(&mut hog.0, Duration::from_secs(30)).expect("hog hung");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(libc::SIGKILL),
        "not OOM-killed: {status}"
    );
    let line = text.wait_stdout(|l| l.contains("OOM kill of PID"), Duration::from_secs(5));
    let (json, text) = (json.stop(), text.stop());
    assert!(json.status.success(), "{:?}", json.stderr);

    let kills: Vec<Value> = json
        .json()
        .into_iter()
        .filter(|r| r["event"] == "oomkill")
        .collect();
    let k = kills
        .iter()
        .find(|k| k["victim_pid"] == pid)
        .unwrap_or_else(|| panic!("pid {pid} is not a victim: {kills:#?}"));
    assert_eq!(k["victim_comm"], "ebpftop-workloa");
    // Its own page faults charged the cgroup: it is the trigger too.
    assert_eq!(k["pid"], pid, "{k:#}");
    assert_eq!(k["comm"], "ebpftop-workloa");
    let total_vm = k["total_vm_kb"].as_u64().unwrap();
    assert!(total_vm >= 256 * 1024, "total_vm {total_vm} kB");
    let anon = k["anon_rss_kb"].as_u64().unwrap();
    assert!(anon > 0 && anon <= LIMIT / 1024, "anon_rss {anon} kB");
    assert!(k["pages"].as_u64().unwrap() >= 256 * 256, "{k:#}");
    assert_eq!(k["loadavg"].as_str().unwrap().split_whitespace().count(), 5);

    let line = line.unwrap_or_else(|| panic!("no text line: {:?}", text.stdout));
    let want = format!(
        "Triggered by PID {pid} (\"ebpftop-workloa\"), OOM kill of PID {pid} (\"ebpftop-workloa\"), "
    );
    assert!(line.contains(&want), "{line}");
    assert!(line.contains(" pages, loadavg: "), "{line}");
    // HH:MM:SS first, as bcc prints it.
    let hms = line.split_whitespace().next().unwrap();
    assert_eq!(hms.len(), 8, "{line}");
    assert_eq!(hms.matches(':').count(), 2, "{line}");
}
