//! Which places of a chain are held, and whether their tools are still
//! there: a memory file the first tool creates and hands out with the
//! chain. A tool holding a place marks it there and keeps a lock on its
//! bytes, through an open file of its own, for as long as it holds it; the
//! kernel drops the lock when the tool's process ends, however it ends.
//! While the first tool runs, it empties the place of a tool whose
//! connection closes; after it has gone, the tools left look here for
//! marked places nobody locks (their tools were killed) and empty them.
//!
//! Locks rather than process ids: tools in one network namespace share a
//! chain, but may live in different pid or time namespaces, where a
//! process id (or start time) names another process or none.

use std::{
    fs::File,
    io,
    os::{
        fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd},
        unix::fs::FileExt,
    },
};

use super::SLOTS;

/// Bytes a place takes: the holder's pid (for `--verbose` and debugging;
/// 0 for none) and padding.
const ENTRY: u64 = 8;

pub struct Registry {
    /// The file as handed out: what the places say.
    shared: File,
    /// The same file opened again: this tool's locks, which other tools'
    /// opens of it see.
    own: File,
}

impl Registry {
    /// A new registry with no place held.
    pub fn create() -> io::Result<Registry> {
        // Through syscall(2): libc's wrapper needs glibc 2.27.
        // SAFETY: a NUL-terminated name; the descriptor is new and ours.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_memfd_create,
                c"ebpftop-hub-places".as_ptr(),
                libc::MFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd as i32) });
        file.set_len(u64::from(SLOTS) * ENTRY)?;
        Registry::from_fd(file.into())
    }

    /// The registry behind `fd`, as the first tool handed it out.
    pub fn from_fd(fd: OwnedFd) -> io::Result<Registry> {
        let shared = File::from(fd);
        // A new open file (not a copy of the descriptor), whose locks
        // conflict with those of every other tool's.
        let own = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(format!("/proc/self/fd/{}", shared.as_raw_fd()))?;
        Ok(Registry { shared, own })
    }

    /// The file to hand out.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.shared.as_fd()
    }

    /// Marks `place` as this tool's, and locks it while the tool runs.
    pub fn hold(&self, place: u32) -> io::Result<()> {
        self.lock(place, libc::F_OFD_SETLK, libc::F_WRLCK)?;
        let pid = u64::from(std::process::id());
        if let Err(e) = self.shared.write_all_at(&pid.to_ne_bytes(), offset(place)) {
            let _ = self.lock(place, libc::F_OFD_SETLK, libc::F_UNLCK);
            return Err(e);
        }
        Ok(())
    }

    /// Unmarks `place`, and unlocks it if it was this tool's.
    pub fn release(&self, place: u32) {
        let _ = self
            .shared
            .write_all_at(&[0; ENTRY as usize], offset(place));
        let _ = self.lock(place, libc::F_OFD_SETLK, libc::F_UNLCK);
    }

    /// The places marked held that no tool locks, by the pid that marked
    /// them; a place that cannot be checked is left out. Locks taken
    /// through this registry do not count: look through one that holds
    /// none.
    pub fn unlocked(&self) -> Vec<(u32, u32)> {
        let mut all = [0u8; (SLOTS as u64 * ENTRY) as usize];
        if self.shared.read_exact_at(&mut all, 0).is_err() {
            return Vec::new();
        }
        (0..SLOTS)
            .filter_map(|place| {
                let at = offset(place) as usize;
                let pid = u64::from_ne_bytes(all[at..][..8].try_into().expect("8 bytes"));
                let test = self.lock(place, libc::F_OFD_GETLK, libc::F_WRLCK);
                // F_UNLCK: a write lock could be taken, so no one holds one.
                let free = test.is_ok_and(|l| i32::from(l.l_type) == libc::F_UNLCK);
                (pid != 0 && free).then_some((place, pid as u32))
            })
            .collect()
    }

    /// `cmd` (set or test) for a lock of `kind` on `place`'s bytes,
    /// through this tool's own open file.
    fn lock(&self, place: u32, cmd: libc::c_int, kind: libc::c_int) -> io::Result<libc::flock> {
        // SAFETY: plain data, all zeros valid (l_pid must be 0 for OFD locks).
        let mut l: libc::flock = unsafe { std::mem::zeroed() };
        l.l_type = kind as _;
        l.l_whence = libc::SEEK_SET as _;
        l.l_start = offset(place) as _;
        l.l_len = ENTRY as _;
        // SAFETY: a valid flock for a descriptor we own.
        if unsafe { libc::fcntl(self.own.as_raw_fd(), cmd, &raw mut l) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(l)
    }
}

fn offset(place: u32) -> u64 {
    u64::from(place) * ENTRY
}

/// What a tool left in a chain watches for after the first tool has gone:
/// places whose tool has gone too. A place counts as abandoned only when
/// two looks in a row find it so, marked by the same pid: a look that
/// raced a tool leaving or entering does no harm.
#[derive(Default)]
pub struct Caretaker {
    seen: Vec<(u32, u32)>,
}

impl Caretaker {
    /// The places, other than `own`, that `unlocked` (this look's
    /// [`Registry::unlocked`]) shows abandoned, with the pid that held each.
    pub fn abandoned(&mut self, own: u32, unlocked: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
        let now: Vec<(u32, u32)> = unlocked.into_iter().filter(|&(p, _)| p != own).collect();
        let out = now
            .iter()
            .filter(|p| self.seen.contains(p))
            .copied()
            .collect();
        self.seen = now;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_place_is_locked_and_a_released_one_is_not_marked() {
        let first = Registry::create().unwrap();
        // Other tools: the file handed over, opened again. The watcher
        // holds nothing, as a tool's watch thread does.
        let open = || Registry::from_fd(first.fd().try_clone_to_owned().unwrap()).unwrap();
        let (other, watcher) = (open(), open());
        assert_eq!(watcher.unlocked(), []);
        first.hold(0).unwrap();
        other.hold(3).unwrap();
        assert_eq!(watcher.unlocked(), [], "both places are locked");
        // The other tool gone without releasing: its open files closed.
        drop(other);
        let pid = std::process::id();
        assert_eq!(watcher.unlocked(), [(3, pid)]);
        first.release(3);
        assert_eq!(watcher.unlocked(), []);
        // A tool's own locks do not count for its own looks.
        assert_eq!(first.unlocked(), [(0, pid)]);
        first.release(0);
        assert_eq!(watcher.unlocked(), []);
    }

    #[test]
    fn a_place_is_abandoned_when_seen_so_twice() {
        let mut c = Caretaker::default();
        assert_eq!(
            c.abandoned(2, vec![(0, 10), (2, 12)]),
            [],
            "once is not enough"
        );
        // Its own place never is.
        assert_eq!(c.abandoned(2, vec![(0, 10), (2, 12)]), [(0, 10)]);
        // Marked by another tool between looks: looked at again.
        assert_eq!(c.abandoned(2, vec![(0, 11)]), []);
        assert_eq!(c.abandoned(2, vec![(0, 11)]), [(0, 11)]);
        assert_eq!(c.abandoned(2, vec![]), []);
    }
}
