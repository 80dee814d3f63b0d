//! Pairs each exec's entry record with its exit record.
//!
//! The kernel writes the entry record before the exit record, so in the
//! ring buffer an exit follows its entry. The exit comes from the same
//! thread, except after a successful exec by a thread other than the
//! leader: it returns as the leader, with the leader's thread id (the
//! process id), so an exit that finds no entry of its thread takes the
//! process's.

use std::collections::HashMap;

/// An entry record waiting for its exit.
#[derive(Debug, PartialEq, Eq)]
pub struct Pending {
    pub tid: u32,
    pub pid: u32,
    /// The entry's kernel timestamp (CLOCK_MONOTONIC ns).
    pub ts_ns: u64,
    pub record: Vec<u8>,
}

#[derive(Default)]
pub struct Pairs {
    by_tid: HashMap<u32, Pending>,
}

impl Pairs {
    /// Holds `p` for its exit. Returns an older entry of the same thread,
    /// whose exit never came (its record was lost): it is done waiting.
    pub fn entry(&mut self, p: Pending) -> Option<Pending> {
        self.by_tid.insert(p.tid, p)
    }

    /// The entry an exit by thread `tid` of process `pid` finishes.
    pub fn exit(&mut self, tid: u32, pid: u32) -> Option<Pending> {
        if let Some(p) = self.by_tid.remove(&tid) {
            return Some(p);
        }
        let tid = self
            .by_tid
            .values()
            .filter(|p| p.pid == pid)
            .max_by_key(|p| p.ts_ns)?
            .tid;
        self.by_tid.remove(&tid)
    }

    /// Entries that entered before `before_ns`, oldest first: their exits
    /// are not coming.
    pub fn expired(&mut self, before_ns: u64) -> Vec<Pending> {
        let old: Vec<u32> = self
            .by_tid
            .values()
            .filter(|p| p.ts_ns < before_ns)
            .map(|p| p.tid)
            .collect();
        let mut out: Vec<Pending> = old.iter().filter_map(|t| self.by_tid.remove(t)).collect();
        out.sort_by_key(|p| p.ts_ns);
        out
    }

    /// Every entry still waiting, oldest first.
    pub fn drain(&mut self) -> Vec<Pending> {
        self.expired(u64::MAX)
    }

    pub fn len(&self) -> usize {
        self.by_tid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_tid.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(tid: u32, pid: u32, ts_ns: u64) -> Pending {
        Pending {
            tid,
            pid,
            ts_ns,
            record: vec![tid as u8],
        }
    }

    #[test]
    fn pairs_by_thread() {
        let mut pairs = Pairs::default();
        assert!(pairs.entry(p(10, 10, 1)).is_none());
        assert!(pairs.entry(p(11, 11, 2)).is_none());
        assert_eq!(pairs.exit(11, 11), Some(p(11, 11, 2)));
        assert_eq!(pairs.exit(10, 10), Some(p(10, 10, 1)));
        assert!(pairs.exit(10, 10).is_none());
        assert!(pairs.is_empty());
    }

    #[test]
    fn a_thread_exec_returns_as_the_leader() {
        let mut pairs = Pairs::default();
        pairs.entry(p(21, 20, 5));
        pairs.entry(p(30, 30, 6));
        assert_eq!(pairs.exit(20, 20), Some(p(21, 20, 5)));
        assert_eq!(pairs.len(), 1);
        assert!(pairs.exit(40, 40).is_none());
    }

    #[test]
    fn unpaired_entries_expire_oldest_first() {
        let mut pairs = Pairs::default();
        pairs.entry(p(3, 3, 30));
        pairs.entry(p(1, 1, 10));
        pairs.entry(p(2, 2, 20));
        assert_eq!(pairs.expired(25), vec![p(1, 1, 10), p(2, 2, 20)]);
        assert_eq!(pairs.drain(), vec![p(3, 3, 30)]);
        // A second entry of a thread replaces the first, handed back.
        pairs.entry(p(4, 4, 1));
        assert_eq!(pairs.entry(p(4, 4, 2)), Some(p(4, 4, 1)));
    }
}
