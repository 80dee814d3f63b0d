//! Kernel BTF: struct member offsets of the running kernel.
//!
//! Rust eBPF programs cannot emit CO-RE relocations, so the user-space half
//! resolves the offsets it needs here at start-up and hands them to the
//! programs as read-only globals. Only that is parsed: one pass over the raw
//! BTF (Documentation/bpf/btf.rst) records where each type starts, and
//! members are decoded only when looked up, which keeps start-up cheap on a
//! ~5 MB, 100k+ type vmlinux BTF.

use std::ops::Range;

const VMLINUX: &str = "/sys/kernel/btf/vmlinux";
const MAGIC: u16 = 0xeb9f;
const HEADER_LEN: usize = 24;
const TYPE_LEN: usize = 12;

// Kinds, from include/uapi/linux/btf.h.
const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// Bounds chains of typedefs/qualifiers and nesting of anonymous members, so
/// corrupt (cyclic) BTF gives an error instead of a hang or a stack overflow.
const MAX_DEPTH: u32 = 32;

#[derive(Debug, thiserror::Error)]
pub enum BtfError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "bad BTF magic {0:#06x}: expected 0xeb9f (only BTF in this machine's byte order is supported)"
    )]
    BadMagic(u16),
    #[error("malformed BTF: {0}")]
    Malformed(String),
    #[error("unsupported BTF kind {kind} (type id {id}); this parser knows kinds up to ENUM64")]
    UnknownKind { kind: u32, id: u32 },
    #[error("kernel BTF has no struct {0}")]
    NoStruct(String),
    #[error("struct {ty} has no member {path}")]
    NoMember { ty: String, path: String },
    #[error("struct {ty} member {prefix} is not a struct or union, so {path} cannot be resolved")]
    NotComposite {
        ty: String,
        prefix: String,
        path: String,
    },
}

/// Where a member lives inside its outermost struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Byte offset; for a bitfield, the byte holding its first bit.
    pub offset: u32,
    /// Byte size of the member's type after typedefs and qualifiers (for a
    /// bitfield, of its declared base type).
    pub size: u32,
    /// `(bit offset in the whole struct, bit size)` when the member is a bitfield.
    pub bitfield: Option<(u32, u32)>,
}

/// The raw kernel BTF plus an index from type id to its byte offset.
pub struct KernelBtf {
    data: Bytes,
    strs: Range<usize>,
    /// `offsets[id - 1]` is where type `id` starts in `data` (id 0 is void).
    offsets: Vec<u32>,
    /// Ids of named structs/unions with a non-zero size: the only candidates
    /// for a name lookup, a tenth of all types.
    composites: Vec<u32>,
    /// Kernel pointer size, from the BTF's `long` (user space may differ).
    ptr_size: u32,
}

/// A decoded `struct btf_type` header.
#[derive(Clone, Copy)]
struct Ty {
    name_off: u32,
    kind: u32,
    kind_flag: bool,
    vlen: usize,
    /// `size` or `type`, depending on the kind.
    size_or_type: u32,
    /// Offset in `data` of the kind-specific data following the header.
    extra: usize,
}

/// A member found by name, relative to the struct that was searched.
struct Found {
    bits: u64,
    type_id: u32,
    /// Bitfield size from a `kind_flag` struct; 0 if none.
    bitfield_size: u32,
    /// Whether the directly enclosing struct had `kind_flag` set: if not, a
    /// bitfield is described by its INT type's encoding instead.
    kind_flag: bool,
}

fn u32_at(data: &[u8], at: usize) -> u32 {
    // Callers only read within the type headers and trailing data that
    // `parse` checked to lie inside the type section.
    u32::from_ne_bytes(data[at..at + 4].try_into().unwrap())
}

fn malformed(msg: impl Into<String>) -> BtfError {
    BtfError::Malformed(msg.into())
}

impl KernelBtf {
    /// Reads /sys/kernel/btf/vmlinux (maps it where the kernel allows).
    pub fn load() -> Result<Self, BtfError> {
        if let Some(mapping) = Mapping::vmlinux() {
            return Self::parse(Bytes::Mapped(mapping));
        }
        let data = std::fs::read(VMLINUX).map_err(|source| BtfError::Read {
            path: VMLINUX.to_string(),
            source,
        })?;
        Self::from_bytes(data)
    }

    pub fn from_bytes(data: Vec<u8>) -> Result<Self, BtfError> {
        Self::parse(Bytes::Owned(data))
    }

    fn parse(bytes: Bytes) -> Result<Self, BtfError> {
        let data: &[u8] = &bytes;
        // Type offsets are kept as u32.
        if data.len() > u32::MAX as usize {
            return Err(malformed("larger than 4 GiB"));
        }
        if data.len() < HEADER_LEN {
            return Err(malformed("shorter than a BTF header"));
        }
        let magic = u16::from_ne_bytes([data[0], data[1]]);
        if magic != MAGIC {
            return Err(BtfError::BadMagic(magic));
        }
        if data[2] != 1 {
            return Err(malformed(format!("unsupported version {}", data[2])));
        }
        let hdr_len = u32_at(data, 4) as usize;
        if hdr_len < HEADER_LEN || hdr_len > data.len() {
            return Err(malformed(format!("bad header length {hdr_len}")));
        }
        // Section offsets are relative to the end of the header.
        let section = |off: usize, name: &str| -> Result<Range<usize>, BtfError> {
            let start = hdr_len as u64 + u64::from(u32_at(data, off));
            let end = start + u64::from(u32_at(data, off + 4));
            if end > data.len() as u64 {
                return Err(malformed(format!(
                    "{name} section past the end of the data"
                )));
            }
            Ok(start as usize..end as usize)
        };
        let types = section(8, "type")?;
        let strs = section(16, "string")?;
        if strs.is_empty() || data[strs.end - 1] != 0 {
            return Err(malformed("string section is not NUL-terminated"));
        }

        // vmlinux types average ~24 bytes; over-reserving a little beats
        // regrowing a 500 KB vector several times.
        let mut offsets = Vec::with_capacity(types.len() / 20);
        let mut composites = Vec::with_capacity(types.len() / 200);
        let mut ptr_size = std::mem::size_of::<usize>() as u32;
        let mut pos = types.start;
        while pos < types.end {
            let id = offsets.len() as u32 + 1;
            if types.end - pos < TYPE_LEN {
                return Err(malformed(format!("type {id} is truncated")));
            }
            let name_off = u32_at(data, pos);
            let info = u32_at(data, pos + 4);
            let size = u32_at(data, pos + 8);
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            // Bytes after the header (btf_array, btf_member, btf_enum, ...):
            // every kind's must be known to find the next type.
            let extra = match kind {
                KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
                | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_STRUCT | KIND_UNION | KIND_DATASEC | KIND_ENUM64 => 12 * vlen,
                KIND_ENUM | KIND_FUNC_PROTO => 8 * vlen,
                _ => return Err(BtfError::UnknownKind { kind, id }),
            };
            let next = pos + TYPE_LEN + extra;
            if next > types.end {
                return Err(malformed(format!("type {id} overruns the type section")));
            }
            if name_off as usize >= strs.len() {
                return Err(malformed(format!("type {id} has a bad name offset")));
            }
            match kind {
                KIND_STRUCT | KIND_UNION if size != 0 && name_off != 0 => composites.push(id),
                // Pointers are as wide as `long` in the kernel's ABI.
                KIND_INT if str_at(data, &strs, name_off) == b"long unsigned int" => {
                    ptr_size = size
                }
                _ => {}
            }
            offsets.push(pos as u32);
            pos = next;
        }
        Ok(Self {
            data: bytes,
            strs,
            offsets,
            composites,
            ptr_size,
        })
    }

    /// Byte offset and byte size of `path` inside struct (or union)
    /// `type_name`. `path` is a member name, or a dotted path that walks into
    /// members that are structs/unions by value, such as
    /// `("sock", "__sk_common.skc_family")`. Members of anonymous
    /// structs/unions are found as in C, at their cumulative offset.
    pub fn member(&self, type_name: &str, path: &str) -> Result<Member, BtfError> {
        let mut ty = self.find_composite(type_name)?;
        let mut bits = 0u64;
        let mut found: Option<Found> = None;
        let mut walked = 0;
        for part in path.split('.') {
            if let Some(prev) = &found {
                let inner = self.ty(self.resolve(prev.type_id)?)?;
                if !matches!(inner.kind, KIND_STRUCT | KIND_UNION) {
                    return Err(BtfError::NotComposite {
                        ty: type_name.to_string(),
                        prefix: path[..walked - 1].to_string(),
                        path: path.to_string(),
                    });
                }
                ty = inner;
            }
            walked += part.len() + 1;
            let hit =
                self.find_member(ty, part.as_bytes(), 0)?
                    .ok_or_else(|| BtfError::NoMember {
                        ty: type_name.to_string(),
                        path: path.to_string(),
                    })?;
            bits += hit.bits;
            found = Some(hit);
        }
        let found = found.expect("split yields at least one part");

        let resolved = self.ty(self.resolve(found.type_id)?)?;
        let size = self.size_of(resolved, 0)?;
        let bitfield = if found.bitfield_size != 0 {
            Some((bits, found.bitfield_size))
        } else if !found.kind_flag && resolved.kind == KIND_INT {
            // Without kind_flag, a bitfield is an INT whose bit count (and
            // possibly bit offset) differs from its storage size.
            let enc = u32_at(&self.data, resolved.extra);
            let (nr_bits, int_off) = (enc & 0xff, (enc >> 16) & 0xff);
            (nr_bits != size * 8 || int_off != 0).then_some((bits + u64::from(int_off), nr_bits))
        } else {
            None
        };
        let start_bit = bitfield.map_or(bits, |(b, _)| b);
        let too_big = || malformed(format!("struct {type_name} member {path} offset overflows"));
        Ok(Member {
            offset: u32::try_from(start_bit / 8).map_err(|_| too_big())?,
            size,
            bitfield: match bitfield {
                Some((b, n)) => Some((u32::try_from(b).map_err(|_| too_big())?, n)),
                None => None,
            },
        })
    }

    /// Whether struct `type_name` exists and has member `path` (same path
    /// rules as [`member`](Self::member)), for feature probing.
    pub fn has_member(&self, type_name: &str, path: &str) -> bool {
        self.member(type_name, path).is_ok()
    }

    /// The first sized struct/union called `name`; forward declarations and
    /// empty duplicates of the name are skipped.
    fn find_composite(&self, name: &str) -> Result<Ty, BtfError> {
        for &id in &self.composites {
            let ty = self.ty(id)?;
            if self.name(ty.name_off) == name.as_bytes() {
                return Ok(ty);
            }
        }
        Err(BtfError::NoStruct(name.to_string()))
    }

    /// Searches `ty`'s members for `name`, descending into anonymous
    /// struct/union members as C name lookup does.
    fn find_member(&self, ty: Ty, name: &[u8], depth: u32) -> Result<Option<Found>, BtfError> {
        if depth > MAX_DEPTH {
            return Err(malformed("anonymous members nest too deeply"));
        }
        for i in 0..ty.vlen {
            let at = ty.extra + i * 12;
            let name_off = u32_at(&self.data, at);
            let type_id = u32_at(&self.data, at + 4);
            let raw = u32_at(&self.data, at + 8);
            let (bits, bitfield_size) = if ty.kind_flag {
                (raw & 0xff_ffff, raw >> 24)
            } else {
                (raw, 0)
            };
            if name_off != 0 {
                if self.name(name_off) == name {
                    return Ok(Some(Found {
                        bits: u64::from(bits),
                        type_id,
                        bitfield_size,
                        kind_flag: ty.kind_flag,
                    }));
                }
                continue;
            }
            let inner = self.ty(self.resolve(type_id)?)?;
            if matches!(inner.kind, KIND_STRUCT | KIND_UNION)
                && let Some(mut hit) = self.find_member(inner, name, depth + 1)?
            {
                hit.bits += u64::from(bits);
                return Ok(Some(hit));
            }
        }
        Ok(None)
    }

    /// Follows typedefs and qualifiers to the underlying type id.
    fn resolve(&self, mut id: u32) -> Result<u32, BtfError> {
        for _ in 0..MAX_DEPTH {
            let ty = self.ty(id)?;
            match ty.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = ty.size_or_type
                }
                _ => return Ok(id),
            }
        }
        Err(malformed(format!(
            "type chain through type {id} is too long"
        )))
    }

    fn size_of(&self, ty: Ty, depth: u32) -> Result<u32, BtfError> {
        match ty.kind {
            KIND_INT | KIND_ENUM | KIND_ENUM64 | KIND_STRUCT | KIND_UNION | KIND_FLOAT
            | KIND_DATASEC => Ok(ty.size_or_type),
            KIND_PTR => Ok(self.ptr_size),
            KIND_ARRAY if depth < MAX_DEPTH => {
                let elem = self.ty(self.resolve(u32_at(&self.data, ty.extra))?)?;
                let nelems = u32_at(&self.data, ty.extra + 8);
                self.size_of(elem, depth + 1)?
                    .checked_mul(nelems)
                    .ok_or_else(|| malformed("array size overflows"))
            }
            kind => Err(malformed(format!(
                "a member has kind {kind}, which has no size"
            ))),
        }
    }

    fn ty(&self, id: u32) -> Result<Ty, BtfError> {
        let pos = match id.checked_sub(1).and_then(|i| self.offsets.get(i as usize)) {
            Some(&pos) => pos as usize,
            None => return Err(malformed(format!("reference to missing type {id}"))),
        };
        let info = u32_at(&self.data, pos + 4);
        Ok(Ty {
            name_off: u32_at(&self.data, pos),
            kind: (info >> 24) & 0x1f,
            kind_flag: info >> 31 == 1,
            vlen: (info & 0xffff) as usize,
            size_or_type: u32_at(&self.data, pos + 8),
            extra: pos + TYPE_LEN,
        })
    }

    /// The name at `off`, without its NUL; empty if out of range.
    fn name(&self, off: u32) -> &[u8] {
        str_at(&self.data, &self.strs, off)
    }
}

/// The BTF bytes: mapped straight from sysfs where the kernel allows it
/// (6.16+), else read into memory. sysfs hands the file out a page per
/// read(), so reading costs ~1350 syscalls plus as many page faults on the
/// fresh buffer: ~9 ms at a tool's first start, against ~0.1 ms to map.
enum Bytes {
    Owned(Vec<u8>),
    Mapped(Mapping),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            // SAFETY: `ptr` is a live read-only mapping of `len` bytes, kept
            // until `Mapping` drops, which outlives this borrow.
            Bytes::Mapped(m) => unsafe { std::slice::from_raw_parts(m.ptr, m.len) },
        }
    }
}

/// A read-only private mapping of /sys/kernel/btf/vmlinux.
struct Mapping {
    ptr: *const u8,
    len: usize,
}

// SAFETY: the mapping is read-only, and the memory behind it is the kernel's
// own BTF, which never changes, so sharing it across threads is sound.
unsafe impl Send for Mapping {}
unsafe impl Sync for Mapping {}

impl Mapping {
    /// `None` when the kernel cannot map it (before 6.16); the caller then
    /// reads the file, which also reports any real error.
    fn vmlinux() -> Option<Self> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::open(VMLINUX).ok()?;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len == 0 {
            return None;
        }
        // SAFETY: a new mapping that aliases no Rust object. Unlike a regular
        // file, the kernel's BTF cannot be truncated or rewritten under us,
        // so reads through it can neither fault nor see changing data.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        (ptr != libc::MAP_FAILED).then(|| Mapping {
            ptr: ptr.cast(),
            len,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the region mapped in `vmlinux`; no borrow of
        // it can outlive `self`.
        unsafe { libc::munmap(self.ptr.cast_mut().cast(), self.len) };
    }
}

fn str_at<'a>(data: &'a [u8], strs: &Range<usize>, off: u32) -> &'a [u8] {
    let tail = data[strs.clone()].get(off as usize..).unwrap_or_default();
    // The section ends with a NUL (checked at load), so one is always found.
    let len = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
    &tail[..len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::OnceLock;

    /// Builds a small BTF blob by hand, type ids in order of `add`.
    struct Builder {
        types: Vec<u8>,
        strs: Vec<u8>,
        next_id: u32,
    }

    impl Builder {
        fn new() -> Self {
            Self {
                types: Vec::new(),
                strs: vec![0],
                next_id: 1,
            }
        }

        fn name(&mut self, s: &str) -> u32 {
            if s.is_empty() {
                return 0;
            }
            let off = self.strs.len() as u32;
            self.strs.extend_from_slice(s.as_bytes());
            self.strs.push(0);
            off
        }

        fn words(&mut self, words: &[u32]) {
            for w in words {
                self.types.extend_from_slice(&w.to_ne_bytes());
            }
        }

        /// Adds a type header followed by `extra` words; returns its id.
        fn add(
            &mut self,
            name: &str,
            kind: u32,
            kflag: bool,
            vlen: u32,
            size_or_type: u32,
            extra: &[u32],
        ) -> u32 {
            let name_off = self.name(name);
            let info = (u32::from(kflag) << 31) | (kind << 24) | vlen;
            self.words(&[name_off, info, size_or_type]);
            self.words(extra);
            self.next_id += 1;
            self.next_id - 1
        }

        fn int(&mut self, name: &str, size: u32, bits: u32) -> u32 {
            self.add(name, KIND_INT, false, 0, size, &[bits])
        }

        /// `members` are (name, type id, raw offset word).
        fn composite(
            &mut self,
            kind: u32,
            name: &str,
            kflag: bool,
            size: u32,
            members: &[(&str, u32, u32)],
        ) -> u32 {
            let mut extra = Vec::new();
            for &(n, ty, off) in members {
                let n = self.name(n);
                extra.extend_from_slice(&[n, ty, off]);
            }
            self.add(name, kind, kflag, members.len() as u32, size, &extra)
        }

        fn finish(self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&MAGIC.to_ne_bytes());
            out.extend_from_slice(&[1, 0]);
            let (tl, sl) = (self.types.len() as u32, self.strs.len() as u32);
            for w in [HEADER_LEN as u32, 0, tl, tl, sl] {
                out.extend_from_slice(&w.to_ne_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strs);
            out
        }
    }

    /// ```c
    /// typedef unsigned int u32;
    /// struct inner { u32 a; unsigned long b; };
    /// struct outer {                      // kind_flag set
    ///     unsigned int x;                 // 0
    ///     union { const u32 y; struct { char c; char d; }; };  // 4
    ///     struct inner in;                // 8
    ///     unsigned int flag:3, mode:5;    // 24, bits 192 and 195
    ///     char name[16];                  // 28
    ///     struct inner *ptr;              // 48
    /// };
    /// struct old { unsigned int lo:4, hi:4; };  // kind_flag clear: INT-encoded
    /// ```
    /// Preceded by one of every other kind, so a wrong skip size shows up as
    /// garbage in the types after it, plus a forward declaration and an
    /// empty struct that share the name `outer`.
    fn sample() -> Vec<u8> {
        let mut b = Builder::new();
        let uint = b.int("unsigned int", 4, 32);
        let u32_ = b.add("u32", KIND_TYPEDEF, false, 0, uint, &[]);
        let chr = b.int("char", 1, (2 << 24) | 8);
        let ulong = b.int("long unsigned int", 8, 64);
        let const_u32 = b.add("", KIND_CONST, false, 0, u32_, &[]);
        let vol = b.add("", KIND_VOLATILE, false, 0, uint, &[]);
        b.add("", KIND_RESTRICT, false, 0, vol, &[]);
        b.add("e", KIND_ENUM, false, 2, 4, &[0, 1, 0, 2]);
        b.add("e64", KIND_ENUM64, false, 1, 8, &[0, 1, 2]);
        let proto = b.add("", KIND_FUNC_PROTO, false, 2, uint, &[0, uint, 0, chr]);
        let func = b.add("f", KIND_FUNC, false, 0, proto, &[]);
        let var = b.add("v", KIND_VAR, false, 0, uint, &[1]);
        b.add(".data", KIND_DATASEC, false, 1, 4, &[var, 0, 4]);
        b.add("tag", KIND_DECL_TAG, false, 0, func, &[u32::MAX]);
        b.add("user", KIND_TYPE_TAG, false, 0, uint, &[]);
        b.add("double", KIND_FLOAT, false, 0, 8, &[]);
        b.add("outer", KIND_FWD, false, 0, 0, &[]);
        b.composite(KIND_STRUCT, "outer", false, 0, &[]);
        let inner = b.composite(
            KIND_STRUCT,
            "inner",
            false,
            16,
            &[("a", u32_, 0), ("b", ulong, 64)],
        );
        let anon_s = b.composite(KIND_STRUCT, "", false, 2, &[("c", chr, 0), ("d", chr, 8)]);
        let anon_u = b.composite(
            KIND_UNION,
            "",
            false,
            4,
            &[("y", const_u32, 0), ("", anon_s, 0)],
        );
        let arr = b.add("", KIND_ARRAY, false, 0, 0, &[chr, uint, 16]);
        let ptr = b.add("", KIND_PTR, false, 0, inner, &[]);
        b.composite(
            KIND_STRUCT,
            "outer",
            true,
            56,
            &[
                ("x", uint, 0),
                ("", anon_u, 32),
                ("in", inner, 64),
                ("flag", uint, (3 << 24) | 192),
                ("mode", uint, (5 << 24) | 195),
                ("name", arr, 224),
                ("ptr", ptr, 384),
            ],
        );
        let nib = b.int("unsigned int", 4, 4);
        b.composite(
            KIND_STRUCT,
            "old",
            false,
            4,
            &[("lo", nib, 0), ("hi", nib, 4)],
        );
        b.finish()
    }

    fn m(offset: u32, size: u32, bitfield: Option<(u32, u32)>) -> Member {
        Member {
            offset,
            size,
            bitfield,
        }
    }

    #[test]
    fn btf_sample_members() {
        let btf = KernelBtf::from_bytes(sample()).unwrap();
        let get = |p| btf.member("outer", p).unwrap();
        assert_eq!(get("x"), m(0, 4, None));
        assert_eq!(
            get("y"),
            m(4, 4, None),
            "through anonymous union and const typedef"
        );
        assert_eq!(
            get("d"),
            m(5, 1, None),
            "anonymous struct in anonymous union"
        );
        assert_eq!(get("in"), m(8, 16, None));
        assert_eq!(get("in.a"), m(8, 4, None));
        assert_eq!(get("in.b"), m(16, 8, None));
        assert_eq!(get("flag"), m(24, 4, Some((192, 3))));
        assert_eq!(get("mode"), m(24, 4, Some((195, 5))));
        assert_eq!(get("name"), m(28, 16, None));
        assert_eq!(get("ptr"), m(48, 8, None));
        assert_eq!(btf.member("old", "lo").unwrap(), m(0, 4, Some((0, 4))));
        assert_eq!(btf.member("old", "hi").unwrap(), m(0, 4, Some((4, 4))));
        assert!(btf.has_member("outer", "c"));
        assert!(btf.has_member("inner", "b"));
    }

    #[test]
    fn btf_sample_errors() {
        let btf = KernelBtf::from_bytes(sample()).unwrap();
        let err = |t, p| btf.member(t, p).unwrap_err().to_string();
        assert_eq!(err("nope", "x"), "kernel BTF has no struct nope");
        assert_eq!(err("outer", "z"), "struct outer has no member z");
        assert_eq!(err("outer", "in.z"), "struct outer has no member in.z");
        assert_eq!(
            err("outer", "ptr.a"),
            "struct outer member ptr is not a struct or union, so ptr.a cannot be resolved"
        );
        assert!(!btf.has_member("outer", ""));
        assert!(!btf.has_member("outer", "in."));
        assert!(!btf.has_member("u32", "x"), "typedefs are not structs");
        assert!(!btf.has_member("e", "x"));
    }

    #[test]
    fn btf_rejects_bad_blobs() {
        let good = sample();

        let mut swapped = good.clone();
        swapped.swap(0, 1);
        let e = KernelBtf::from_bytes(swapped).err().unwrap().to_string();
        assert!(
            e.contains("magic 0x9feb") && e.contains("byte order"),
            "{e}"
        );

        let e = KernelBtf::from_bytes(good[..good.len() - 1].to_vec())
            .err()
            .unwrap();
        assert!(matches!(e, BtfError::Malformed(_)), "{e}");

        let mut b = Builder::new();
        b.add("", 20, false, 0, 0, &[]);
        let e = KernelBtf::from_bytes(b.finish()).err().unwrap().to_string();
        assert!(e.contains("unsupported BTF kind 20 (type id 1)"), "{e}");

        // A struct whose members run past the type section.
        let mut b = Builder::new();
        b.add("s", KIND_STRUCT, false, 3, 4, &[0, 0, 0]);
        let e = KernelBtf::from_bytes(b.finish()).err().unwrap().to_string();
        assert!(e.contains("type 1 overruns"), "{e}");

        // A member naming a type that does not exist.
        let mut b = Builder::new();
        b.composite(KIND_STRUCT, "s", false, 4, &[("a", 99, 0)]);
        let btf = KernelBtf::from_bytes(b.finish()).unwrap();
        let e = btf.member("s", "a").unwrap_err().to_string();
        assert!(e.contains("missing type 99"), "{e}");
    }

    /// One type from `bpftool btf dump ... format raw`.
    struct RawType {
        kind: String,
        name: String,
        size: Option<u32>,
        type_id: Option<u32>,
        /// (name, type id, bit offset, bitfield size)
        members: Vec<(String, u32, u32, Option<u32>)>,
    }

    fn field(line: &str, key: &str) -> Option<u32> {
        let at = line.find(&format!(" {key}="))? + key.len() + 2;
        let digits: String = line[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }

    /// bpftool's decoding of the running kernel's BTF: an independent
    /// reference for offsets. Fails (never skips) without bpftool.
    fn bpftool_dump() -> &'static HashMap<u32, RawType> {
        static DUMP: OnceLock<HashMap<u32, RawType>> = OnceLock::new();
        DUMP.get_or_init(|| {
            let bpftool = ["/usr/sbin/bpftool", "bpftool"]
                .into_iter()
                .find(|p| std::process::Command::new(p).arg("version").output().is_ok())
                .expect("bpftool is needed to cross-check BTF offsets, but is neither at /usr/sbin/bpftool nor in PATH");
            let out = std::process::Command::new(bpftool)
                .args(["btf", "dump", "file", VMLINUX, "format", "raw"])
                .output()
                .unwrap();
            assert!(out.status.success(), "bpftool failed: {}", String::from_utf8_lossy(&out.stderr));
            let text = String::from_utf8(out.stdout).unwrap();
            let mut types = HashMap::new();
            let mut current = None;
            for line in text.lines() {
                let quoted = |l: &str| l.split('\'').nth(1).unwrap_or_default().to_string();
                if let Some(rest) = line.strip_prefix('[') {
                    let (id, rest) = rest.split_once("] ").unwrap();
                    let id: u32 = id.parse().unwrap();
                    let raw = RawType {
                        kind: rest.split(' ').next().unwrap().to_string(),
                        name: quoted(rest),
                        size: field(line, "size"),
                        type_id: field(line, "type_id"),
                        members: Vec::new(),
                    };
                    types.insert(id, raw);
                    current = Some(id);
                } else if let (Some(id), Some(member)) = (current, line.strip_prefix('\t')) {
                    let t = types.get_mut(&id).unwrap();
                    if t.kind == "STRUCT" || t.kind == "UNION" {
                        let ty = field(member, "type_id").unwrap();
                        let bits = field(member, "bits_offset").unwrap();
                        t.members.push((quoted(member), ty, bits, field(member, "bitfield_size")));
                    }
                }
            }
            types
        })
    }

    /// Expected (bit offset, bitfield size) of `path` in `ty` per bpftool,
    /// searching anonymous members depth-first.
    fn expected(ty: &str, path: &str) -> (u32, Option<u32>) {
        let dump = bpftool_dump();
        fn strip(dump: &HashMap<u32, RawType>, mut id: u32) -> u32 {
            while matches!(
                dump[&id].kind.as_str(),
                "TYPEDEF" | "CONST" | "VOLATILE" | "RESTRICT" | "TYPE_TAG"
            ) {
                id = dump[&id].type_id.unwrap();
            }
            id
        }
        fn find(
            dump: &HashMap<u32, RawType>,
            id: u32,
            name: &str,
        ) -> Option<(u32, u32, Option<u32>)> {
            for (n, ty, bits, bf) in &dump[&id].members {
                if n == name {
                    return Some((*bits, *ty, *bf));
                }
                if n == "(anon)"
                    && let Some((b, t, bf)) = find(dump, strip(dump, *ty), name)
                {
                    return Some((bits + b, t, bf));
                }
            }
            None
        }
        let mut id = *dump
            .iter()
            .find(|(_, t)| t.kind == "STRUCT" && t.name == ty && t.size != Some(0))
            .unwrap_or_else(|| panic!("bpftool shows no struct {ty}"))
            .0;
        let (mut bits, mut bf) = (0, None);
        for part in path.split('.') {
            let (b, t, f) =
                find(dump, id, part).unwrap_or_else(|| panic!("bpftool: no {ty}.{path}"));
            bits += b;
            bf = f;
            id = strip(dump, t);
        }
        (bits, bf)
    }

    fn kernel() -> &'static KernelBtf {
        static BTF: OnceLock<KernelBtf> = OnceLock::new();
        BTF.get_or_init(|| KernelBtf::load().unwrap())
    }

    fn check(ty: &str, path: &str, size: u32) {
        let got = kernel().member(ty, path).unwrap();
        let (bits, bf) = expected(ty, path);
        assert_eq!(got.size, size, "{ty}.{path} size");
        match bf {
            Some(n) => assert_eq!(got.bitfield, Some((bits, n)), "{ty}.{path}"),
            None => {
                assert_eq!(bits % 8, 0, "{ty}.{path}");
                assert_eq!(got, m(bits / 8, size, None), "{ty}.{path}");
            }
        }
    }

    #[test]
    fn btf_kernel_matches_bpftool() {
        let ptr = std::mem::size_of::<usize>() as u32;
        check("task_struct", "pid", 4);
        check("task_struct", "tgid", 4);
        check("task_struct", "real_parent", ptr);
        check("task_struct", "comm", 16);
        check("sock", "__sk_common.skc_family", 2);
        // In an anonymous struct inside an anonymous union of sock_common.
        check("sock_common", "skc_num", 2);
        check("sock", "__sk_common.skc_num", 2);
        check("sock_common", "skc_daddr", 4);
        // A kind_flag bitfield.
        check("sock_common", "skc_reuse", 1);
    }

    #[test]
    fn btf_kernel_every_direct_member_matches_bpftool() {
        let dump = bpftool_dump();
        for ty in ["task_struct", "sock_common", "sock", "file", "inode"] {
            let (_, raw) = dump
                .iter()
                .find(|(_, t)| t.kind == "STRUCT" && t.name == ty && t.size != Some(0))
                .unwrap();
            for (name, _, bits, bf) in raw.members.iter().filter(|mb| mb.0 != "(anon)") {
                let got = kernel().member(ty, name).unwrap();
                match bf {
                    Some(n) => assert_eq!(got.bitfield, Some((*bits, *n)), "{ty}.{name}"),
                    None => {
                        assert_eq!((got.offset * 8, got.bitfield), (*bits, None), "{ty}.{name}")
                    }
                }
            }
        }
    }

    #[test]
    fn btf_kernel_errors_and_probes() {
        let btf = kernel();
        assert_eq!(
            btf.member("task_struct", "real_parnt")
                .unwrap_err()
                .to_string(),
            "struct task_struct has no member real_parnt"
        );
        assert_eq!(
            btf.member("task_structt", "pid").unwrap_err().to_string(),
            "kernel BTF has no struct task_structt"
        );
        assert!(btf.has_member("task_struct", "pid"));
        assert!(
            !btf.has_member("task_struct", "real_parent.pid"),
            "pointers are not followed"
        );
    }

    const TIMED: [(&str, &str); 5] = [
        ("task_struct", "pid"),
        ("task_struct", "tgid"),
        ("task_struct", "real_parent"),
        ("task_struct", "comm"),
        ("sock", "__sk_common.skc_family"),
    ];

    #[test]
    fn btf_kernel_mapped_and_read_agree() {
        let read = KernelBtf::from_bytes(std::fs::read(VMLINUX).unwrap()).unwrap();
        for (ty, p) in TIMED {
            assert_eq!(kernel().member(ty, p).unwrap(), read.member(ty, p).unwrap());
        }
    }

    /// `cargo test --release -p ebpftop-runtime btf_timing -- --ignored --nocapture`
    #[test]
    #[ignore = "timing report, run in release"]
    fn btf_timing() {
        use std::time::{Duration, Instant};
        let lookups = |btf: &KernelBtf| {
            for (ty, p) in TIMED {
                std::hint::black_box(btf.member(ty, p).unwrap());
            }
        };
        // (load + lookups via load(), lookups alone, via read() instead)
        let mut rows = Vec::new();
        for _ in 0..20 {
            let t0 = Instant::now();
            let btf = KernelBtf::load().unwrap();
            let t1 = Instant::now();
            lookups(&btf);
            let t2 = Instant::now();
            let btf = KernelBtf::from_bytes(std::fs::read(VMLINUX).unwrap()).unwrap();
            lookups(&btf);
            rows.push([t2 - t0, t2 - t1, t2.elapsed()]);
        }
        let best = |i: usize| rows.iter().map(|r| r[i]).min().unwrap_or(Duration::ZERO);
        println!(
            "first: load+5 lookups {:?} (lookups {:?}); with read() instead of mmap {:?}",
            rows[0][0], rows[0][1], rows[0][2]
        );
        println!(
            "best of {}: load+5 lookups {:?} (lookups {:?}); with read() {:?}",
            rows.len(),
            best(0),
            best(1),
            best(2)
        );
    }
}
