//! The live collectors: the tools' own kernel halves (opensnoop, execsnoop,
//! syslat, tcpconnect, tcpaccept, tcplife, runqlat), loaded side by side, their
//! records decoded by the tools' libraries into [`Input`]s, and written to
//! the capture as the tools' `--json` records when recording.

use std::{collections::HashMap, fs, io};

use aya::maps::{HashMap as BpfHashMap, MapData};
use ebpftop_cli::{Deltas, Latencies, Stamp, syscalls};
use ebpftop_common::{
    Filter,
    execsnoop::{ExecConfig, ExecEntryFixed, ExecExit, KIND_ENTRY, KIND_EXIT},
    runqlat::{RunqKey, RunqlatConfig},
    syslat::{SyscallLatency, SyslatConfig, SyslatKey},
    tcp::TcpEvent,
};
use ebpftop_output::{
    histogram::Unit,
    syscalls::syscall_name,
    text::{json_text, until_nul},
};
use ebpftop_runtime::{
    Clock, Error, LoadOptions, Loaded, LostCounter, SYSCALL_REGS_GLOBAL, TASK_OFFSETS_GLOBAL,
    ToolObject, read_record, task_offsets,
};
use ebpftop_tcp::{Offsets, connect::ConnectRecord};
use execsnoop::pairing::{Pairs, Pending};
use runqlat::object::{RunqlatMaps, kernel_half as runqlat_half, needs_task};
use serde_json::json;
use syslat::object::{SyslatRecord, kernel_half, read_latencies};

use crate::{
    bpf::BpfStats,
    capture::Recorder,
    model::{ExecEvent, Input, NetEvent, NetKind, OpenEvent, ProcInfo, RunqStats, SyscallStats},
};

/// What a ring buffer carries.
#[derive(Clone, Copy, Debug)]
enum Ring {
    Open,
    Exec,
    Connect,
    Accept,
    Close,
}

/// Event objects get a smaller ring than a tool alone: six share memory.
const RING_BYTES: u32 = 1 << 20;
/// Longest argv kept per exec.
const EXEC_ARGS: u32 = 20;
const EXEC_BYTES: u32 = 512;

pub struct Live {
    clock: Clock,
    rings: Vec<(Ring, ebpftop_runtime::Ring)>,
    /// What ring `i` carries, once the rings are handed to the event loop.
    ring_kinds: Vec<Ring>,
    /// Kept loaded and attached for as long as the dashboard runs.
    objects: Vec<Loaded>,
    lost: Vec<LostCounter>,
    syslat: Option<Syslat>,
    runq: Option<Runq>,
    pairs: Pairs,
    names: opensnoop::record::FlagNames,
    procs: Procs,
    pub recorder: Option<Recorder>,
    pub bpf: BpfStats,
    intervals: u64,
}

/// Run-queue latency, system-wide and per process.
struct Runq {
    maps: RunqlatMaps,
    system: Deltas<u8, Latencies>,
    keyed: Deltas<RunqKey, Latencies>,
}

struct Syslat {
    map: BpfHashMap<MapData, SyslatKey, SyscallLatency>,
    deltas: Deltas<SyslatKey, Latencies>,
}

impl Live {
    /// Loads every collector it can; each that cannot start adds an
    /// [`Input::Unavailable`] to `notes`. Without the privileges to load
    /// any, the error says which are missing.
    pub fn start(notes: &mut Vec<Input>) -> anyhow::Result<Live> {
        // Said once, naming the dashboard rather than the first collector.
        ebpftop_runtime::privileges::check("ebpftop")?;
        let mut live = Live {
            clock: Clock::new(),
            rings: Vec::new(),
            ring_kinds: Vec::new(),
            objects: Vec::new(),
            lost: Vec::new(),
            syslat: None,
            runq: None,
            pairs: Pairs::default(),
            names: opensnoop::record::FlagNames::default(),
            procs: Procs::new(),
            recorder: None,
            bpf: BpfStats::default(),
            intervals: 0,
        };
        let mut unavailable = |views: &[&str], what: &str, e: &dyn std::fmt::Display| {
            log::info!("{what}: {e}");
            for v in views {
                notes.push(Input::Unavailable {
                    view: (*v).to_string(),
                    why: format!("{what}: {e}"),
                });
            }
        };
        // Syscall counts and latencies per process and syscall.
        let (object, regs) = kernel_half();
        let config = SyslatConfig {
            unit_ns: 1000,
            per_process: 1,
            ..SyslatConfig::DEFAULT
        };
        let no_return = syscalls::no_return();
        match live.load(
            &object,
            None,
            vec![
                ("SYSLAT", (&config).into()),
                ("NO_RETURN", (&no_return).into()),
                (SYSCALL_REGS_GLOBAL, (&regs).into()),
            ],
        ) {
            Ok(mut loaded) => {
                let map = loaded
                    .ebpf
                    .take_map("LATENCIES")
                    .ok_or_else(|| anyhow::anyhow!("the syslat object has no LATENCIES map"))?;
                live.syslat = Some(Syslat {
                    map: BpfHashMap::try_from(map)?,
                    deltas: Deltas::default(),
                });
                live.keep(loaded);
            }
            // Nothing else would load either.
            Err(e @ Error::Permission(_)) => return Err(e.into()),
            Err(e) => unavailable(&["syscalls", "processes"], "syscall latency (syslat)", &e),
        }
        match live.load(&opensnoop::record::OBJECT, Some(Ring::Open), Vec::new()) {
            Ok(l) => live.keep(l),
            Err(e) => unavailable(&["files"], "opens (opensnoop)", &e),
        }
        match task_offsets() {
            Ok(offsets) => {
                let config = ExecConfig {
                    max_args: EXEC_ARGS,
                    max_bytes: EXEC_BYTES,
                };
                match live.load(
                    &execsnoop::record::OBJECT,
                    Some(Ring::Exec),
                    vec![
                        (TASK_OFFSETS_GLOBAL, (&offsets).into()),
                        ("EXEC_CONFIG", (&config).into()),
                    ],
                ) {
                    Ok(l) => live.keep(l),
                    Err(e) => unavailable(&["processes"], "execs (execsnoop)", &e),
                }
            }
            Err(e) => unavailable(&["processes"], "execs (execsnoop)", &e),
        }
        match Offsets::resolve(ebpftop_tcp::config(0, &[], &[])) {
            Ok(offsets) => {
                for (object, ring) in [
                    (&tcpconnect::OBJECT, Ring::Connect),
                    (&tcpaccept::record::OBJECT, Ring::Accept),
                    (&tcplife::record::OBJECT, Ring::Close),
                ] {
                    match live.load(object, Some(ring), offsets.globals()) {
                        Ok(l) => live.keep(l),
                        Err(e) => unavailable(&["network"], object.tool, &e),
                    }
                }
            }
            Err(e) => unavailable(&["network"], "TCP socket layout", &e),
        }
        // Per process: the Processes view's p99, and per cgroup by summing
        // its processes' histograms.
        let config = RunqlatConfig {
            unit_ns: 1000,
            key: RunqlatConfig::KEY_PID,
            preemptors: RunqlatConfig::GROUP_OFF,
        };
        let started = runqlat_half(config, needs_task(&config, false)).and_then(|(object, g)| {
            let mut loaded =
                live.load(&object, None, g.to_globals(runqlat::object::CONFIG_GLOBAL))?;
            let maps = RunqlatMaps::take(&mut loaded.ebpf)?;
            Ok((loaded, maps))
        });
        match started {
            Ok((loaded, maps)) => {
                live.runq = Some(Runq {
                    maps,
                    system: Deltas::default(),
                    keyed: Deltas::default(),
                });
                live.keep(loaded);
            }
            Err(e) => unavailable(&["scheduler"], "run-queue latency (runqlat)", &e),
        }
        if live.objects.is_empty() {
            anyhow::bail!("no collector could start (run with -v to see why)");
        }
        Ok(live)
    }

    fn load(
        &mut self,
        object: &ToolObject,
        ring: Option<Ring>,
        globals: Vec<(&'static str, aya::GlobalData<'_>)>,
    ) -> Result<Loaded, Error> {
        let mut loaded = object.load(LoadOptions {
            filter: Filter::ALL,
            ring_bytes: if ring.is_some() { RING_BYTES } else { 4096 },
            globals,
        })?;
        if let Some(kind) = ring
            && let Some(r) = loaded.ring.take()
        {
            self.rings.push((kind, r));
        }
        if let Some(l) = loaded.lost.take() {
            self.lost.push(l);
        }
        Ok(loaded)
    }

    fn keep(&mut self, loaded: Loaded) {
        for (_, p) in loaded.ebpf.programs() {
            if let Ok(info) = p.info() {
                self.bpf.own.insert(info.id());
            }
        }
        self.objects.push(loaded);
    }

    /// The ring buffers, for the event loop, in the order `record` numbers
    /// them.
    pub fn take_rings(&mut self) -> Vec<ebpftop_runtime::Ring> {
        let (kinds, rings): (Vec<Ring>, Vec<_>) = self.rings.drain(..).unzip();
        self.ring_kinds = kinds;
        rings
    }

    /// One record from ring `ring`.
    pub fn record(&mut self, ring: usize, data: &[u8], out: &mut Vec<Input>) -> io::Result<()> {
        let Some(kind) = self.ring_kinds.get(ring).copied() else {
            return Ok(());
        };
        match kind {
            Ring::Open => {
                let Some(r) =
                    opensnoop::record::to_record(data, &self.clock, &mut self.names, false)
                else {
                    return Ok(());
                };
                if let Some(rec) = self.recorder.as_mut() {
                    rec.record("open", &r)?;
                }
                let ev = OpenEvent {
                    ts_ns: r.common.ts_ns,
                    pid: r.common.pid,
                    comm: comm_text(&r.common.comm.0),
                    uid: r.common.uid,
                    path: r
                        .path
                        .map_or_else(String::new, |p| json_text(p.0).into_owned()),
                    error: r
                        .error
                        .map(str::to_string)
                        .or_else(|| r.errno.map(|e| format!("errno {e}"))),
                };
                self.identify(ev.pid, &ev.comm, out)?;
                out.push(Input::Open(ev));
            }
            Ring::Exec => self.exec_record(data, out)?,
            Ring::Connect | Ring::Accept | Ring::Close => {
                let Some(e) = read_record::<TcpEvent>(data) else {
                    return Ok(());
                };
                let ev = self.tcp_event(kind, &e)?;
                self.identify(ev.pid, &ev.comm, out)?;
                out.push(Input::Net(ev));
            }
        }
        Ok(())
    }

    fn tcp_event(&mut self, kind: Ring, e: &TcpEvent) -> io::Result<NetEvent> {
        let (common, ep, result, span, tx, rx) = match kind {
            Ring::Connect => {
                let r = ConnectRecord::new(e, &self.clock, false);
                if let Some(rec) = self.recorder.as_mut() {
                    rec.record("connect", &r)?;
                }
                (r.common, r.ep, r.result.to_string(), r.latency_ns, 0, 0)
            }
            Ring::Accept => {
                let r = tcpaccept::record::AcceptRecord::new(e, &self.clock);
                if let Some(rec) = self.recorder.as_mut() {
                    rec.record("accept", &r)?;
                }
                (r.common, r.ep, String::new(), 0, 0, 0)
            }
            _ => {
                let r = tcplife::record::LifeRecord::new(e, &self.clock);
                if let Some(rec) = self.recorder.as_mut() {
                    rec.record("tcplife", &r)?;
                }
                (
                    r.common,
                    r.ep,
                    String::new(),
                    r.duration_ns,
                    r.tx_bytes,
                    r.rx_bytes,
                )
            }
        };
        Ok(NetEvent {
            kind: match kind {
                Ring::Connect => NetKind::Connect,
                Ring::Accept => NetKind::Accept,
                _ => NetKind::Close,
            },
            ts_ns: common.ts_ns,
            pid: common.pid,
            comm: comm_text(&common.comm.0),
            local: ebpftop_tcp::HostPort(ep.saddr, ep.sport).to_string(),
            remote: ebpftop_tcp::HostPort(ep.daddr, ep.dport).to_string(),
            result,
            span_ns: span,
            tx_bytes: tx,
            rx_bytes: rx,
        })
    }

    fn exec_record(&mut self, data: &[u8], out: &mut Vec<Input>) -> io::Result<()> {
        match read_record::<u32>(data) {
            Some(KIND_ENTRY) => {
                let Some(e) = read_record::<ExecEntryFixed>(data) else {
                    return Ok(());
                };
                let stale = self.pairs.entry(Pending {
                    tid: e.header.tid,
                    pid: e.header.pid,
                    ts_ns: e.header.ts_ns,
                    record: data.to_vec(),
                });
                if let Some(p) = stale {
                    self.exec(&p.record, None, out)?;
                }
            }
            Some(KIND_EXIT) => {
                let Some(x) = read_record::<ExecExit>(data) else {
                    return Ok(());
                };
                if let Some(p) = self.pairs.exit(x.header.tid, x.header.pid) {
                    self.exec(&p.record, Some(&x), out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn exec(
        &mut self,
        entry: &[u8],
        exit: Option<&ExecExit>,
        out: &mut Vec<Input>,
    ) -> io::Result<()> {
        let Some(e) = read_record::<ExecEntryFixed>(entry) else {
            return Ok(());
        };
        let a = execsnoop::record::split_args(entry, &e, EXEC_BYTES as usize);
        let line = execsnoop::argv::line(&a.args, false, a.truncated);
        let r = execsnoop::record::exec_record(&e, &a, exit, &self.clock, &line);
        if let Some(rec) = self.recorder.as_mut() {
            rec.record("exec", &r)?;
        }
        let ev = ExecEvent {
            ts_ns: r.common.ts_ns,
            pid: r.common.pid,
            ppid: r.ppid,
            comm: comm_text(&r.common.comm.0),
            uid: r.common.uid,
            argv: line.clone(),
            ret: r.ret,
        };
        // The comm changed with the exec: look the process up again.
        self.procs.forget(ev.pid);
        self.identify(ev.pid, &ev.comm, out)?;
        out.push(Input::Exec(ev));
        Ok(())
    }

    /// A process seen for the first time: who it is, from /proc.
    fn identify(&mut self, pid: u32, comm: &str, out: &mut Vec<Input>) -> io::Result<()> {
        if let Some(info) = self.procs.lookup(pid, comm) {
            if let Some(rec) = self.recorder.as_mut() {
                rec.value(&json!({
                    "event": "process", "pid": info.pid, "comm": info.comm,
                    "uid": info.uid, "user": info.user, "cgroup": info.cgroup,
                }))?;
            }
            out.push(Input::Process(info));
        }
        Ok(())
    }

    /// The interval's end: what the maps aggregated, losses, programs.
    pub fn tick(&mut self, bpf_view: bool, out: &mut Vec<Input>) -> io::Result<()> {
        self.intervals += 1;
        let now = self.clock.to_unix_ns(Clock::monotonic_now_ns());
        // Execs whose exit never came (lost, and counted) go out bare.
        let before = Clock::monotonic_now_ns().saturating_sub(execsnoop::record::PAIR_TIMEOUT_NS);
        for p in self.pairs.expired(before) {
            self.exec(&p.record, None, out)?;
        }
        self.syscalls(now, out)?;
        self.runq(now, out)?;
        let mut lost = 0;
        for l in &mut self.lost {
            lost += l
                .take_new()
                .map_err(io::Error::other)?
                .iter()
                .map(|(_, n)| n)
                .sum::<u64>();
        }
        if lost > 0 {
            if let Some(rec) = self.recorder.as_mut() {
                rec.value(&json!({"event": "lost", "ts_ns": now, "count": lost}))?;
            }
            out.push(Input::Lost(lost));
        }
        if let Err(why) = self.bpf.want(bpf_view) {
            out.push(Input::Unavailable {
                view: "bpf".into(),
                why,
            });
        }
        if bpf_view {
            let programs = self.bpf.read();
            if let Some(rec) = self.recorder.as_mut() {
                let list: Vec<_> = programs
                    .iter()
                    .map(|p| {
                        json!({"id": p.id, "kind": p.kind, "name": p.name,
                               "run_count": p.run_count, "run_time_ns": p.run_time_ns,
                               "ours": p.ours})
                    })
                    .collect();
                rec.value(&json!({"event": "bpf", "ts_ns": now, "programs": list}))?;
            }
            out.push(Input::Bpf(programs));
        }
        let uptime = uptime_secs();
        if let Some(rec) = self.recorder.as_mut() {
            rec.value(
                &json!({"event": "interval", "ts_ns": now, "interval": self.intervals,
                              "uptime_secs": uptime}),
            )?;
            rec.flush()?;
        }
        out.push(Input::IntervalEnd {
            ts_ns: now,
            uptime_secs: uptime,
        });
        Ok(())
    }

    /// Per process and syscall, then per syscall system-wide (the sum of
    /// the kernel's buckets, so its percentiles are exact too).
    fn syscalls(&mut self, now: u64, out: &mut Vec<Input>) -> io::Result<()> {
        let Some(s) = self.syslat.as_mut() else {
            return Ok(());
        };
        let (changed, idle) = s.deltas.update(read_latencies(&s.map)?);
        for key in idle {
            if s.map.remove(&key).is_ok() {
                s.deltas.forget(&key);
            }
        }
        let stamp = Stamp {
            ts_ns: now,
            interval: self.intervals,
        };
        let mut system: HashMap<u32, Latencies> = HashMap::new();
        let mut rows = Vec::with_capacity(changed.len());
        for (key, l) in changed {
            system.entry(key.nr).or_insert_with(Latencies::zero).add(&l);
            rows.push((Some(key.pid), key.nr, l));
        }
        rows.extend(system.into_iter().map(|(nr, l)| (None, nr, l)));
        for (pid, nr, l) in rows {
            let name = syscall_name(u64::from(nr));
            let (log2, summary) = (l.log2(), l.summary());
            if let Some(rec) = self.recorder.as_mut() {
                rec.record(
                    "syslat",
                    &SyslatRecord {
                        stamp,
                        syscall: &name,
                        nr,
                        pid,
                        comm: pid.map(|_| ebpftop_output::Comm(l.comm)),
                        total_ns: l.total_ns,
                        hist: log2.json(Unit::Usecs.label()),
                        latency: &summary,
                    },
                )?;
            }
            let comm = comm_text(&l.comm);
            if let Some(pid) = pid {
                self.identify(pid, &comm, out)?;
            }
            out.push(Input::Syscalls(SyscallStats {
                pid,
                comm: if pid.is_some() { comm } else { String::new() },
                nr,
                name: name.into_owned(),
                count: l.count,
                total_ns: l.total_ns,
                hist: log2,
                p50_us: summary.percentile(50.0),
                p99_us: summary.percentile(99.0),
                max_us: summary.max(),
            }));
        }
        Ok(())
    }
}

impl Live {
    /// Run-queue latency of the interval: system-wide, per process, and
    /// per cgroup (the sum of its processes' buckets).
    fn runq(&mut self, now: u64, out: &mut Vec<Input>) -> io::Result<()> {
        let Some(r) = self.runq.as_mut() else {
            return Ok(());
        };
        let (system, _) = r.system.update(vec![(0, r.maps.system()?)]);
        let (keyed, idle) = r.keyed.update(r.maps.keyed()?);
        for key in idle {
            if r.maps.remove_keyed(&key) {
                r.keyed.forget(&key);
            }
        }
        let stamp = Stamp {
            ts_ns: now,
            interval: self.intervals,
        };
        for (_, l) in system {
            self.runq_stats(stamp, None, None, &l, out)?;
        }
        let mut groups: HashMap<String, Latencies> = HashMap::new();
        for (key, l) in keyed {
            let pid = key.id as u32;
            self.identify(pid, &comm_text(&l.comm), out)?;
            if let Some(cgroup) = self.procs.cgroup(pid) {
                groups
                    .entry(cgroup.to_string())
                    .or_insert_with(Latencies::zero)
                    .add(&l);
            }
            self.runq_stats(stamp, Some(pid), None, &l, out)?;
        }
        for (cgroup, l) in groups {
            self.runq_stats(stamp, None, Some(cgroup), &l, out)?;
        }
        Ok(())
    }

    fn runq_stats(
        &mut self,
        stamp: Stamp,
        pid: Option<u32>,
        cgroup: Option<String>,
        l: &Latencies,
        out: &mut Vec<Input>,
    ) -> io::Result<()> {
        let (log2, summary) = (l.log2(), l.summary());
        if let Some(rec) = self.recorder.as_mut() {
            // runqlat's --json record (-P rows carry pid and comm, -C rows
            // the cgroup).
            let mut v = json!({
                "event": "runqlat", "ts_ns": stamp.ts_ns, "interval": stamp.interval,
                "total_ns": l.total_ns, "hist": log2.json(Unit::Usecs.label()),
                "latency": &summary,
            });
            if let Some(pid) = pid {
                v["pid"] = json!(pid);
                v["comm"] = json!(comm_text(&l.comm));
            }
            if let Some(c) = &cgroup {
                v["cgroup"] = json!(c);
            }
            rec.value(&v)?;
        }
        out.push(Input::Runq(RunqStats {
            cgroup,
            pid,
            count: l.count,
            hist: log2,
            p50_us: summary.percentile(50.0),
            p99_us: summary.percentile(99.0),
            max_us: summary.max(),
        }));
        Ok(())
    }
}

fn comm_text(comm: &[u8]) -> String {
    json_text(until_nul(comm)).into_owned()
}

fn uptime_secs() -> Option<f64> {
    fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Process identities from /proc, each looked up once.
struct Procs {
    /// Known processes and their cgroup.
    known: HashMap<u32, String>,
    users: HashMap<u32, String>,
}

impl Procs {
    fn new() -> Self {
        let users = fs::read_to_string("/etc/passwd")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                let uid = f.nth(1)?.parse().ok()?;
                Some((uid, name.to_string()))
            })
            .collect();
        Procs {
            known: HashMap::new(),
            users,
        }
    }

    fn forget(&mut self, pid: u32) {
        self.known.remove(&pid);
    }

    /// The cgroup of a known process.
    fn cgroup(&self, pid: u32) -> Option<&str> {
        self.known
            .get(&pid)
            .map(String::as_str)
            .filter(|c| !c.is_empty())
    }

    /// `None` when the process is known already.
    fn lookup(&mut self, pid: u32, comm: &str) -> Option<ProcInfo> {
        if pid == 0 || self.known.contains_key(&pid) {
            return None;
        }
        // Pids are reused; a bounded set forgets the oldest wholesale.
        if self.known.len() > 100_000 {
            self.known.clear();
        }
        let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next()?.parse::<u32>().ok());
        let cgroup = fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("0::").map(str::to_string))
            .unwrap_or_default();
        self.known.insert(pid, cgroup.clone());
        let comm = if comm.is_empty() {
            fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| c.trim_end().to_string())
                .unwrap_or_default()
        } else {
            comm.to_string()
        };
        Some(ProcInfo {
            pid,
            comm,
            uid,
            user: uid.map_or_else(String::new, |u| {
                self.users.get(&u).cloned().unwrap_or_else(|| u.to_string())
            }),
            cgroup,
        })
    }
}
