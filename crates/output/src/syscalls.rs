//! Syscall names by number, for the kernel's numbering on x86_64 and
//! aarch64. The tables are generated from the Linux UAPI headers by
//! `syscalls/generate.py`; a number they do not know prints as
//! `syscall_NNN`, never dropped.

use std::borrow::Cow;

mod table;

/// The table of the architecture this binary runs on.
#[cfg(target_arch = "aarch64")]
const NATIVE: &[&str] = &table::AARCH64;
#[cfg(not(target_arch = "aarch64"))]
const NATIVE: &[&str] = &table::X86_64;

/// A syscall architecture whose numbering we know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    fn table(self) -> &'static [&'static str] {
        match self {
            Arch::X86_64 => &table::X86_64,
            Arch::Aarch64 => &table::AARCH64,
        }
    }

    /// The name of syscall `nr`, if the table has one.
    pub fn name(self, nr: u64) -> Option<&'static str> {
        let name = *self.table().get(usize::try_from(nr).ok()?)?;
        (!name.is_empty()).then_some(name)
    }

    /// The number of syscall `name`.
    pub fn number(self, name: &str) -> Option<u32> {
        if name.is_empty() {
            return None;
        }
        self.table()
            .iter()
            .position(|n| *n == name)
            .map(|i| i as u32)
    }
}

/// The name of syscall `nr` on this machine: `openat`, or `syscall_NNN`.
pub fn syscall_name(nr: u64) -> Cow<'static, str> {
    match native_name(nr) {
        Some(n) => Cow::Borrowed(n),
        None => Cow::Owned(format!("syscall_{nr}")),
    }
}

fn native_name(nr: u64) -> Option<&'static str> {
    let name = *NATIVE.get(usize::try_from(nr).ok()?)?;
    (!name.is_empty()).then_some(name)
}

/// The number of syscall `name` on this machine; `syscall_NNN` is taken
/// as number NNN, so every name this module prints parses back.
pub fn syscall_number(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix("syscall_") {
        return n.parse().ok();
    }
    if name.is_empty() {
        return None;
    }
    NATIVE.iter().position(|n| *n == name).map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        assert_eq!(Arch::X86_64.name(110), Some("getppid"));
        assert_eq!(Arch::X86_64.name(257), Some("openat"));
        assert_eq!(Arch::X86_64.name(35), Some("nanosleep"));
        assert_eq!(Arch::X86_64.name(0), Some("read"));
        assert_eq!(Arch::X86_64.name(231), Some("exit_group"));
        assert_eq!(Arch::X86_64.number("getppid"), Some(110));
        assert_eq!(Arch::Aarch64.name(56), Some("openat"));
        assert_eq!(Arch::Aarch64.name(173), Some("getppid"));
        assert_eq!(Arch::Aarch64.name(101), Some("nanosleep"));
        // The 64-bit names of asm-generic's __NR3264_* entries.
        assert_eq!(Arch::Aarch64.name(79), Some("newfstatat"));
        assert_eq!(Arch::Aarch64.name(222), Some("mmap"));
        assert_eq!(Arch::Aarch64.number("openat"), Some(56));
        assert_eq!(Arch::Aarch64.number("open"), None);
    }

    #[test]
    fn unknown_numbers_keep_their_number() {
        assert_eq!(syscall_name(100_000), "syscall_100000");
        assert_eq!(syscall_name(u64::MAX), format!("syscall_{}", u64::MAX));
        assert_eq!(syscall_number("syscall_100000"), Some(100_000));
        assert_eq!(syscall_number("nosuchcall"), None);
        assert_eq!(syscall_number(""), None);
        // A gap in the table (x86_64 has none below 335; aarch64 skips 244).
        assert_eq!(Arch::Aarch64.name(244), None);
    }

    #[test]
    fn native_round_trip() {
        for nr in 0..NATIVE.len() as u64 {
            let name = syscall_name(nr);
            assert_eq!(syscall_number(&name), Some(nr as u32), "{name}");
        }
        #[cfg(target_arch = "x86_64")]
        assert_eq!(syscall_name(257), "openat");
    }
}
