//! In-flight records keyed by a kernel address (a socket), in an array
//! map instead of a hash map.
//!
//! A hash map insert and delete cost several kernel calls each (bucket
//! lock, free-list pop and push); on kernels where every return is a
//! thunk (SRSO "Safe RET") that made up a third of a TCP tool's cost. An
//! array lookup is inlined by the verifier, so a slot here costs a
//! multiply, a few loads and one compare-and-swap.
//!
//! A key hashes to a slot and may sit in any of the [`WAYS`] after it. A
//! slot is claimed by swapping its key from 0, and freed by swapping it
//! back once its value has been copied out, so two CPUs never share one.
//! Compare-and-swap needs BPF atomics (Linux 5.12); the tools keep a
//! hash-map variant of each program for older kernels ([`InFlight`]).

use core::intrinsics::{AtomicOrdering::SeqCst, atomic_cxchg};

use aya_ebpf::maps::{Array, HashMap};

/// How many slots after its own a key may be placed in.
pub const WAYS: u32 = 8;

/// One slot: its key (0 when free) and the value kept for it.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Slot<V> {
    pub key: u64,
    pub value: V,
}

/// A table of `2^bits` slots in `map`, which must have that many entries.
pub struct Slots<V: 'static> {
    pub map: &'static Array<Slot<V>>,
    pub bits: u32,
}

impl<V: Copy> Slots<V> {
    #[inline(always)]
    fn home(&self, key: u64) -> u32 {
        // Fibonacci hashing: socket addresses differ mostly in their
        // middle bits, which the multiply spreads into the top ones.
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as u32
    }

    #[inline(always)]
    fn slot(&self, i: u32) -> Option<*mut Slot<V>> {
        self.map.get_ptr_mut(i & ((1 << self.bits) - 1))
    }

    /// Stores `value` for `key` (nonzero), replacing what was kept for it.
    /// False when all its slots are taken.
    #[inline(always)]
    pub fn put(&self, key: u64, value: V) -> bool {
        let home = self.home(key);
        let mut i = 0;
        while i < WAYS {
            let Some(p) = self.slot(home + i) else {
                return false;
            };
            // SAFETY: an array map slot lives as long as the map; its key
            // is changed only by compare-and-swap.
            let (current, _) = unsafe { cas(&raw mut (*p).key, 0, key) };
            // A key already here is a socket whose end we never saw
            // (freed and reused at the same address): its slot is ours.
            if current == 0 || current == key {
                // SAFETY: the slot is ours until we free it.
                unsafe { (*p).value = value };
                return true;
            }
            i += 1;
        }
        false
    }

    /// The slot holding `key`.
    #[inline(always)]
    fn find(&self, key: u64) -> Option<*mut Slot<V>> {
        let home = self.home(key);
        let mut i = 0;
        while i < WAYS {
            let p = self.slot(home + i)?;
            // SAFETY: see `put`.
            if unsafe { core::ptr::read_volatile(&raw const (*p).key) } == key {
                return Some(p);
            }
            i += 1;
        }
        None
    }

    /// The value kept for `key`, to update in place; only for the context
    /// that owns the key (its socket is locked or being changed).
    #[inline(always)]
    pub fn get_mut(&self, key: u64) -> Option<&'static mut V> {
        // SAFETY: the value is only touched by its key's owner.
        self.find(key).map(|p| unsafe { &mut (*p).value })
    }

    /// Takes the value kept for `key` out of the table.
    #[inline(always)]
    pub fn take(&self, key: u64) -> Option<V> {
        let p = self.find(key)?;
        // SAFETY: see `put`.
        unsafe {
            let value = (*p).value;
            // Freed only after the copy (a full barrier): a CPU that claims
            // the slot next cannot overwrite what we read.
            cas(&raw mut (*p).key, key, 0).1.then_some(value)
        }
    }
}

/// Atomically replaces `*p` with `new` if it is `old`: (what it was,
/// whether it was replaced).
///
/// # Safety
/// `p` must be valid and only ever written atomically.
#[inline(always)]
unsafe fn cas(p: *mut u64, old: u64, new: u64) -> (u64, bool) {
    unsafe { atomic_cxchg::<u64, { SeqCst }, { SeqCst }>(p, old, new) }
}

/// Where a program keeps a record per socket from one event to a later
/// one: [`Slots`], or a hash map for kernels without BPF atomics.
pub trait InFlight<V> {
    /// Stores `value` for `key`; false when there is no room.
    fn put(&self, key: u64, value: V) -> bool;
    /// The value kept for `key`, to update in place (see [`Slots::get_mut`]).
    fn get_mut(&self, key: u64) -> Option<&'static mut V>;
    /// Takes the value kept for `key` out.
    fn take(&self, key: u64) -> Option<V>;
}

impl<V, T: InFlight<V>> InFlight<V> for &T {
    #[inline(always)]
    fn put(&self, key: u64, value: V) -> bool {
        (**self).put(key, value)
    }
    #[inline(always)]
    fn get_mut(&self, key: u64) -> Option<&'static mut V> {
        (**self).get_mut(key)
    }
    #[inline(always)]
    fn take(&self, key: u64) -> Option<V> {
        (**self).take(key)
    }
}

impl<V: Copy> InFlight<V> for Slots<V> {
    #[inline(always)]
    fn put(&self, key: u64, value: V) -> bool {
        Slots::put(self, key, value)
    }
    #[inline(always)]
    fn get_mut(&self, key: u64) -> Option<&'static mut V> {
        Slots::get_mut(self, key)
    }
    #[inline(always)]
    fn take(&self, key: u64) -> Option<V> {
        Slots::take(self, key)
    }
}

impl<V: Copy + 'static> InFlight<V> for HashMap<u64, V> {
    #[inline(always)]
    fn put(&self, key: u64, value: V) -> bool {
        self.insert(key, value, 0).is_ok()
    }
    #[inline(always)]
    fn get_mut(&self, key: u64) -> Option<&'static mut V> {
        // SAFETY: an entry lives until deleted, and only its key's owner
        // deletes it.
        self.get_ptr_mut(key).map(|p| unsafe { &mut *p })
    }
    #[inline(always)]
    fn take(&self, key: u64) -> Option<V> {
        // SAFETY: copied out before the entry is removed.
        let value = unsafe { self.get(key) }.copied()?;
        let _ = self.remove(key);
        Some(value)
    }
}

/// Declares the tables of in-flight records `$v` that a tool's programs
/// choose between: `$slots`, a [`Slots`] of `2^$bits` entries (array map
/// `$array`), and `$hash`, a hash map of as many for kernels without BPF
/// atomics. The hash map allocates as it is used: where the kernel has
/// atomics it stays empty.
#[macro_export]
macro_rules! in_flight_tables {
    ($array:ident => $slots:ident, $hash:ident: $v:ty, $bits:expr) => {
        #[aya_ebpf::macros::map]
        static $array: aya_ebpf::maps::Array<$crate::slots::Slot<$v>> =
            aya_ebpf::maps::Array::with_max_entries(1 << $bits, 0);
        static $slots: $crate::slots::Slots<$v> = $crate::slots::Slots {
            map: &$array,
            bits: $bits,
        };
        #[aya_ebpf::macros::map]
        static $hash: aya_ebpf::maps::HashMap<u64, $v> = aya_ebpf::maps::HashMap::with_max_entries(
            1 << $bits,
            aya_ebpf::bindings::BPF_F_NO_PREALLOC,
        );
    };
}
