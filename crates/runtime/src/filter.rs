//! Building the in-kernel filter from what the user asked for, with every
//! input checked first: an unknown pid or a bad cgroup is an error here,
//! not a filter that silently matches nothing.

use std::{
    ffi::CString,
    fs,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
};

use ebpftop_common::{COMM_LEN, Filter};

use crate::Error;

/// The filters a user can ask of every tool.
#[derive(Clone, Debug, Default)]
pub struct FilterSpec {
    pub pid: Option<u32>,
    pub tid: Option<u32>,
    pub uid: Option<u32>,
    pub comm: Option<String>,
    /// A cgroup v2 directory, or a cgroup id.
    pub cgroup: Option<String>,
    pub failed_only: bool,
}

impl FilterSpec {
    /// Checks every input against the running system and builds the filter.
    pub fn build(&self) -> Result<Filter, Error> {
        let mut f = Filter::ALL;
        if let Some(pid) = self.pid {
            check_task(pid, "pid")?;
            f.flags |= Filter::PID;
            f.pid = pid;
        }
        if let Some(tid) = self.tid {
            check_task(tid, "tid")?;
            f.flags |= Filter::TID;
            f.tid = tid;
        }
        if let Some(uid) = self.uid {
            f.flags |= Filter::UID;
            f.uid = uid;
        }
        if let Some(comm) = &self.comm {
            f.flags |= Filter::COMM;
            f.comm = comm_bytes(comm)?;
        }
        if let Some(cgroup) = &self.cgroup {
            f.flags |= Filter::CGROUP;
            f.cgroup_id = cgroup_id(cgroup)?;
        }
        if self.failed_only {
            f.flags |= Filter::FAILED_ONLY;
        }
        Ok(f)
    }
}

fn check_task(id: u32, what: &str) -> Result<(), Error> {
    // /proc/<tid> resolves for threads too, though readdir does not list it.
    if id == 0 || !Path::new(&format!("/proc/{id}")).exists() {
        return Err(Error::BadInput(format!("no process with {what} {id}")));
    }
    Ok(())
}

/// The kernel keeps 15 bytes of a task's name; a longer name can never match.
pub fn comm_bytes(comm: &str) -> Result<[u8; COMM_LEN], Error> {
    let bytes = comm.as_bytes();
    if bytes.is_empty() || bytes.len() >= COMM_LEN || bytes.contains(&0) {
        return Err(Error::BadInput(format!(
            "process name {comm:?} must be 1 to {} bytes (the kernel keeps no more)",
            COMM_LEN - 1
        )));
    }
    let mut out = [0u8; COMM_LEN];
    out[..bytes.len()].copy_from_slice(bytes);
    Ok(out)
}

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Where cgroup v2 is mounted: /sys/fs/cgroup on unified systems,
/// /sys/fs/cgroup/unified on hybrid ones.
pub fn cgroup2_mount() -> Option<PathBuf> {
    let mounts = fs::read_to_string("/proc/self/mounts").ok()?;
    mounts.lines().find_map(|line| {
        let mut parts = line.split_whitespace();
        let (_dev, dir, fstype) = (parts.next()?, parts.next()?, parts.next()?);
        (fstype == "cgroup2").then(|| PathBuf::from(dir))
    })
}

/// A cgroup id from an id, an absolute v2 directory, or a path relative to
/// the v2 mount (`system.slice/foo.service`).
pub fn cgroup_id(spec: &str) -> Result<u64, Error> {
    if let Ok(id) = spec.parse::<u64>() {
        return Ok(id);
    }
    let mount = cgroup2_mount();
    let path = if Path::new(spec).is_absolute() {
        PathBuf::from(spec)
    } else if let Some(m) = &mount {
        m.join(spec)
    } else {
        return Err(Error::BadInput(
            "cgroup v2 is not mounted; give an absolute path or a cgroup id".into(),
        ));
    };
    let meta = fs::metadata(&path)
        .map_err(|e| Error::BadInput(format!("cgroup {}: {e}", path.display())))?;
    if !meta.is_dir() || !is_cgroup2(&path) {
        let hint = match &mount {
            Some(m) => format!(" (cgroup v2 is mounted at {})", m.display()),
            None => String::new(),
        };
        return Err(Error::BadInput(format!(
            "{} is not a cgroup v2 directory{hint}",
            path.display()
        )));
    }
    // On cgroup2 the directory's inode number is the cgroup id that
    // bpf_get_current_cgroup_id() returns.
    Ok(meta.ino())
}

fn is_cgroup2(path: &Path) -> bool {
    let Ok(c) = CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: statfs writes into a zeroed struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and out pointer.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return false;
    }
    st.f_type as i64 == CGROUP2_SUPER_MAGIC
}

/// The v2 cgroup id of a process, from /proc/PID/cgroup and the mount.
pub fn cgroup_id_of_pid(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    let rel = text.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = cgroup2_mount()?.join(rel.trim_start_matches('/'));
    fs::metadata(dir).ok().map(|m| m.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_limits() {
        assert_eq!(&comm_bytes("bash").unwrap()[..5], b"bash\0");
        assert!(comm_bytes("").is_err());
        assert!(comm_bytes("0123456789abcde").is_ok());
        assert!(comm_bytes("0123456789abcdef").is_err());
    }

    #[test]
    fn unknown_pid_is_an_error() {
        let spec = FilterSpec {
            pid: Some(u32::MAX - 1),
            ..Default::default()
        };
        let err = spec.build().unwrap_err().to_string();
        assert_eq!(err, format!("no process with pid {}", u32::MAX - 1));
    }

    #[test]
    fn own_pid_and_flags() {
        let me = std::process::id();
        let spec = FilterSpec {
            pid: Some(me),
            uid: Some(0),
            failed_only: true,
            ..Default::default()
        };
        let f = spec.build().unwrap();
        assert_eq!(f.pid, me);
        assert!(f.has(Filter::PID) && f.has(Filter::UID) && f.has(Filter::FAILED_ONLY));
        assert!(!f.has(Filter::COMM));
    }

    #[test]
    fn cgroup_numeric_and_bad_path() {
        assert_eq!(cgroup_id("1234").unwrap(), 1234);
        let err = cgroup_id("/tmp").unwrap_err().to_string();
        assert!(
            err.starts_with("/tmp is not a cgroup v2 directory"),
            "{err}"
        );
        assert!(cgroup_id("/nonexistent/cg").is_err());
    }

    #[test]
    fn cgroup_of_self_matches_its_directory() {
        // Needs cgroup v2 mounted, which every supported system has.
        let mount = cgroup2_mount().expect("cgroup v2 mounted");
        let id = cgroup_id_of_pid(std::process::id()).expect("own cgroup");
        let root = cgroup_id(mount.to_str().unwrap()).unwrap();
        assert!(id >= root);
    }
}
