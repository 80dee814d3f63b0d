//! oomkill's command line.

use clap::Parser;
use ebpftop_cli::RunArgs;

const EXAMPLES: &str = "\
Examples:
  oomkill                 every OOM kill, until Ctrl-C
  oomkill --json -d 60    JSON lines for a minute

Each line:
  HH:MM:SS Triggered by PID 123 (\"comm\"), OOM kill of PID 456 (\"comm\"),
  1234 pages, loadavg: 0.10 0.20 0.30 1/200 789

From the oom:mark_victim tracepoint, which runs once the OOM killer has
chosen its victim. The trigger is the task running at that moment: the
one whose allocation (or lowering of a cgroup's memory limit) ran out of
memory. bcc's oomkill reads the OOM context with a kprobe on
oom_kill_process, which kernels without kprobes lack; so \"pages\" here is
the victim's total virtual memory (total_vm) in pages, not the pages of
the OOM domain bcc prints. The victim's name and memory come from the
tracepoint's record, decoded with the running kernel's format file (older
kernels carry the pid only). The load average is read when the event
arrives.

JSON fields (--json), one object per kill: event (\"oomkill\"), ts_ns,
pid, tid, comm, uid, cgroup_id (the trigger), victim_pid, victim_comm,
total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, victim_uid,
pgtables_kb, oom_score_adj (those the kernel's record has, null
otherwise), pages, loadavg.";

/// OOM kills: the victim, its memory, and the task that triggered the OOM.
#[derive(Parser, Debug, Clone)]
#[command(name = "oomkill", version, after_long_help = EXAMPLES)]
pub struct Args {
    /// Print JSON lines instead of text.
    #[arg(long = "json")]
    pub json: bool,
    #[command(flatten)]
    pub run: RunArgs,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn flags() {
        Args::command().debug_assert();
        let a = Args::try_parse_from(["oomkill", "--json", "-d", "2"]).unwrap();
        assert!(a.json && a.run.duration.is_some());
    }
}
