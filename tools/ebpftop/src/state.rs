//! The dashboard's data: updated by [`Dashboard::apply`] from inputs,
//! read by the views. Counters accumulate over the current interval and
//! become the shown rates when it ends.

use std::collections::{BTreeMap, HashMap, VecDeque};

use ebpftop_output::histogram::Log2Hist;

use crate::model::{BpfProgram, ExecEvent, Input, NetEvent, OpenEvent, RunqStats, SyscallStats};

/// Events kept for the live tails and a process's drill-in.
const TAIL: usize = 200;
const RECENT: usize = 20;
/// Intervals of rate history kept for sparklines.
const HISTORY: usize = 120;
/// A process with no activity for this many intervals leaves the table.
const IDLE_INTERVALS: u64 = 30;
/// Files and destinations kept; past this the least used are dropped, so
/// a dashboard left running for days does not grow without bound.
const MAX_FILES: usize = 5000;
const MAX_DESTINATIONS: usize = 2000;

/// What one process did during one interval.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub syscalls: u64,
    pub opens: u64,
    pub failed_opens: u64,
    pub execs: u64,
    pub connects: u64,
}

impl Counters {
    fn is_zero(&self) -> bool {
        *self == Counters::default()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Process {
    pub pid: u32,
    pub comm: String,
    pub user: String,
    pub cgroup: String,
    /// The interval being counted, and the last complete one (shown).
    pub current: Counters,
    pub last: Counters,
    pub execs_total: u64,
    /// Per syscall this interval, then in the last one.
    current_syscalls: HashMap<u32, SyscallStats>,
    pub syscalls: Vec<SyscallStats>,
    pub runq_p99_us: Option<u64>,
    pub recent_opens: VecDeque<OpenEvent>,
    pub recent_net: VecDeque<NetEvent>,
    /// Execs whose parent is this process.
    pub child_execs: VecDeque<ExecEvent>,
    last_active: u64,
}

impl Process {
    /// The busiest syscall of the last interval.
    pub fn top_syscall(&self) -> Option<&SyscallStats> {
        self.syscalls
            .iter()
            .max_by_key(|s| (s.count, u32::MAX - s.nr))
    }

    /// All its syscalls' latencies of the last interval, in one histogram.
    pub fn latency_hist(&self) -> Log2Hist {
        let mut h = Log2Hist::new();
        for s in &self.syscalls {
            h.merge(&s.hist);
        }
        h
    }
}

/// One syscall system-wide: the last interval, and its rate history.
#[derive(Clone, Debug, Default)]
pub struct Syscall {
    pub nr: u32,
    pub name: String,
    pub last: Option<SyscallStats>,
    pub history: VecDeque<u64>,
}

/// A file's opens since the dashboard started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileRow {
    pub path: String,
    pub opens: u64,
    pub failed: u64,
    pub current: u64,
    /// Opens in the last interval.
    pub last: u64,
    pub last_comm: String,
    pub last_pid: u32,
}

/// A destination's connects since the dashboard started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Destination {
    pub remote: String,
    pub connects: u64,
    pub failed: u64,
    pub total_latency_ns: u64,
    pub last_comm: String,
}

/// A BPF program with its rates over the last interval.
#[derive(Clone, Debug, PartialEq)]
pub struct BpfRow {
    pub program: BpfProgram,
    pub runs_per_sec: Option<f64>,
    pub avg_ns: Option<u64>,
    /// Of one CPU.
    pub cpu_percent: Option<f64>,
}

#[derive(Clone, Debug, Default)]
pub struct Dashboard {
    pub host: String,
    pub kernel: String,
    pub interval_secs: f64,
    /// Intervals completed.
    pub intervals: u64,
    /// Unix-epoch ns of the last interval's end.
    pub ts_ns: u64,
    /// The traced machine's, at the last interval's end.
    pub uptime_secs: Option<f64>,
    pub processes: BTreeMap<u32, Process>,
    pub syscalls: BTreeMap<u32, Syscall>,
    current_syscalls: HashMap<u32, SyscallStats>,
    pub files: HashMap<String, FileRow>,
    pub failed_opens: VecDeque<OpenEvent>,
    pub net: VecDeque<NetEvent>,
    pub destinations: HashMap<String, Destination>,
    pub runq: Option<RunqStats>,
    pub runq_cgroups: Vec<RunqStats>,
    current_runq_cgroups: Vec<RunqStats>,
    pub bpf: Vec<BpfRow>,
    /// Why a view has no data, by view name.
    pub unavailable: BTreeMap<String, String>,
    current_events: u64,
    /// Records ingested in the last interval.
    pub events_last: u64,
    pub events_total: u64,
    current_lost: u64,
    pub lost_last: u64,
    pub lost_total: u64,
}

impl Dashboard {
    pub fn new(host: String, kernel: String, interval_secs: f64) -> Self {
        Dashboard {
            host,
            kernel,
            interval_secs,
            ..Dashboard::default()
        }
    }

    /// Per second over the last interval.
    pub fn rate(&self, count: u64) -> f64 {
        if self.interval_secs > 0.0 {
            count as f64 / self.interval_secs
        } else {
            0.0
        }
    }

    /// The process `pid`, renamed `comm` unless that is empty.
    fn process(&mut self, pid: u32, comm: &str) -> &mut Process {
        let now = self.intervals;
        let p = self.processes.entry(pid).or_insert_with(|| Process {
            pid,
            ..Process::default()
        });
        if !comm.is_empty() {
            comm.clone_into(&mut p.comm);
        }
        p.last_active = now;
        p
    }

    pub fn apply(&mut self, input: Input) {
        if !matches!(
            input,
            Input::IntervalEnd { .. }
                | Input::Lost(_)
                | Input::Unavailable { .. }
                | Input::Process(_)
                | Input::Bpf(_)
        ) {
            self.current_events += 1;
        }
        match input {
            // Names from identities and from the kernel's syscall map may
            // be older than the events': they only name the unnamed.
            Input::Process(info) => {
                let p = self.process(info.pid, "");
                if p.comm.is_empty() {
                    p.comm = info.comm;
                }
                // A lookup after the process is gone finds nothing: keep
                // what an earlier one found.
                if !info.user.is_empty() {
                    p.user = info.user;
                }
                if !info.cgroup.is_empty() {
                    p.cgroup = info.cgroup;
                }
            }
            Input::Open(o) => {
                let failed = o.error.is_some();
                let p = self.process(o.pid, &o.comm);
                p.current.opens += 1;
                p.current.failed_opens += u64::from(failed);
                push_bounded(&mut p.recent_opens, o.clone(), RECENT);
                let f = self.files.entry(o.path.clone()).or_insert_with(|| FileRow {
                    path: o.path.clone(),
                    ..FileRow::default()
                });
                f.opens += 1;
                f.current += 1;
                f.failed += u64::from(failed);
                f.last_comm.clone_from(&o.comm);
                f.last_pid = o.pid;
                if failed {
                    push_bounded(&mut self.failed_opens, o, TAIL);
                }
            }
            Input::Exec(e) => {
                let p = self.process(e.pid, &e.comm);
                p.current.execs += 1;
                p.execs_total += 1;
                if let Some(parent) = self.processes.get_mut(&e.ppid) {
                    push_bounded(&mut parent.child_execs, e, RECENT);
                }
            }
            Input::Net(n) => {
                let p = self.process(n.pid, &n.comm);
                if n.kind == crate::model::NetKind::Connect {
                    p.current.connects += 1;
                }
                push_bounded(&mut p.recent_net, n.clone(), RECENT);
                if n.kind == crate::model::NetKind::Connect {
                    let d = self
                        .destinations
                        .entry(n.remote.clone())
                        .or_insert_with(|| Destination {
                            remote: n.remote.clone(),
                            ..Destination::default()
                        });
                    d.connects += 1;
                    d.failed += u64::from(n.failed());
                    d.total_latency_ns += n.span_ns;
                    d.last_comm.clone_from(&n.comm);
                }
                push_bounded(&mut self.net, n, TAIL);
            }
            Input::Syscalls(s) => match s.pid {
                Some(pid) => {
                    let p = self.process(pid, "");
                    if p.comm.is_empty() {
                        p.comm.clone_from(&s.comm);
                    }
                    p.current.syscalls += s.count;
                    p.current_syscalls.insert(s.nr, s);
                }
                None => {
                    self.current_syscalls.insert(s.nr, s);
                }
            },
            Input::Runq(r) => match (&r.cgroup, r.pid) {
                (_, Some(pid)) => {
                    if let Some(p) = self.processes.get_mut(&pid) {
                        p.runq_p99_us = Some(r.p99_us);
                    }
                }
                (Some(_), None) => self.current_runq_cgroups.push(r),
                (None, None) => self.runq = Some(r),
            },
            Input::Bpf(programs) => self.set_bpf(programs),
            Input::Unavailable { view, why } => {
                self.unavailable.insert(view, why);
            }
            Input::Lost(n) => self.current_lost += n,
            Input::IntervalEnd { ts_ns, uptime_secs } => {
                self.uptime_secs = uptime_secs;
                self.end_interval(ts_ns);
            }
        }
    }

    /// Rates for a new program list against the last one.
    fn set_bpf(&mut self, programs: Vec<BpfProgram>) {
        let before: HashMap<u32, &BpfProgram> = self
            .bpf
            .iter()
            .map(|r| (r.program.id, &r.program))
            .collect();
        let secs = self.interval_secs;
        let rows = programs
            .into_iter()
            .map(|p| {
                let prev = before.get(&p.id);
                let d = |now: Option<u64>, then: Option<u64>| match (now, then) {
                    (Some(n), Some(t)) if n >= t => Some(n - t),
                    _ => None,
                };
                let runs = d(p.run_count, prev.and_then(|q| q.run_count));
                let time = d(p.run_time_ns, prev.and_then(|q| q.run_time_ns));
                BpfRow {
                    runs_per_sec: runs.map(|r| r as f64 / secs),
                    avg_ns: match (runs, time) {
                        (Some(r), Some(t)) if r > 0 => Some(t / r),
                        (Some(_), Some(_)) => Some(0),
                        _ => None,
                    },
                    cpu_percent: time.map(|t| t as f64 / (secs * 1e9) * 100.0),
                    program: p,
                }
            })
            .collect();
        self.bpf = rows;
    }

    fn end_interval(&mut self, ts_ns: u64) {
        self.intervals += 1;
        self.ts_ns = ts_ns;
        self.events_last = std::mem::take(&mut self.current_events);
        self.events_total += self.events_last;
        self.lost_last = std::mem::take(&mut self.current_lost);
        self.lost_total += self.lost_last;
        let now = self.intervals;
        self.processes.retain(|_, p| {
            p.last = std::mem::take(&mut p.current);
            let mut s: Vec<SyscallStats> = p.current_syscalls.drain().map(|(_, s)| s).collect();
            s.sort_by_key(|s| (std::cmp::Reverse(s.count), s.nr));
            p.syscalls = s;
            if !p.last.is_zero() {
                p.last_active = now;
            }
            now - p.last_active <= IDLE_INTERVALS
        });
        let mut current = std::mem::take(&mut self.current_syscalls);
        // A syscall not made this interval shows no figures, not stale ones.
        for row in self.syscalls.values_mut() {
            row.last = current.remove(&row.nr);
        }
        for (nr, stats) in current {
            self.syscalls.insert(
                nr,
                Syscall {
                    nr,
                    name: stats.name.clone(),
                    last: Some(stats),
                    history: VecDeque::new(),
                },
            );
        }
        for row in self.syscalls.values_mut() {
            let count = row.last.as_ref().map_or(0, |l| l.count);
            push_bounded(&mut row.history, count, HISTORY);
        }
        for f in self.files.values_mut() {
            f.last = std::mem::take(&mut f.current);
        }
        prune(&mut self.files, MAX_FILES, |f| f.opens);
        prune(&mut self.destinations, MAX_DESTINATIONS, |d| d.connects);
        self.runq_cgroups = std::mem::take(&mut self.current_runq_cgroups);
        self.runq_cgroups
            .sort_by_key(|r| std::cmp::Reverse(r.p99_us));
    }

    /// System-wide syscalls of the last interval, busiest first.
    pub fn syscall_rows(&self) -> Vec<&Syscall> {
        let mut rows: Vec<&Syscall> = self
            .syscalls
            .values()
            .filter(|s| s.last.is_some())
            .collect();
        rows.sort_by_key(|s| {
            (
                std::cmp::Reverse(s.last.as_ref().map_or(0, |l| l.count)),
                s.nr,
            )
        });
        rows
    }

    /// Files by opens since start, then by name.
    pub fn file_rows(&self) -> Vec<&FileRow> {
        let mut rows: Vec<&FileRow> = self.files.values().collect();
        rows.sort_by(|a, b| b.opens.cmp(&a.opens).then_with(|| a.path.cmp(&b.path)));
        rows
    }

    /// Destinations by connects since start.
    pub fn destination_rows(&self) -> Vec<&Destination> {
        let mut rows: Vec<&Destination> = self.destinations.values().collect();
        rows.sort_by(|a, b| {
            b.connects
                .cmp(&a.connects)
                .then_with(|| a.remote.cmp(&b.remote))
        });
        rows
    }
}

/// Drops the least used quarter of `map` once it holds more than `max`.
fn prune<V>(map: &mut HashMap<String, V>, max: usize, uses: impl Fn(&V) -> u64) {
    if map.len() <= max {
        return;
    }
    let mut counts: Vec<u64> = map.values().map(&uses).collect();
    let cut = max / 4;
    counts.select_nth_unstable(cut);
    let threshold = counts[cut];
    map.retain(|_, v| uses(v) > threshold);
}

fn push_bounded<T>(q: &mut VecDeque<T>, v: T, max: usize) {
    if q.len() == max {
        q.pop_front();
    }
    q.push_back(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NetKind;

    fn open(pid: u32, comm: &str, path: &str, error: Option<&str>) -> Input {
        Input::Open(OpenEvent {
            ts_ns: 1,
            pid,
            comm: comm.into(),
            uid: 0,
            path: path.into(),
            error: error.map(str::to_string),
        })
    }

    #[test]
    fn an_interval_turns_counts_into_rates_and_resets() {
        let mut d = Dashboard::new("h".into(), "k".into(), 2.0);
        d.apply(open(10, "cat", "/a", None));
        d.apply(open(10, "cat", "/b", Some("ENOENT")));
        d.apply(Input::Lost(3));
        d.apply(Input::IntervalEnd {
            ts_ns: 5,
            uptime_secs: None,
        });
        let p = &d.processes[&10];
        assert_eq!((p.last.opens, p.last.failed_opens), (2, 1));
        assert_eq!(d.rate(p.last.opens), 1.0);
        assert_eq!((d.events_last, d.lost_last, d.lost_total), (2, 3, 3));
        assert_eq!(d.failed_opens.len(), 1);
        d.apply(Input::IntervalEnd {
            ts_ns: 6,
            uptime_secs: None,
        });
        assert_eq!(d.processes[&10].last, Counters::default());
        assert_eq!(d.lost_total, 3);
        assert_eq!(d.file_rows()[0].opens, 1);
    }

    #[test]
    fn idle_processes_leave_and_destinations_count_failures() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        d.apply(Input::Net(NetEvent {
            kind: NetKind::Connect,
            ts_ns: 1,
            pid: 4,
            comm: "curl".into(),
            local: "127.0.0.1:5000".into(),
            remote: "127.0.0.1:80".into(),
            result: "refused".into(),
            span_ns: 10,
            tx_bytes: 0,
            rx_bytes: 0,
        }));
        d.apply(Input::IntervalEnd {
            ts_ns: 1,
            uptime_secs: None,
        });
        assert_eq!(d.destination_rows()[0].failed, 1);
        for i in 0..=IDLE_INTERVALS {
            d.apply(Input::IntervalEnd {
                ts_ns: 2 + i,
                uptime_secs: None,
            });
        }
        assert!(d.processes.is_empty());
    }

    #[test]
    fn names_follow_events_and_a_failed_lookup_keeps_the_identity() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        let info = |comm: &str, user: &str| {
            Input::Process(crate::model::ProcInfo {
                pid: 9,
                comm: comm.into(),
                uid: None,
                user: user.into(),
                cgroup: String::new(),
            })
        };
        d.apply(info("bash", "root"));
        d.apply(open(9, "cat", "/a", None));
        // Looked up again after its exec, once it had exited.
        d.apply(info("cat", ""));
        let p = &d.processes[&9];
        assert_eq!((p.comm.as_str(), p.user.as_str()), ("cat", "root"));
    }

    #[test]
    fn the_file_table_stays_bounded() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        for i in 0..=MAX_FILES {
            d.apply(open(1, "find", &format!("/f{i}"), None));
        }
        d.apply(open(1, "find", "/f7", None));
        d.apply(Input::IntervalEnd {
            ts_ns: 0,
            uptime_secs: None,
        });
        assert!(d.files.len() < MAX_FILES, "{}", d.files.len());
        assert_eq!(d.file_rows()[0].path, "/f7");
    }
}
