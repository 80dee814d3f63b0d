//! Who holds each place of a chain: a process id and that process's start
//! time per place, in a memory file the first tool creates and hands out
//! with the chain. While the first tool runs, it empties the place of a
//! tool whose connection closes; after it has gone, the tools left look
//! here for places whose tool is gone (killed) and empty them.

use std::{
    fs::File,
    io,
    os::{
        fd::{AsFd, BorrowedFd, FromRawFd, OwnedFd},
        unix::fs::FileExt,
    },
};

use super::SLOTS;

/// Bytes a place takes: pid (u32), 4 bytes of padding, start time (u64).
const ENTRY: u64 = 16;

/// A process, as a place records it: its id and its start time (clock
/// ticks after boot), which a later process with the same id lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub start: u64,
}

impl Holder {
    /// This process.
    pub fn me() -> io::Result<Holder> {
        let pid = std::process::id();
        let start =
            start_time(pid).ok_or_else(|| io::Error::other("no start time in /proc/self/stat"))?;
        Ok(Holder { pid, start })
    }

    /// Whether the process is still there.
    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}

/// The start time of process `pid` (field 22 of /proc/PID/stat), or
/// `None` if there is no such process.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces and parentheses:
    // the fields that follow start after its last ')'. Field 3 comes
    // first there, so field 22 is the 20th.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

pub struct Registry(File);

impl Registry {
    /// A new, empty registry.
    pub fn create() -> io::Result<Registry> {
        // SAFETY: a NUL-terminated name; the descriptor is new and ours.
        let fd = unsafe { libc::memfd_create(c"ebpftop-hub-places".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        file.set_len(u64::from(SLOTS) * ENTRY)?;
        Ok(Registry(file))
    }

    /// The registry behind `fd`, as the first tool handed it out.
    pub fn from_fd(fd: OwnedFd) -> Registry {
        Registry(File::from(fd))
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }

    /// Records `holder` at `place`.
    pub fn set(&self, place: u32, holder: Holder) -> io::Result<()> {
        let mut entry = [0u8; ENTRY as usize];
        entry[..4].copy_from_slice(&holder.pid.to_ne_bytes());
        entry[8..].copy_from_slice(&holder.start.to_ne_bytes());
        self.0.write_all_at(&entry, u64::from(place) * ENTRY)
    }

    /// Forgets `place`'s holder.
    pub fn clear(&self, place: u32) {
        let _ = self
            .0
            .write_all_at(&[0; ENTRY as usize], u64::from(place) * ENTRY);
    }

    /// Each place's holder, if it has one.
    pub fn holders(&self) -> [Option<Holder>; SLOTS as usize] {
        let mut all = [0u8; (SLOTS as u64 * ENTRY) as usize];
        if self.0.read_exact_at(&mut all, 0).is_err() {
            return [None; SLOTS as usize];
        }
        std::array::from_fn(|i| {
            let e = &all[i * ENTRY as usize..][..ENTRY as usize];
            let pid = u32::from_ne_bytes(e[..4].try_into().expect("4 bytes"));
            let start = u64::from_ne_bytes(e[8..].try_into().expect("8 bytes"));
            (pid != 0).then_some(Holder { pid, start })
        })
    }
}

/// What a tool left in a chain watches for after the first tool has gone:
/// places whose holder has gone too. A place counts as abandoned only when
/// two looks in a row find the same holder gone, so a look that raced a
/// write (reads and writes of the registry are not atomic) does no harm.
#[derive(Default)]
pub struct Caretaker {
    gone: [Option<Holder>; SLOTS as usize],
}

impl Caretaker {
    /// The places, other than `own`, that `holders` says are abandoned.
    pub fn abandoned(&mut self, own: u32, holders: [Option<Holder>; SLOTS as usize]) -> Vec<u32> {
        let mut out = Vec::new();
        for (place, holder) in holders.into_iter().enumerate() {
            let gone = holder.filter(|h| place as u32 != own && !h.alive());
            if gone.is_some() && gone == self.gone[place] {
                out.push(place as u32);
            }
            self.gone[place] = gone;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_record_their_holders() {
        let r = Registry::create().unwrap();
        assert_eq!(r.holders(), [None; SLOTS as usize]);
        let me = Holder::me().unwrap();
        assert!(me.alive());
        r.set(3, me).unwrap();
        let shared = Registry::from_fd(r.fd().try_clone_to_owned().unwrap());
        assert_eq!(shared.holders()[3], Some(me));
        shared.clear(3);
        assert_eq!(r.holders()[3], None);
    }

    #[test]
    fn a_place_is_abandoned_when_its_holder_is_seen_gone_twice() {
        let me = Holder::me().unwrap();
        // The same pid, started at another time: another process.
        let gone = Holder {
            pid: me.pid,
            start: me.start + 1,
        };
        assert!(!gone.alive());
        let mut holders = [None; SLOTS as usize];
        holders[0] = Some(gone);
        holders[1] = Some(me);
        holders[2] = Some(gone);
        let mut c = Caretaker::default();
        assert_eq!(
            c.abandoned(2, holders),
            Vec::<u32>::new(),
            "once is not enough"
        );
        // Its own place is never abandoned, a live holder's neither.
        assert_eq!(c.abandoned(2, holders), [0]);
        // A holder that changed between looks is looked at again.
        holders[0] = Some(Holder {
            start: me.start + 2,
            ..gone
        });
        assert_eq!(c.abandoned(2, holders), Vec::<u32>::new());
        assert_eq!(c.abandoned(2, holders), [0]);
    }

    #[test]
    fn a_process_start_time_is_read_past_a_name_with_parentheses() {
        let me = std::process::id();
        let stat = std::fs::read_to_string(format!("/proc/{me}/stat")).unwrap();
        let fields: Vec<&str> = stat.split_whitespace().collect();
        // This test binary's name has no spaces: field 22 is plain to see.
        assert_eq!(start_time(me), fields[21].parse().ok());
        assert_eq!(start_time(u32::MAX), None);
    }
}
