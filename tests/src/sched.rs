//! Scheduler workloads for runqlat and runqslower: CPU hogs pinned to one
//! CPU, and cgroup v2 directories to put tasks in, each cleaned up on drop
//! (also when an assert fails).

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    thread,
    time::Duration,
};

use crate::bin;

/// The CPU the scheduler tests crowd: the last one.
pub fn test_cpu() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get()) - 1
}

/// Busy processes pinned to one CPU, at nice -5 so that whatever else
/// runs there (builds, the test harness) takes little of it; killed on drop.
pub struct Hogs(pub Vec<Child>);

impl Hogs {
    /// `n` hogs spinning on `cpu` for at most `ms` milliseconds.
    pub fn spawn(n: usize, cpu: usize, ms: u64) -> Hogs {
        let hogs = (0..n)
            .map(|_| {
                Command::new(bin("ebpftop-workload"))
                    .args(["spin", &cpu.to_string(), &ms.to_string(), "-5"])
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("spawning a hog")
            })
            .collect();
        // Let them reach the spin loop (pinned) before measuring.
        thread::sleep(Duration::from_millis(200));
        Hogs(hogs)
    }

    pub fn pids(&self) -> Vec<u32> {
        self.0.iter().map(Child::id).collect()
    }
}

impl Drop for Hogs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A cgroup v2 directory made for a test (under the v2 mount), with
/// children; on drop, tasks left in it go back to the root and the
/// directories are removed.
pub struct TestCgroup {
    mount: PathBuf,
    pub dir: PathBuf,
    children: Vec<PathBuf>,
}

/// Where cgroup v2 is mounted (`/sys/fs/cgroup/unified` on this project's
/// hybrid test machines).
pub fn cgroup2_mount() -> PathBuf {
    let mounts = fs::read_to_string("/proc/self/mounts").expect("/proc/self/mounts");
    mounts
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 2 && f[2] == "cgroup2").then(|| PathBuf::from(f[1]))
        })
        .expect("cgroup v2 mounted")
}

impl TestCgroup {
    pub fn new(tag: &str, children: &[&str]) -> TestCgroup {
        let mount = cgroup2_mount();
        let dir = mount.join(format!("ebpftop-{tag}-{}", std::process::id()));
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        let mut cg = TestCgroup {
            mount,
            dir,
            children: Vec::new(),
        };
        for c in children {
            let p = cg.dir.join(c);
            fs::create_dir(&p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
            cg.children.push(p);
        }
        cg
    }

    /// The path of child `name` as runqlat shows it (under the mount).
    pub fn shown(&self, name: &str) -> String {
        let rel = self.dir.join(name);
        format!("/{}", rel.strip_prefix(&self.mount).unwrap().display())
    }

    /// Moves process `pid` into child `name`.
    pub fn add(&self, name: &str, pid: u32) {
        let procs = self.dir.join(name).join("cgroup.procs");
        fs::write(&procs, pid.to_string())
            .unwrap_or_else(|e| panic!("writing {pid} to {}: {e}", procs.display()));
    }
}

fn evacuate(dir: &Path, root: &Path) {
    if let Ok(pids) = fs::read_to_string(dir.join("cgroup.procs")) {
        for pid in pids.split_whitespace() {
            let _ = fs::write(root.join("cgroup.procs"), pid);
        }
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        for c in self.children.iter().rev() {
            evacuate(c, &self.mount);
            let _ = fs::remove_dir(c);
        }
        evacuate(&self.dir, &self.mount);
        let _ = fs::remove_dir(&self.dir);
    }
}
