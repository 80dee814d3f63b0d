//! open(2) flags as names, with the kernel's values for this architecture.

use std::fmt::Write as _;

// The kernel's O_LARGEFILE; libc reports 0 for it on 64-bit targets, but
// the syscall sees the kernel's bit when a 32-bit-minded caller sets it.
#[cfg(target_arch = "aarch64")]
const O_LARGEFILE: u64 = 0o400000;
#[cfg(not(target_arch = "aarch64"))]
const O_LARGEFILE: u64 = 0o100000;

/// Composite flags first: O_SYNC includes O_DSYNC's bit, O_TMPFILE
/// includes O_DIRECTORY's.
const NAMED: &[(u64, &str)] = &[
    (libc::O_SYNC as u64, "O_SYNC"),
    (libc::O_TMPFILE as u64, "O_TMPFILE"),
    (libc::O_CREAT as u64, "O_CREAT"),
    (libc::O_EXCL as u64, "O_EXCL"),
    (libc::O_NOCTTY as u64, "O_NOCTTY"),
    (libc::O_TRUNC as u64, "O_TRUNC"),
    (libc::O_APPEND as u64, "O_APPEND"),
    (libc::O_NONBLOCK as u64, "O_NONBLOCK"),
    (libc::O_DSYNC as u64, "O_DSYNC"),
    (libc::O_ASYNC as u64, "O_ASYNC"),
    (libc::O_DIRECT as u64, "O_DIRECT"),
    (O_LARGEFILE, "O_LARGEFILE"),
    (libc::O_DIRECTORY as u64, "O_DIRECTORY"),
    (libc::O_NOFOLLOW as u64, "O_NOFOLLOW"),
    (libc::O_NOATIME as u64, "O_NOATIME"),
    (libc::O_CLOEXEC as u64, "O_CLOEXEC"),
    (libc::O_PATH as u64, "O_PATH"),
];

/// `O_WRONLY|O_CREAT|O_TRUNC`; bits without a name are kept as hex.
pub fn decode(flags: u64) -> String {
    let mut out = String::from(match flags & libc::O_ACCMODE as u64 {
        0 => "O_RDONLY",
        1 => "O_WRONLY",
        2 => "O_RDWR",
        _ => "O_ACCMODE",
    });
    let mut rest = flags & !(libc::O_ACCMODE as u64);
    for &(bits, name) in NAMED {
        if bits != 0 && rest & bits == bits {
            out.push('|');
            out.push_str(name);
            rest &= !bits;
        }
    }
    if rest != 0 {
        let _ = write!(out, "|0x{rest:x}");
    }
    out
}

/// Whether `flags` make the kernel use `mode` (file creation).
pub fn uses_mode(flags: u64) -> bool {
    flags & libc::O_CREAT as u64 != 0 || flags & libc::O_TMPFILE as u64 == libc::O_TMPFILE as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_modes() {
        assert_eq!(decode(0), "O_RDONLY");
        assert_eq!(decode(libc::O_WRONLY as u64), "O_WRONLY");
        assert_eq!(decode(libc::O_RDWR as u64), "O_RDWR");
    }

    #[test]
    fn common_combinations() {
        let f = (libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC) as u64;
        assert_eq!(decode(f), "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
        let f = (libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NONBLOCK) as u64;
        assert_eq!(decode(f), "O_RDONLY|O_NONBLOCK|O_DIRECTORY");
    }

    #[test]
    fn composites_are_not_split() {
        assert_eq!(decode(libc::O_SYNC as u64), "O_RDONLY|O_SYNC");
        assert_eq!(decode(libc::O_DSYNC as u64), "O_RDONLY|O_DSYNC");
        assert_eq!(
            decode((libc::O_TMPFILE | libc::O_RDWR) as u64),
            "O_RDWR|O_TMPFILE"
        );
        assert!(uses_mode(libc::O_TMPFILE as u64));
        assert!(!uses_mode(libc::O_DIRECTORY as u64));
    }

    #[test]
    fn unknown_bits_stay_visible() {
        assert_eq!(decode(1 << 40), "O_RDONLY|0x10000000000");
        assert_eq!(decode(O_LARGEFILE), "O_RDONLY|O_LARGEFILE");
    }
}
