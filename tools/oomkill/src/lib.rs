//! oomkill: the kernel object and its hook, the command line, and the
//! decoding of `oom:mark_victim` records into Rust values. A library, so
//! that `cargo xtask docs` can generate the man page and the `ebpftop`
//! dashboard can run the same program.

pub mod cli;

use ebpftop_common::{
    COMM_LEN,
    oomkill::{OomEvent, RECORD_COPY},
};
use ebpftop_runtime::{
    AttachPoint, Candidate, Hook, ToolObject, embedded_object,
    tracefs::{self, Field},
};

pub const TRACEPOINT: (&str, &str) = ("oom", "mark_victim");

static HOOKS: &[Hook] = &[Hook {
    name: "OOM victim",
    candidates: &[Candidate {
        program: "oom_mark_victim",
        at: AttachPoint::Tracepoint {
            category: TRACEPOINT.0,
            name: TRACEPOINT.1,
        },
    }],
    required: true,
    shared: false,
}];

pub static OBJECT: ToolObject = ToolObject {
    tool: "oomkill",
    bytes: embedded_object!("oomkill"),
    hooks: HOOKS,
};

/// Where the running kernel's `mark_victim` record keeps each field it
/// has (from its format file; older kernels have `pid` only).
#[derive(Clone, Debug, Default)]
pub struct VictimLayout {
    pub pid: Option<Field>,
    pub comm: Option<Field>,
    pub total_vm: Option<Field>,
    pub anon_rss: Option<Field>,
    pub file_rss: Option<Field>,
    pub shmem_rss: Option<Field>,
    pub uid: Option<Field>,
    pub pgtables: Option<Field>,
    pub oom_score_adj: Option<Field>,
}

impl VictimLayout {
    /// The running kernel's layout.
    pub fn load() -> Result<VictimLayout, ebpftop_runtime::Error> {
        let l = VictimLayout::from_fields(tracefs::format(TRACEPOINT.0, TRACEPOINT.1)?);
        if l.pid.is_none() {
            return Err(ebpftop_runtime::Error::Layout(
                "oom:mark_victim: no field pid".into(),
            ));
        }
        Ok(l)
    }

    pub fn from_fields(fields: Vec<Field>) -> VictimLayout {
        let mut l = VictimLayout::default();
        for f in fields {
            // Fields the copy does not reach are as good as absent.
            if f.offset + f.size > RECORD_COPY {
                continue;
            }
            let slot = match field_name(&f.decl) {
                "pid" => &mut l.pid,
                "comm" => &mut l.comm,
                "total_vm" => &mut l.total_vm,
                "anon_rss" => &mut l.anon_rss,
                "file_rss" => &mut l.file_rss,
                "shmem_rss" => &mut l.shmem_rss,
                "uid" => &mut l.uid,
                "pgtables" => &mut l.pgtables,
                "oom_score_adj" => &mut l.oom_score_adj,
                _ => continue,
            };
            *slot = Some(f);
        }
        l
    }
}

/// A format file field's name: the last word of its declaration, without
/// an array suffix (`char comm[16]`, `__data_loc char[] comm`: `comm`).
/// `tracefs::Field::name` takes the word before the first `[`, which for
/// a `__data_loc char[]` field is `char`.
pub fn field_name(decl: &str) -> &str {
    let last = decl.rsplit(' ').next().unwrap_or(decl);
    last.split('[').next().unwrap_or(last)
}

/// One OOM kill, decoded. Memory is in kB, as the tracepoint reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OomKill {
    /// `bpf_ktime_get_ns()` (CLOCK_MONOTONIC) at the kill.
    pub ts_ns: u64,
    /// The task running when the victim was chosen.
    pub trigger_pid: u32,
    pub trigger_tid: u32,
    pub trigger_comm: [u8; COMM_LEN],
    pub trigger_uid: u32,
    pub trigger_cgroup_id: u64,
    /// The victim's process id (`None` only when the record could not be read).
    pub victim_pid: Option<u32>,
    pub victim_comm: Option<String>,
    pub total_vm_kb: Option<u64>,
    pub anon_rss_kb: Option<u64>,
    pub file_rss_kb: Option<u64>,
    pub shmem_rss_kb: Option<u64>,
    pub victim_uid: Option<u32>,
    pub pgtables_kb: Option<u64>,
    pub oom_score_adj: Option<i16>,
}

/// An unsigned field of `size` bytes at `offset`, if inside `rec`.
fn unsigned(rec: &[u8], f: &Option<Field>) -> Option<u64> {
    let f = f.as_ref()?;
    let b = rec.get(f.offset..f.offset + f.size)?;
    Some(match f.size {
        1 => u64::from(b[0]),
        2 => u64::from(u16::from_ne_bytes(b.try_into().ok()?)),
        4 => u64::from(u32::from_ne_bytes(b.try_into().ok()?)),
        8 => u64::from_ne_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// A `__data_loc char[]` field: a u32 whose low half is the string's
/// offset in the record and high half its length (NUL included).
fn data_loc_str(rec: &[u8], f: &Option<Field>) -> Option<String> {
    let loc = unsigned(rec, f)? as u32;
    let (off, len) = ((loc & 0xffff) as usize, (loc >> 16) as usize);
    let b = rec.get(off..off + len)?;
    let b = b.split(|&c| c == 0).next().unwrap_or(b);
    Some(String::from_utf8_lossy(b).into_owned())
}

/// Decodes a ring buffer record; `None` when it is too short.
pub fn decode(data: &[u8], layout: &VictimLayout) -> Option<OomKill> {
    let e: OomEvent = ebpftop_runtime::read_record(data)?;
    let h = e.header;
    let rec: &[u8] = &e.record[..(e.record_len as usize).min(RECORD_COPY)];
    Some(OomKill {
        ts_ns: h.ts_ns,
        trigger_pid: h.pid,
        trigger_tid: h.tid,
        trigger_comm: h.comm,
        trigger_uid: h.uid,
        trigger_cgroup_id: h.cgroup_id,
        victim_pid: unsigned(rec, &layout.pid).map(|v| v as u32),
        victim_comm: data_loc_str(rec, &layout.comm).or_else(|| {
            // Older kernels: a fixed `char comm[16]`.
            let f = layout.comm.as_ref()?;
            if f.size == 4 {
                return None;
            }
            let b = rec.get(f.offset..f.offset + f.size)?;
            let b = b.split(|&c| c == 0).next().unwrap_or(b);
            Some(String::from_utf8_lossy(b).into_owned())
        }),
        total_vm_kb: unsigned(rec, &layout.total_vm),
        anon_rss_kb: unsigned(rec, &layout.anon_rss),
        file_rss_kb: unsigned(rec, &layout.file_rss),
        shmem_rss_kb: unsigned(rec, &layout.shmem_rss),
        victim_uid: unsigned(rec, &layout.uid).map(|v| v as u32),
        pgtables_kb: unsigned(rec, &layout.pgtables),
        oom_score_adj: unsigned(rec, &layout.oom_score_adj).map(|v| v as u16 as i16),
    })
}

impl OomKill {
    /// The victim's total virtual memory in pages of `page_size` bytes.
    pub fn pages(&self, page_size: u64) -> Option<u64> {
        Some(self.total_vm_kb? * 1024 / page_size.max(1))
    }
}

#[cfg(test)]
mod tests {
    use ebpftop_common::EventHeader;

    use super::*;

    const FORMAT: &str = "name: mark_victim
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;
\tfield:__data_loc char[] comm;\toffset:12;\tsize:4;\tsigned:0;
\tfield:unsigned long total_vm;\toffset:16;\tsize:8;\tsigned:0;
\tfield:unsigned long anon_rss;\toffset:24;\tsize:8;\tsigned:0;
\tfield:unsigned long file_rss;\toffset:32;\tsize:8;\tsigned:0;
\tfield:unsigned long shmem_rss;\toffset:40;\tsize:8;\tsigned:0;
\tfield:uid_t uid;\toffset:48;\tsize:4;\tsigned:0;
\tfield:unsigned long pgtables;\toffset:56;\tsize:8;\tsigned:0;
\tfield:short oom_score_adj;\toffset:64;\tsize:2;\tsigned:1;
";

    fn event(rec: &[u8]) -> Vec<u8> {
        let mut e = OomEvent {
            header: EventHeader {
                ts_ns: 5,
                cgroup_id: 9,
                pid: 100,
                tid: 101,
                uid: 0,
                gid: 0,
                comm: *b"alloc\0\0\0\0\0\0\0\0\0\0\0",
            },
            record_len: RECORD_COPY as u32,
            _pad: 0,
            record: [0; RECORD_COPY],
        };
        e.record[..rec.len()].copy_from_slice(rec);
        // SAFETY: plain #[repr(C)] data viewed as bytes.
        unsafe {
            std::slice::from_raw_parts((&raw const e).cast::<u8>(), size_of::<OomEvent>()).to_vec()
        }
    }

    #[test]
    fn decodes_the_6_18_record() {
        let layout = VictimLayout::from_fields(tracefs::parse_format(FORMAT));
        let mut rec = vec![0u8; 80];
        rec[8..12].copy_from_slice(&456i32.to_ne_bytes());
        // "hog\0" at 72, 4 bytes.
        rec[12..16].copy_from_slice(&((4u32 << 16) | 72).to_ne_bytes());
        rec[72..76].copy_from_slice(b"hog\0");
        rec[16..24].copy_from_slice(&262_144u64.to_ne_bytes());
        rec[24..32].copy_from_slice(&32_000u64.to_ne_bytes());
        rec[48..52].copy_from_slice(&1000u32.to_ne_bytes());
        rec[64..66].copy_from_slice(&(-17i16).to_ne_bytes());
        let k = decode(&event(&rec), &layout).unwrap();
        assert_eq!((k.trigger_pid, k.trigger_tid), (100, 101));
        assert_eq!(k.victim_pid, Some(456));
        assert_eq!(k.victim_comm.as_deref(), Some("hog"));
        assert_eq!(
            (k.total_vm_kb, k.anon_rss_kb),
            (Some(262_144), Some(32_000))
        );
        assert_eq!(k.victim_uid, Some(1000));
        assert_eq!(k.oom_score_adj, Some(-17));
        assert_eq!(k.pages(4096), Some(65_536));
        assert!(decode(&[0u8; 10], &layout).is_none());
    }

    #[test]
    fn field_names() {
        assert_eq!(field_name("__data_loc char[] comm"), "comm");
        assert_eq!(field_name("char comm[16]"), "comm");
        assert_eq!(field_name("unsigned long total_vm"), "total_vm");
    }

    #[test]
    fn pid_only_kernels() {
        let layout = VictimLayout::from_fields(tracefs::parse_format(
            "\tfield:int pid;\toffset:8;\tsize:4;\tsigned:1;\n",
        ));
        let mut rec = vec![0u8; 16];
        rec[8..12].copy_from_slice(&77i32.to_ne_bytes());
        let k = decode(&event(&rec), &layout).unwrap();
        assert_eq!(k.victim_pid, Some(77));
        assert_eq!((k.victim_comm, k.total_vm_kb), (None, None));
    }
}
