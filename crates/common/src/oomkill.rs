//! oomkill: OOM kills, from `oom:mark_victim`.

use crate::EventHeader;

/// Bytes of the `oom:mark_victim` record copied into an event: its fixed
/// part (72 bytes on Linux 6.18) and the victim's name stored after it.
/// User space decodes the copy with the offsets of the running kernel's
/// format file, so the program needs no layout of its own.
pub const RECORD_COPY: usize = 160;

/// One OOM kill: the task that was running when the victim was chosen
/// (usually the one whose allocation failed) and the raw record.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OomEvent {
    /// The current task at `mark_victim`: the OOM's trigger.
    pub header: EventHeader,
    /// Bytes of `record` the copy could read (0 when it failed).
    pub record_len: u32,
    pub _pad: u32,
    pub record: [u8; RECORD_COPY],
}
