//! Attaching programs with fallback: each hook lists the ways it can be
//! attached, best first; the first that loads and attaches on this kernel
//! wins, and the others' failures are kept for `--verbose`.

use std::{
    fmt,
    os::fd::{AsFd, OwnedFd},
    path::Path,
    sync::OnceLock,
};

use aya::{Btf, Ebpf, programs::Program};

use crate::{
    Error,
    hub::{self, Host, Place},
    lost::program_skipped,
    tracefs,
};

/// A place in the kernel a program can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachPoint {
    /// A classic tracepoint, `category:name`.
    Tracepoint {
        category: &'static str,
        name: &'static str,
    },
    RawTracepoint {
        name: &'static str,
    },
    /// A BTF-typed raw tracepoint (`tp_btf`).
    BtfTracepoint {
        name: &'static str,
    },
    Kprobe {
        function: &'static str,
    },
    Kretprobe {
        function: &'static str,
    },
    FEntry {
        function: &'static str,
    },
    FExit {
        function: &'static str,
    },
    /// A user-space function's entry (uprobe) or return (uretprobe), in
    /// every process; `target` is a library name (`libc`) or a path.
    UProbe {
        target: &'static str,
        symbol: &'static str,
    },
    URetProbe {
        target: &'static str,
        symbol: &'static str,
    },
}

impl fmt::Display for AttachPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tracepoint { category, name } => write!(f, "tracepoint {category}:{name}"),
            Self::RawTracepoint { name } => write!(f, "raw_tracepoint {name}"),
            Self::BtfTracepoint { name } => write!(f, "tp_btf {name}"),
            Self::Kprobe { function } => write!(f, "kprobe {function}"),
            Self::Kretprobe { function } => write!(f, "kretprobe {function}"),
            Self::FEntry { function } => write!(f, "fentry {function}"),
            Self::FExit { function } => write!(f, "fexit {function}"),
            Self::UProbe { target, symbol } => write!(f, "uprobe {target}:{symbol}"),
            Self::URetProbe { target, symbol } => write!(f, "uretprobe {target}:{symbol}"),
        }
    }
}

/// One way to implement a hook: a program of the object and where it goes.
#[derive(Clone, Copy, Debug)]
pub struct Candidate {
    pub program: &'static str,
    pub at: AttachPoint,
}

/// Something a tool needs to observe, with its candidates in order of
/// preference. A required hook that cannot attach is an error; an optional
/// one (a syscall this architecture lacks) is reported under `--verbose`.
#[derive(Clone, Copy, Debug)]
pub struct Hook {
    pub name: &'static str,
    pub candidates: &'static [Candidate],
    pub required: bool,
    /// Whether tools running at once share one program on this hook
    /// ([`crate::hub`]; the object must declare the hub).
    pub shared: bool,
}

/// Where each hook ended up.
#[derive(Debug)]
pub struct AttachReport {
    pub hook: &'static str,
    /// The candidate that attached, or `None`.
    pub chosen: Option<Candidate>,
    /// Candidates tried before and why each failed.
    pub failures: Vec<(Candidate, String)>,
    /// How a shared hook is shared, for `--verbose`.
    pub sharing: Option<String>,
    /// The program the kernel calls for the chosen candidate, where it is
    /// not the candidate's own (a shared hook's starter), and how many of
    /// its runs the kernel had skipped before ours went in.
    pub starter: Option<(OwnedFd, u64)>,
}

impl fmt::Display for AttachReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.chosen {
            Some(c) => write!(f, "{}: {} (program {})", self.hook, c.at, c.program)?,
            None => write!(f, "{}: not attached", self.hook)?,
        }
        if let Some(sharing) = &self.sharing {
            write!(f, ", {sharing}")?;
        }
        for (c, why) in &self.failures {
            write!(f, "; {} (program {}) unavailable: {why}", c.at, c.program)?;
        }
        Ok(())
    }
}

/// What this kernel offers, probed from the file system at first use.
#[derive(Debug, Clone, Copy)]
pub struct KernelFeatures {
    pub kprobes: bool,
    pub uprobes: bool,
    pub btf: bool,
}

impl KernelFeatures {
    pub fn get() -> &'static KernelFeatures {
        static F: OnceLock<KernelFeatures> = OnceLock::new();
        F.get_or_init(|| {
            let pmu = |name: &str| {
                Path::new("/sys/bus/event_source/devices")
                    .join(name)
                    .exists()
            };
            KernelFeatures {
                kprobes: pmu("kprobe"),
                uprobes: pmu("uprobe"),
                btf: Path::new("/sys/kernel/btf/vmlinux").exists(),
            }
        })
    }
}

fn kernel_btf() -> Result<&'static Btf, String> {
    static BTF: OnceLock<Result<Btf, String>> = OnceLock::new();
    BTF.get_or_init(|| Btf::from_sys_fs().map_err(|e| format!("kernel BTF: {e}")))
        .as_ref()
        .map_err(Clone::clone)
}

/// An attached link, owned apart from its program so that teardown can
/// drop several at once (see `Loaded`'s Drop).
pub type OwnedLink = Box<dyn Send>;

/// Attaches every hook, each with its first working candidate. A shared
/// hook goes in its `place`: where the object was loaded to join another
/// tool's chain, only with a candidate of that chain's kind (and `place`
/// is emptied once it is taken).
pub fn attach_hooks(
    ebpf: &mut Ebpf,
    hooks: &[Hook],
    links: &mut Vec<OwnedLink>,
    place: &mut Option<Place>,
) -> Result<Vec<AttachReport>, Error> {
    let mut reports = Vec::with_capacity(hooks.len());
    for hook in hooks {
        let mut report = AttachReport {
            hook: hook.name,
            chosen: None,
            failures: Vec::new(),
            sharing: None,
            starter: None,
        };
        // An object loaded against another tool's chain may put a chained
        // program only in its place there: attached any other way, it
        // would run the places after its own a second time.
        let joined_object = matches!(place, Some(Place::Joined(_)));
        for c in hook.candidates {
            let attached = if !hook.shared {
                attach_one(ebpf, c).map(|link| (link, None, None))
            } else if !hub::chained(c) {
                // Nothing to share: a place held is handed back.
                *place = None;
                attach_one(ebpf, c).map(|link| (link, None, None))
            } else if joined_object {
                match place {
                    Some(Place::Joined(j)) if j.kind != c.at.kind() => continue,
                    _ => join(ebpf, c, place),
                }
            } else if matches!(place, Some(Place::First(claim)) if claim.kind() == c.at.kind()) {
                attach_first(ebpf, hook, c, place)
            } else {
                // No chain to serve (not root, or the address could not be
                // had): a starter would only cost a call per event.
                attach_one(ebpf, c).map(|link| (link, None, None))
            };
            match attached {
                Ok((link, sharing, starter)) => {
                    links.push(link);
                    report.chosen = Some(*c);
                    report.sharing = sharing;
                    report.starter = starter;
                    break;
                }
                Err(why) => {
                    log::debug!("{}: {} failed: {why}", hook.name, c.at);
                    report.failures.push((*c, why));
                }
            }
        }
        if report.chosen.is_none() && hook.required {
            return Err(missing_hook_error(hook, &report));
        }
        log::info!("attach {report}");
        reports.push(report);
    }
    Ok(reports)
}

fn missing_hook_error(hook: &Hook, report: &AttachReport) -> Error {
    // The usual cause on a kernel without kprobes or fentry is a missing
    // tracepoint: name it directly.
    if let Some((_, why)) = report
        .failures
        .iter()
        .find(|(c, _)| matches!(c.at, AttachPoint::Tracepoint { .. }))
    {
        return Error::Attach(format!("{}: {why}", hook.name));
    }
    let tried: Vec<String> = report
        .failures
        .iter()
        .map(|(c, why)| format!("{}: {why}", c.at))
        .collect();
    Error::Attach(format!(
        "{}: no way to attach on this kernel ({})",
        hook.name,
        tried.join("; ")
    ))
}

/// Attach kinds or programs the user asked to skip:
/// `EBPFTOP_SKIP_ATTACH=tp_btf,fentry` (or a program's name) takes the
/// fallback paths on a kernel that has the preferred ones (to compare
/// them, or to work around a kernel bug in one).
pub const SKIP_ATTACH_ENV: &str = "EBPFTOP_SKIP_ATTACH";

impl AttachPoint {
    /// The kind's name, as `--verbose` and `EBPFTOP_SKIP_ATTACH` spell it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tracepoint { .. } => "tracepoint",
            Self::RawTracepoint { .. } => "raw_tracepoint",
            Self::BtfTracepoint { .. } => "tp_btf",
            Self::Kprobe { .. } => "kprobe",
            Self::Kretprobe { .. } => "kretprobe",
            Self::FEntry { .. } => "fentry",
            Self::FExit { .. } => "fexit",
            Self::UProbe { .. } => "uprobe",
            Self::URetProbe { .. } => "uretprobe",
        }
    }
}

fn skipped(c: &Candidate) -> bool {
    std::env::var(SKIP_ATTACH_ENV).is_ok_and(|v| {
        v.split(',')
            .any(|k| k.trim() == c.at.kind() || k.trim() == c.program)
    })
}

/// A shared hook's link, where it was attached, and its starter (see
/// [`AttachReport`]).
type SharedLink = (OwnedLink, Option<String>, Option<(OwnedFd, u64)>);

/// Puts candidate `c`'s program in the place `place` holds in another
/// tool's chain, which the object was loaded against.
fn join(ebpf: &mut Ebpf, c: &Candidate, place: &mut Option<Place>) -> Result<SharedLink, String> {
    check_candidate(c)?;
    let program = load_only(ebpf, c)?;
    let Some(Place::Joined(j)) = place.take() else {
        return Err("the place in the chain was lost".into());
    };
    let member = match j.enter(program.as_fd()) {
        Ok(member) => member,
        Err((j, e)) => {
            *place = Some(Place::Joined(j));
            return Err(format!("could not take our place in the chain: {e}"));
        }
    };
    let starter = member
        .starter()
        .try_clone_to_owned()
        .map_err(|e| e.to_string())?;
    // Runs skipped before our program went in were not ours.
    let before = program_skipped(starter.as_fd()).map_err(|e| e.to_string())?;
    let (host, index) = member.where_();
    let sharing = format!(
        "in place {index} of the chain that pid {host} attached (one program on the \
         tracepoint for all our tools on it)"
    );
    Ok((Box::new(member), Some(sharing), Some((starter, before))))
}

/// Attaches the object's starter for `c`'s kind, with `c`'s program first
/// in the chain, served to later tools with the claim `place` holds for
/// that kind; the candidate alone where the starter cannot be had.
fn attach_first(
    ebpf: &mut Ebpf,
    hook: &Hook,
    c: &Candidate,
    place: &mut Option<Place>,
) -> Result<SharedLink, String> {
    check_candidate(c)?;
    let kind = c.at.kind();
    // The program first: it is the one that may be refused, and a chain
    // takes programs of the type of the first it was loaded with.
    let program = load_only(ebpf, c)?;
    let hosted = (|| {
        let s = Candidate {
            program: hub::starter_program(kind).ok_or_else(|| format!("no starter for {kind}"))?,
            at: c.at,
        };
        let starter = load_only(ebpf, &s)?;
        let chain = hub::chain_of(ebpf, kind)
            .ok_or("object has no chain")?
            .try_clone_to_owned()
            .map_err(|e| e.to_string())?;
        let name = match c.at {
            AttachPoint::RawTracepoint { name } => Some(name),
            _ => None,
        };
        let claim = match place.take() {
            Some(Place::First(claim)) => Some(claim),
            _ => None,
        };
        let host = Host::start(
            hook.name,
            claim,
            name,
            chain.as_fd(),
            starter.as_fd(),
            program.as_fd(),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>((host, starter))
    })();
    match hosted {
        // The starter was loaded just now and has never run: no run of it
        // was skipped before ours.
        Ok((host, starter)) => {
            let before = 0;
            let sharing = if host.serving() {
                "first in a chain that our tools started later join"
            } else {
                "first in a chain of its own"
            };
            Ok((
                Box::new(host),
                Some(sharing.into()),
                Some((starter, before)),
            ))
        }
        Err(why) => {
            log::info!("{}: not shared ({why})", hook.name);
            attach_one(ebpf, c).map(|link| (link, None, None))
        }
    }
}

/// Loads `c`'s program without attaching it (a shared hook's): its
/// descriptor. Only tracepoint kinds can be shared.
fn load_only(ebpf: &mut Ebpf, c: &Candidate) -> Result<OwnedFd, String> {
    let program = ebpf
        .program_mut(c.program)
        .ok_or_else(|| format!("object has no program {}", c.program))?;
    let fd = match (c.at, program) {
        (AttachPoint::RawTracepoint { .. }, Program::RawTracePoint(p)) => {
            load_if_needed(p.load())?;
            p.fd()
        }
        (AttachPoint::BtfTracepoint { name }, Program::BtfTracePoint(p)) => {
            load_if_needed(p.load(name, kernel_btf()?))?;
            p.fd()
        }
        (at, _) => return Err(format!("{at} cannot be shared")),
    };
    fd.map_err(|e| first_line(&e.to_string()))?
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| e.to_string())
}

fn attach_one(ebpf: &mut Ebpf, c: &Candidate) -> Result<OwnedLink, String> {
    check_candidate(c)?;
    attach_checked(ebpf, c)
}

/// What can be checked of candidate `c` without loading it.
pub(crate) fn check_candidate(c: &Candidate) -> Result<(), String> {
    if skipped(c) {
        return Err(format!("skipped ({SKIP_ATTACH_ENV})"));
    }
    let features = KernelFeatures::get();
    // Checks that need no program load come first, so a kernel without
    // kprobes costs a stat, not a failed load.
    match c.at {
        AttachPoint::Tracepoint { category, name } => {
            match tracefs::has_tracepoint(category, name) {
                Ok(true) => {}
                Ok(false) => return Err(format!("kernel has no tracepoint {category}:{name}")),
                Err(e) => return Err(e.to_string()),
            }
            if category == "syscalls" {
                tracefs::check_syscall_layout(name).map_err(|e| e.to_string())?;
            }
        }
        AttachPoint::Kprobe { .. } | AttachPoint::Kretprobe { .. } if !features.kprobes => {
            return Err("kernel has no kprobes (CONFIG_KPROBES is off)".into());
        }
        AttachPoint::UProbe { .. } | AttachPoint::URetProbe { .. } if !features.uprobes => {
            return Err("kernel has no uprobes (CONFIG_UPROBE_EVENTS is off)".into());
        }
        AttachPoint::FEntry { .. }
        | AttachPoint::FExit { .. }
        | AttachPoint::BtfTracepoint { .. }
            if !features.btf =>
        {
            return Err("kernel has no BTF (/sys/kernel/btf/vmlinux)".into());
        }
        _ => {}
    }
    Ok(())
}

fn attach_checked(ebpf: &mut Ebpf, c: &Candidate) -> Result<OwnedLink, String> {
    let program = ebpf
        .program_mut(c.program)
        .ok_or_else(|| format!("object has no program {}", c.program))?;
    let short = |e: &dyn fmt::Display| first_line(&e.to_string());
    match (c.at, program) {
        (AttachPoint::Tracepoint { category, name }, Program::TracePoint(p)) => {
            load_if_needed(p.load())?;
            let id = p.attach(category, name).map_err(|e| short(&e))?;
            Ok(Box::new(p.take_link(id).map_err(|e| short(&e))?))
        }
        (AttachPoint::RawTracepoint { name }, Program::RawTracePoint(p)) => {
            load_if_needed(p.load())?;
            let id = p.attach(name).map_err(|e| short(&e))?;
            Ok(Box::new(p.take_link(id).map_err(|e| short(&e))?))
        }
        (AttachPoint::BtfTracepoint { name }, Program::BtfTracePoint(p)) => {
            load_if_needed(p.load(name, kernel_btf()?))?;
            let id = p.attach().map_err(|e| short(&e))?;
            Ok(Box::new(p.take_link(id).map_err(|e| short(&e))?))
        }
        (
            AttachPoint::Kprobe { function } | AttachPoint::Kretprobe { function },
            Program::KProbe(p),
        ) => {
            load_if_needed(p.load())?;
            let id = p.attach(function, 0).map_err(|e| short(&e))?;
            Ok(Box::new(p.take_link(id).map_err(|e| short(&e))?))
        }
        (AttachPoint::FEntry { function }, Program::FEntry(p)) => {
            load_if_needed(p.load(function, kernel_btf()?))?;
            let id = p.attach().map_err(|e| short(&e))?;
            Ok(Box::new(p.take_link(id).map_err(|e| short(&e))?))
        }
        (AttachPoint::FExit { function }, Program::FExit(p)) => {
            load_if_needed(p.load(function, kernel_btf()?))?;
            let id = p.attach().map_err(|e| short(&e))?;
            Ok(Box::new(p.take_link(id).map_err(|e| short(&e))?))
        }
        (
            AttachPoint::UProbe { target, symbol } | AttachPoint::URetProbe { target, symbol },
            Program::UProbe(p),
        ) => {
            load_if_needed(p.load())?;
            let id = p
                .attach(
                    symbol,
                    target,
                    aya::programs::uprobe::UProbeScope::AllProcesses,
                )
                .map_err(|e| short(&e))?;
            Ok(Box::new(p.take_link(id).map_err(|e| short(&e))?))
        }
        (at, p) => Err(format!(
            "program {} is a {:?} program, not one for {at}",
            c.program,
            p.prog_type()
        )),
    }
}

/// A program can serve several hooks (one exit handler for many syscalls),
/// so "already loaded" is success.
fn load_if_needed(r: Result<(), aya::programs::ProgramError>) -> Result<(), String> {
    match r {
        Ok(()) | Err(aya::programs::ProgramError::AlreadyLoaded) => Ok(()),
        Err(aya::programs::ProgramError::LoadError {
            io_error,
            verifier_log,
        }) => {
            log::debug!("verifier log:\n{verifier_log}");
            Err(format!(
                "the kernel refused the program: {io_error} (verifier log under --verbose)"
            ))
        }
        Err(e) => Err(first_line(&e.to_string())),
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}
