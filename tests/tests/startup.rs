//! Start-up against the real kernel, where it depends on the machine
//! rather than on a tool.

use std::process::Command;

use ebpftop_tests::{TempDir, bin, require_root};

/// Tools started at the same moment on a machine where tracefs is not
/// mounted (a fresh boot of some VMs): one mounts it, and another, whose
/// own mount then fails (EBUSY), must find it there rather than give up.
/// The race is narrow: here, 1 round in 6 to 8 of these hit it without
/// the runtime's handling, so these rounds catch that about half the time
/// (its unit test does every time). Each round starts four tools, in a
/// mount namespace of its own with tracefs (and debugfs, whose tracing
/// directory would mount it on access) unmounted.
#[test]
fn tools_started_together_without_tracefs_all_run() {
    require_root();
    let mounted = || {
        [
            "/sys/kernel/tracing/events",
            "/sys/kernel/debug/tracing/events",
        ]
        .map(|d| std::path::Path::new(d).is_dir())
    };
    let before = mounted();
    let tools = ["opensnoop", "execsnoop", "opensnoop", "execsnoop"];
    // Each tool's exit status, then its stderr, one line each. A comm no
    // task has: nothing to trace, so nothing to lose on a busy host.
    let start: String = tools
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "timeout -k 5 --preserve-status -s INT 2 '{}' -c startup-none >/dev/null \
                 2>\"$0/{i}\" & p{i}=$!\n",
                bin(t).display()
            )
        })
        .collect();
    let report: String = (0..tools.len())
        .map(|i| format!("wait $p{i}; echo \"$? $(head -c 300 \"$0/{i}\")\"\n"))
        .collect();
    let script = format!(
        "umount -l /sys/kernel/tracing 2>/dev/null\n\
         umount -l /sys/kernel/debug 2>/dev/null\n\
         for d in /sys/kernel/tracing/events /sys/kernel/debug/tracing/events; do\n\
         if [ -d $d ]; then echo still mounted: $d; exit 1; fi\n\
         done\n\
         {start}{report}"
    );
    for round in 1..=5 {
        let tmp = TempDir::new("startup");
        let out = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .arg(tmp.path())
            .output()
            .expect("running unshare");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines,
            ["0 "; 4],
            "round {round}: each tool's exit status and stderr ({tools:?}); {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        mounted(),
        before,
        "the machine's own mounts are as they were"
    );
}
