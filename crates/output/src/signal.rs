//! Signal names: `SIGKILL` for 9, and back.
//!
//! Numbers 1-31 are the same on x86_64 and aarch64 (asm-generic); the test
//! checks them against libc. Real-time signals are named as `kill -l` names
//! them on glibc systems, whose SIGRTMIN is 34: glibc keeps the kernel's
//! first two real-time signals (32 and 33) for itself, so a program's
//! `SIGRTMIN+1` and a shell's `kill -RTMIN+1` are both 35. Those two are
//! `SIGRTMIN-2` and `SIGRTMIN-1` here.

use std::borrow::Cow;

const NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// Other names the kernel headers give the same numbers.
const ALIASES: &[(&str, u32)] = &[("SIGIOT", 6), ("SIGPOLL", 29), ("SIGCLD", 17)];

/// glibc's SIGRTMIN and the kernel's SIGRTMAX (_NSIG).
pub const SIGRTMIN: u32 = 34;
pub const SIGRTMAX: u32 = 64;
/// The kernel's first real-time signal.
const KERNEL_SIGRTMIN: u32 = 32;

/// `SIGKILL`, `SIGRTMIN+3`, `SIGRTMAX`; the number itself for 0 (kill's
/// existence probe) and numbers no signal has.
pub fn signal_name(sig: i64) -> Cow<'static, str> {
    match sig {
        1..=31 => Cow::Borrowed(NAMES[(sig - 1) as usize]),
        64 => Cow::Borrowed("SIGRTMAX"),
        34 => Cow::Borrowed("SIGRTMIN"),
        32..=63 => Cow::Owned(format!("SIGRTMIN{:+}", sig - i64::from(SIGRTMIN))),
        _ => Cow::Owned(sig.to_string()),
    }
}

/// A signal as a user writes it: `9`, `KILL`, `SIGKILL`, `sigkill`,
/// `RTMIN+3`, `SIGRTMAX-2`. One line of error for anything else.
pub fn parse_signal(s: &str) -> Result<u32, String> {
    let bad = || {
        format!(
            "{s:?} is not a signal (a number 0-{SIGRTMAX} or a name such as KILL, SIGUSR1, RTMIN+2)"
        )
    };
    let t = s.trim();
    if let Ok(n) = t.parse::<u32>() {
        return if n <= SIGRTMAX { Ok(n) } else { Err(bad()) };
    }
    let upper = t.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(i) = NAMES.iter().position(|n| &n[3..] == name) {
        return Ok(i as u32 + 1);
    }
    if let Some(&(_, n)) = ALIASES.iter().find(|(a, _)| &a[3..] == name) {
        return Ok(n);
    }
    let (base, rest) = if let Some(r) = name.strip_prefix("RTMIN") {
        (SIGRTMIN, r)
    } else if let Some(r) = name.strip_prefix("RTMAX") {
        (SIGRTMAX, r)
    } else {
        return Err(bad());
    };
    let offset: i64 = match rest {
        "" => 0,
        _ if rest.starts_with('+') || rest.starts_with('-') => rest.parse().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    let n = i64::from(base) + offset;
    if (i64::from(KERNEL_SIGRTMIN)..=i64::from(SIGRTMAX)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_libc() {
        for (n, name) in [
            (libc::SIGHUP, "SIGHUP"),
            (libc::SIGABRT, "SIGABRT"),
            (libc::SIGKILL, "SIGKILL"),
            (libc::SIGUSR1, "SIGUSR1"),
            (libc::SIGSEGV, "SIGSEGV"),
            (libc::SIGUSR2, "SIGUSR2"),
            (libc::SIGTERM, "SIGTERM"),
            (libc::SIGSTKFLT, "SIGSTKFLT"),
            (libc::SIGCHLD, "SIGCHLD"),
            (libc::SIGSTOP, "SIGSTOP"),
            (libc::SIGURG, "SIGURG"),
            (libc::SIGWINCH, "SIGWINCH"),
            (libc::SIGIO, "SIGIO"),
            (libc::SIGPWR, "SIGPWR"),
            (libc::SIGSYS, "SIGSYS"),
        ] {
            assert_eq!(signal_name(i64::from(n)), name);
            assert_eq!(parse_signal(name), Ok(n as u32));
        }
        assert_eq!(libc::SIGRTMIN() as u32, SIGRTMIN);
        assert_eq!(libc::SIGRTMAX() as u32, SIGRTMAX);
    }

    #[test]
    fn real_time_signals() {
        assert_eq!(signal_name(34), "SIGRTMIN");
        assert_eq!(signal_name(37), "SIGRTMIN+3");
        assert_eq!(signal_name(63), "SIGRTMIN+29");
        assert_eq!(signal_name(64), "SIGRTMAX");
        assert_eq!(signal_name(32), "SIGRTMIN-2");
        assert_eq!(parse_signal("RTMIN+3"), Ok(37));
        assert_eq!(parse_signal("sigrtmax-1"), Ok(63));
        assert_eq!(parse_signal("SIGRTMIN-2"), Ok(32));
        assert!(parse_signal("RTMIN-3").is_err());
        assert!(parse_signal("RTMAX+1").is_err());
        assert!(parse_signal("RTMIN3").is_err());
        for n in 32..=64 {
            assert_eq!(parse_signal(&signal_name(n)), Ok(n as u32), "{n}");
        }
    }

    #[test]
    fn numbers_short_names_and_junk() {
        assert_eq!(parse_signal("9"), Ok(9));
        assert_eq!(parse_signal("0"), Ok(0));
        assert_eq!(parse_signal("kill"), Ok(9));
        assert_eq!(parse_signal(" usr1 "), Ok(10));
        assert_eq!(parse_signal("SIGIOT"), Ok(6));
        assert_eq!(parse_signal("POLL"), Ok(29));
        assert_eq!(signal_name(0), "0");
        assert_eq!(signal_name(65), "65");
        for junk in ["65", "-1", "", "SIG", "SIGFOO", "KILLX"] {
            let e = parse_signal(junk).unwrap_err();
            assert!(e.contains("is not a signal"), "{e}");
        }
    }
}
