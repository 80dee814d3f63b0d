//! A task's `exit_code`, the status wait(2) reports: bits 0-6 the signal
//! that ended it, bit 7 a core dump, bits 8-15 the exit status.

use std::fmt;

use ebpftop_output::signal::signal_name;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus(pub i32);

impl ExitStatus {
    /// The signal that ended the task, if one did.
    pub fn signal(self) -> Option<i32> {
        let sig = self.0 & 0x7f;
        (sig != 0).then_some(sig)
    }

    /// exit(2)'s status, after a normal exit.
    pub fn code(self) -> Option<i32> {
        self.signal().is_none().then_some((self.0 >> 8) & 0xff)
    }

    pub fn core_dumped(self) -> bool {
        self.signal().is_some() && self.0 & 0x80 != 0
    }

    pub fn failed(self) -> bool {
        self.0 != 0
    }
}

/// `0`, `code 3`, `signal SIGKILL`, `signal SIGSEGV, core dumped`.
impl fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.signal(), self.code()) {
            (Some(sig), _) => {
                write!(f, "signal {}", signal_name(i64::from(sig)))?;
                if self.core_dumped() {
                    f.write_str(", core dumped")?;
                }
                Ok(())
            }
            (None, Some(0)) => f.write_str("0"),
            (None, code) => write!(f, "code {}", code.unwrap_or(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_exits() {
        let s = ExitStatus(0);
        assert_eq!((s.code(), s.signal(), s.failed()), (Some(0), None, false));
        assert_eq!(s.to_string(), "0");
        let s = ExitStatus(3 << 8);
        assert_eq!((s.code(), s.signal(), s.failed()), (Some(3), None, true));
        assert_eq!(s.to_string(), "code 3");
        assert_eq!(ExitStatus(255 << 8).code(), Some(255));
    }

    #[test]
    fn signals_and_core_dumps() {
        let s = ExitStatus(9);
        assert_eq!(
            (s.code(), s.signal(), s.core_dumped()),
            (None, Some(9), false)
        );
        assert_eq!(s.to_string(), "signal SIGKILL");
        let s = ExitStatus(11 | 0x80);
        assert_eq!((s.signal(), s.core_dumped()), (Some(11), true));
        assert_eq!(s.to_string(), "signal SIGSEGV, core dumped");
        // A core flag without a signal is not a core dump.
        assert!(!ExitStatus(0x80).core_dumped());
    }
}
