//! access(2) modes and statx(2) masks as names.

use ebpftop_output::flags::decode_bits;

/// `R_OK|W_OK|X_OK`, or `F_OK` for 0 (include/uapi/linux/fcntl.h values).
pub fn access_mode(mode: u32) -> String {
    const NAMES: &[(u64, &str)] = &[(4, "R_OK"), (2, "W_OK"), (1, "X_OK")];
    decode_bits(mode as u64, NAMES, "F_OK")
}

/// `STATX_BASIC_STATS|STATX_BTIME`; the basic set is named as one.
pub fn statx_mask(mask: u32) -> String {
    const NAMES: &[(u64, &str)] = &[
        (0x7ff, "STATX_BASIC_STATS"),
        (0x1, "STATX_TYPE"),
        (0x2, "STATX_MODE"),
        (0x4, "STATX_NLINK"),
        (0x8, "STATX_UID"),
        (0x10, "STATX_GID"),
        (0x20, "STATX_ATIME"),
        (0x40, "STATX_MTIME"),
        (0x80, "STATX_CTIME"),
        (0x100, "STATX_INO"),
        (0x200, "STATX_SIZE"),
        (0x400, "STATX_BLOCKS"),
        (0x800, "STATX_BTIME"),
        (0x1000, "STATX_MNT_ID"),
        (0x2000, "STATX_DIOALIGN"),
        (0x4000, "STATX_MNT_ID_UNIQUE"),
        (0x8000, "STATX_SUBVOL"),
        (0x10000, "STATX_WRITE_ATOMIC"),
        (0x20000, "STATX_DIO_READ_ALIGN"),
    ];
    decode_bits(mask as u64, NAMES, "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_modes() {
        assert_eq!(access_mode(libc::F_OK as u32), "F_OK");
        assert_eq!(access_mode(libc::R_OK as u32), "R_OK");
        assert_eq!(access_mode((libc::R_OK | libc::W_OK) as u32), "R_OK|W_OK");
        assert_eq!(
            access_mode((libc::X_OK | libc::W_OK | libc::R_OK) as u32),
            "R_OK|W_OK|X_OK"
        );
        assert_eq!(access_mode(0x10 | libc::X_OK as u32), "X_OK|0x10");
    }

    #[test]
    fn statx_masks_match_libc() {
        assert_eq!(statx_mask(libc::STATX_BASIC_STATS), "STATX_BASIC_STATS");
        assert_eq!(
            statx_mask(libc::STATX_BASIC_STATS | libc::STATX_BTIME),
            "STATX_BASIC_STATS|STATX_BTIME"
        );
        assert_eq!(
            statx_mask(libc::STATX_TYPE | libc::STATX_SIZE),
            "STATX_TYPE|STATX_SIZE"
        );
        assert_eq!(statx_mask(libc::STATX_MNT_ID), "STATX_MNT_ID");
        assert_eq!(statx_mask(libc::STATX_DIOALIGN), "STATX_DIOALIGN");
        assert_eq!(statx_mask(1 << 31), "0x80000000");
        assert_eq!(statx_mask(0), "0");
    }
}
