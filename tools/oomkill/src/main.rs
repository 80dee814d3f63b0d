//! oomkill, user half: one tracepoint, each kill printed as bcc prints it.

use std::process::ExitCode;

use ebpftop_cli::{TraceSpec, run_main, short_record, trace};
use ebpftop_output::{Column, Comm, Common, OutputOptions, Record, Row};
use ebpftop_runtime::{Clock, privileges};
use oomkill::{OBJECT, OomKill, VictimLayout, cli::Args, decode};
use serde::Serialize;

/// The text line follows the time column that is always printed.
const COLUMNS: &[Column] = &[Column::left("OOM KILL", 0)];

#[derive(Serialize)]
struct KillRecord {
    #[serde(flatten)]
    common: Common,
    victim_pid: Option<u32>,
    victim_comm: Option<String>,
    total_vm_kb: Option<u64>,
    anon_rss_kb: Option<u64>,
    file_rss_kb: Option<u64>,
    shmem_rss_kb: Option<u64>,
    victim_uid: Option<u32>,
    pgtables_kb: Option<u64>,
    oom_score_adj: Option<i16>,
    pages: Option<u64>,
    loadavg: String,
}

impl Record for KillRecord {
    const EVENT: &'static str = "oomkill";

    fn common(&self) -> &Common {
        &self.common
    }

    fn row(&self, row: &mut Row<'_>) {
        let victim = match self.victim_pid {
            Some(p) => p.to_string(),
            None => "?".into(),
        };
        let pages = match self.pages {
            Some(p) => p.to_string(),
            None => "?".into(),
        };
        row.escaped(&format!(
            "Triggered by PID {} (\"{}\"), OOM kill of PID {victim} (\"{}\"), {pages} pages, loadavg: {}",
            self.common.pid,
            String::from_utf8_lossy(self.common.comm.as_bytes()),
            self.victim_comm.as_deref().unwrap_or("?"),
            self.loadavg,
        ));
    }
}

fn to_record(k: OomKill, clock: &Clock, page_size: u64) -> KillRecord {
    let loadavg = std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    KillRecord {
        common: Common {
            ts_ns: clock.to_unix_ns(k.ts_ns),
            pid: k.trigger_pid,
            tid: k.trigger_tid,
            comm: Comm(k.trigger_comm),
            uid: k.trigger_uid,
            cgroup_id: k.trigger_cgroup_id,
        },
        pages: k.pages(page_size),
        victim_pid: k.victim_pid,
        victim_comm: k.victim_comm,
        total_vm_kb: k.total_vm_kb,
        anon_rss_kb: k.anon_rss_kb,
        file_rss_kb: k.file_rss_kb,
        shmem_rss_kb: k.shmem_rss_kb,
        victim_uid: k.victim_uid,
        pgtables_kb: k.pgtables_kb,
        oom_score_adj: k.oom_score_adj,
        loadavg,
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    privileges::check("oomkill")?;
    let layout = VictimLayout::load()?;
    // SAFETY: sysconf has no memory effects.
    let page_size = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as u64,
        _ => 4096,
    };
    let spec = TraceSpec {
        object: &OBJECT,
        filter: Default::default(),
        // bcc prints the time on every line.
        output: OutputOptions {
            json: args.json,
            timestamp: true,
            print_uid: false,
        },
        columns: COLUMNS,
        run: &args.run,
        globals: Vec::new(),
    };
    trace(spec, |data, clock, out| match decode(data, &layout) {
        Some(k) => out.emit(&to_record(k, clock, page_size)),
        None => Err(short_record(data)),
    })
}

fn main() -> ExitCode {
    run_main("oomkill", |a: &Args| a.run.verbose, run)
}
