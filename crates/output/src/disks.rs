//! Disks by name and by the kernel's `dev_t` (`major << 20 | minor`, as
//! block tracepoints report it), from sysfs; block requests' operation and
//! flags from the tracepoints' `rwbs` string.

use std::{collections::HashMap, fs, path::Path, sync::Mutex};

/// The kernel's internal `dev_t` of `major:minor`.
pub const fn kernel_dev(major: u32, minor: u32) -> u32 {
    (major << 20) | (minor & ((1 << 20) - 1))
}

/// `(major, minor)` of a kernel `dev_t`.
pub const fn major_minor(dev: u32) -> (u32, u32) {
    (dev >> 20, dev & ((1 << 20) - 1))
}

/// The kernel `dev_t` of whole disk `name` (`sda`, `nvme0n1`, `loop3`, or
/// `/dev/...` of one). A partition is refused: block requests name the
/// disk they go to, never a partition.
pub fn disk_dev(name: &str) -> Result<u32, String> {
    disk_dev_in(Path::new("/sys/class/block"), name)
}

fn disk_dev_in(class_block: &Path, name: &str) -> Result<u32, String> {
    let short = name.strip_prefix("/dev/").unwrap_or(name);
    if short.is_empty() || short.contains('/') || short.starts_with('.') {
        return Err(format!("no disk named {name:?} (see /proc/partitions)"));
    }
    let dir = class_block.join(short);
    let dev = fs::read_to_string(dir.join("dev"))
        .map_err(|_| format!("no disk named {name:?} (see /proc/partitions)"))?;
    if dir.join("partition").exists() {
        return Err(format!(
            "{short} is a partition; block requests go to whole disks: name its disk"
        ));
    }
    parse_major_minor(dev.trim())
        .map(|(ma, mi)| kernel_dev(ma, mi))
        .ok_or_else(|| format!("{}: unexpected contents {dev:?}", dir.join("dev").display()))
}

fn parse_major_minor(s: &str) -> Option<(u32, u32)> {
    let (ma, mi) = s.split_once(':')?;
    Some((ma.parse().ok()?, mi.parse().ok()?))
}

/// The name of the disk with kernel `dev_t` `dev` (`DEVNAME` of
/// /sys/dev/block/MAJ:MIN/uevent), or `MAJ:MIN` when it has none (a disk
/// removed since). Looked up once per dev.
pub fn disk_name(dev: u32) -> String {
    static NAMES: Mutex<Option<HashMap<u32, String>>> = Mutex::new(None);
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    names
        .get_or_insert_with(HashMap::new)
        .entry(dev)
        .or_insert_with(|| {
            let (ma, mi) = major_minor(dev);
            let uevent = format!("/sys/dev/block/{ma}:{mi}/uevent");
            fs::read_to_string(uevent)
                .ok()
                .and_then(|u| devname(&u).map(str::to_string))
                .unwrap_or_else(|| format!("{ma}:{mi}"))
        })
        .clone()
}

fn devname(uevent: &str) -> Option<&str> {
    uevent
        .lines()
        .find_map(|l| l.strip_prefix("DEVNAME="))
        .filter(|n| !n.is_empty())
}

/// A block request's operation and flags, decoded from the `rwbs` string
/// of the `block:*` tracepoints (the kernel's `blk_fill_rwbs`: an optional
/// `F` for a preflush, the operation, then a letter per flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RequestFlags {
    /// `R`, `W`, `F` (flush), `D` (discard), `DE` (secure erase), `N`
    /// (anything else, e.g. a driver command).
    pub op: &'static str,
    pub preflush: bool,
    /// Forced unit access: written through the device's cache.
    pub fua: bool,
    pub readahead: bool,
    pub sync: bool,
    pub metadata: bool,
    pub atomic: bool,
}

impl RequestFlags {
    /// Decodes `rwbs` (NUL-terminated or not).
    pub fn from_rwbs(rwbs: &[u8]) -> RequestFlags {
        let s = crate::text::until_nul(rwbs);
        let mut f = RequestFlags {
            op: "N",
            ..RequestFlags::default()
        };
        let mut i = 0;
        if s.len() > 1 && s[0] == b'F' && b"WDRNF".contains(&s[1]) {
            f.preflush = true;
            i = 1;
        }
        match s.get(i) {
            Some(b'R') => f.op = "R",
            Some(b'W') => f.op = "W",
            Some(b'F') => f.op = "F",
            Some(b'D') if s.get(i + 1) == Some(&b'E') => {
                f.op = "DE";
                i += 1;
            }
            Some(b'D') => f.op = "D",
            _ => {}
        }
        for &c in s.get(i + 1..).unwrap_or_default() {
            match c {
                b'F' => f.fua = true,
                b'A' => f.readahead = true,
                b'S' => f.sync = true,
                b'M' => f.metadata = true,
                b'U' => f.atomic = true,
                _ => {}
            }
        }
        f
    }

    /// The operation's name: Read, Write, Flush, Discard, SecureErase or
    /// Other.
    pub fn op_name(&self) -> &'static str {
        match self.op {
            "R" => "Read",
            "W" => "Write",
            "F" => "Flush",
            "D" => "Discard",
            "DE" => "SecureErase",
            _ => "Other",
        }
    }

    /// bcc biolatency -F's label: the flags, then the operation, joined
    /// by `-` (`Read`, `Sync-Write`, `PreFlush-Sync-ForcedUnitAccess-Write`).
    pub fn label(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for (on, name) in [
            (self.preflush, "PreFlush"),
            (self.sync, "Sync"),
            (self.metadata, "Metadata"),
            (self.readahead, "ReadAhead"),
            (self.fua, "ForcedUnitAccess"),
            (self.atomic, "Atomic"),
        ] {
            if on {
                parts.push(name);
            }
        }
        parts.push(self.op_name());
        parts.join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_t_round_trips() {
        assert_eq!(kernel_dev(7, 3), 7 << 20 | 3);
        assert_eq!(major_minor(kernel_dev(259, 65537)), (259, 65537));
    }

    #[test]
    fn uevent_names() {
        let u = "MAJOR=7\nMINOR=0\nDEVNAME=loop0\nDEVTYPE=disk\n";
        assert_eq!(devname(u), Some("loop0"));
        assert_eq!(devname("MAJOR=7\n"), None);
    }

    #[test]
    fn rwbs_decodes() {
        let f = |s: &str| RequestFlags::from_rwbs(s.as_bytes());
        assert_eq!(f("R").label(), "Read");
        assert_eq!(f("RS\0\0").label(), "Sync-Read");
        assert_eq!(f("WS").label(), "Sync-Write");
        assert_eq!(f("RA").label(), "ReadAhead-Read");
        assert_eq!(f("F").label(), "Flush");
        assert_eq!(f("FWFS").label(), "PreFlush-Sync-ForcedUnitAccess-Write");
        assert_eq!(f("WF").label(), "ForcedUnitAccess-Write");
        assert_eq!(f("DE").label(), "SecureErase");
        assert_eq!(f("D").op, "D");
        assert_eq!(f("N").label(), "Other");
        assert_eq!(f("").label(), "Other");
        assert_eq!(f("WM").label(), "Metadata-Write");
    }

    #[test]
    fn names_resolve_from_sysfs() {
        let dir = std::env::temp_dir().join(format!("ebpftop-disks-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("vdz")).unwrap();
        fs::write(dir.join("vdz/dev"), "254:16\n").unwrap();
        fs::create_dir_all(dir.join("vdz1")).unwrap();
        fs::write(dir.join("vdz1/dev"), "254:17\n").unwrap();
        fs::write(dir.join("vdz1/partition"), "1\n").unwrap();
        assert_eq!(disk_dev_in(&dir, "vdz"), Ok(kernel_dev(254, 16)));
        assert_eq!(disk_dev_in(&dir, "/dev/vdz"), Ok(kernel_dev(254, 16)));
        let e = disk_dev_in(&dir, "vdz1").unwrap_err();
        assert!(e.contains("partition"), "{e}");
        let e = disk_dev_in(&dir, "nosuch").unwrap_err();
        assert_eq!(e, "no disk named \"nosuch\" (see /proc/partitions)");
        assert!(disk_dev_in(&dir, "../vdz").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
