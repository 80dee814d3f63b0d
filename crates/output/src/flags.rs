//! Bit flags as names, `A|B|0x40`, and the kernel flag sets more than one
//! tool decodes.

use std::fmt::Write as _;

/// `value` as `NAME|NAME`, composite names first in `table` taking their
/// bits before the names they contain; bits without a name are kept as
/// hex, and `zero` is printed for 0.
pub fn decode_bits(value: u64, table: &[(u64, &str)], zero: &str) -> String {
    if value == 0 {
        return zero.to_string();
    }
    let mut out = String::new();
    let mut rest = value;
    for &(bits, name) in table {
        if bits != 0 && rest & bits == bits {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(name);
            rest &= !bits;
        }
    }
    if rest != 0 {
        if !out.is_empty() {
            out.push('|');
        }
        let _ = write!(out, "0x{rest:x}");
    }
    out
}

/// The `AT_*` flags of path-walking syscalls (include/uapi/linux/fcntl.h).
/// 0x200 is AT_EACCESS for the access family and AT_REMOVEDIR for unlinkat:
/// callers pick with [`at_flags`]'s `eaccess`.
const AT_FLAGS: &[(u64, &str)] = &[
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x2000, "AT_STATX_FORCE_SYNC"),
    (0x4000, "AT_STATX_DONT_SYNC"),
    (0x8000, "AT_RECURSIVE"),
];

/// `AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH`; "0" for none. `eaccess` names
/// 0x200 AT_EACCESS (faccessat2), else AT_REMOVEDIR.
pub fn at_flags(flags: u64, eaccess: bool) -> String {
    let removedir = if eaccess {
        "AT_EACCESS"
    } else {
        "AT_REMOVEDIR"
    };
    let mut table = Vec::with_capacity(AT_FLAGS.len() + 1);
    table.push((0x200, removedir));
    table.extend_from_slice(AT_FLAGS);
    decode_bits(flags, &table, "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_composites_and_unknown_bits() {
        let t = [(0b11, "BOTH"), (0b01, "ONE"), (0b10, "TWO")];
        assert_eq!(decode_bits(0, &t, "NONE"), "NONE");
        assert_eq!(decode_bits(0b11, &t, "NONE"), "BOTH");
        assert_eq!(decode_bits(0b10, &t, "NONE"), "TWO");
        assert_eq!(decode_bits(0b1_0001, &t, "NONE"), "ONE|0x10");
        assert_eq!(decode_bits(0b1000, &t, "NONE"), "0x8");
    }

    #[test]
    fn at_flags_match_libc() {
        assert_eq!(
            at_flags(libc::AT_SYMLINK_NOFOLLOW as u64, false),
            "AT_SYMLINK_NOFOLLOW"
        );
        assert_eq!(
            at_flags((libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT) as u64, false),
            "AT_NO_AUTOMOUNT|AT_EMPTY_PATH"
        );
        assert_eq!(at_flags(libc::AT_EACCESS as u64, true), "AT_EACCESS");
        assert_eq!(at_flags(libc::AT_REMOVEDIR as u64, false), "AT_REMOVEDIR");
        assert_eq!(
            at_flags(
                (libc::AT_STATX_FORCE_SYNC | libc::AT_SYMLINK_FOLLOW) as u64,
                false
            ),
            "AT_SYMLINK_FOLLOW|AT_STATX_FORCE_SYNC"
        );
        assert_eq!(
            at_flags(libc::AT_STATX_DONT_SYNC as u64, false),
            "AT_STATX_DONT_SYNC"
        );
        assert_eq!(at_flags(libc::AT_RECURSIVE as u64, false), "AT_RECURSIVE");
        assert_eq!(at_flags(0, false), "0");
    }
}
