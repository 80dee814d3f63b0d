//! tracefs: where it is, mounting it when absent, and tracepoint formats.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use crate::Error;

const TRACEFS: &str = "/sys/kernel/tracing";
const DEBUGFS_TRACING: &str = "/sys/kernel/debug/tracing";

/// The tracefs mount point, mounting tracefs at /sys/kernel/tracing when it
/// is not mounted (a fresh boot of some VMs has neither mount).
pub fn root() -> Result<&'static Path, Error> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let mounted = || {
            [TRACEFS, DEBUGFS_TRACING]
                .into_iter()
                .find(|dir| Path::new(dir).join("events").is_dir())
                .map(PathBuf::from)
        };
        find_or_mount(mounted, mount_tracefs)
    })
    .as_deref()
    .map_err(|e| Error::Tracefs(e.clone()))
}

/// Where `mounted` finds tracefs, else at /sys/kernel/tracing once `mount`
/// has mounted it there. A tool started at the same moment may mount it
/// between the two, failing our mount (EBUSY): what counts is that it is
/// there now.
fn find_or_mount(
    mounted: impl Fn() -> Option<PathBuf>,
    mount: impl FnOnce() -> Result<(), String>,
) -> Result<PathBuf, String> {
    if let Some(dir) = mounted() {
        return Ok(dir);
    }
    match mount() {
        Ok(()) => Ok(PathBuf::from(TRACEFS)),
        Err(e) => mounted().ok_or(e),
    }
}

fn mount_tracefs() -> Result<(), String> {
    // TRACEFS, as mount(2) takes it.
    crate::sys::mount(
        Some(c"tracefs"),
        c"/sys/kernel/tracing",
        Some(c"tracefs"),
        0,
    )
    .map(|()| log::debug!("mounted tracefs at {TRACEFS}"))
    .map_err(|e| {
        format!(
            "tracefs is not mounted and mounting it at {TRACEFS} failed: {e} \
                 (as root: mount -t tracefs tracefs {TRACEFS})"
        )
    })
}

/// Whether the kernel has tracepoint `category:name`.
pub fn has_tracepoint(category: &str, name: &str) -> Result<bool, Error> {
    Ok(root()?.join("events").join(category).join(name).is_dir())
}

/// One field of a tracepoint record, from its `format` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    /// The C declaration as written, e.g. `const char * filename`.
    pub decl: String,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
}

/// The record layout of tracepoint `category:name`.
pub fn format(category: &str, name: &str) -> Result<Vec<Field>, Error> {
    let path = root()?
        .join("events")
        .join(category)
        .join(name)
        .join("format");
    let text = fs::read_to_string(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingTracepoint(format!("{category}:{name}"))
        } else {
            Error::Io(format!("reading {}", path.display()), e)
        }
    })?;
    Ok(parse_format(&text))
}

/// Parses the `field:...; offset:N; size:N; signed:N;` lines of a format file.
pub fn parse_format(text: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("field:") else {
            continue;
        };
        let mut decl = None;
        let (mut offset, mut size, mut signed) = (None, None, false);
        for (i, part) in rest.split(';').enumerate() {
            let part = part.trim();
            if i == 0 {
                decl = Some(part.to_string());
            } else if let Some(v) = part.strip_prefix("offset:") {
                offset = v.parse().ok();
            } else if let Some(v) = part.strip_prefix("size:") {
                size = v.parse().ok();
            } else if let Some(v) = part.strip_prefix("signed:") {
                signed = v == "1";
            }
        }
        let (Some(decl), Some(offset), Some(size)) = (decl, offset, size) else {
            continue;
        };
        // The name is the last identifier once array brackets are gone:
        // `char comm[16]` -> `comm`, `__data_loc char[] name` -> `name`.
        let mut base = String::with_capacity(decl.len());
        let mut depth = 0usize;
        for c in decl.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                c if depth == 0 => base.push(c),
                _ => {}
            }
        }
        let base = base.trim_end();
        let name = base
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or(base)
            .to_string();
        fields.push(Field {
            name,
            decl,
            offset,
            size,
            signed,
        });
    }
    fields
}

/// Checks that tracepoint `category:name` has each `(field, offset,
/// size)` a kernel program reads at a fixed place; the error names the
/// first that differs or is missing.
pub fn check_fields(
    category: &str,
    name: &str,
    expected: &[(&str, usize, usize)],
) -> Result<(), Error> {
    let fields = format(category, name)?;
    for &(field, offset, size) in expected {
        match fields.iter().find(|f| f.name == field) {
            Some(f) if f.offset == offset && f.size == size => {}
            Some(f) => {
                return Err(Error::Layout(format!(
                    "{category}:{name}: field {field} at offset {} size {}, expected offset {offset} size {size}",
                    f.offset, f.size
                )));
            }
            None => {
                return Err(Error::Layout(format!(
                    "{category}:{name}: no field {field}"
                )));
            }
        }
    }
    Ok(())
}

/// Checks that a syscall tracepoint lays out its record as the kernel
/// programs assume: `__syscall_nr` at 8, then 8-byte arguments (or `ret`)
/// from offset 16.
pub fn check_syscall_layout(name: &str) -> Result<(), Error> {
    let fields = format("syscalls", name)?;
    let bad = |why: String| Error::Layout(format!("syscalls:{name}: {why}"));
    let nr = fields
        .iter()
        .find(|f| f.name == "__syscall_nr")
        .ok_or_else(|| bad("no __syscall_nr field".into()))?;
    if nr.offset != 8 {
        return Err(bad(format!("__syscall_nr at offset {}", nr.offset)));
    }
    for (i, f) in fields.iter().filter(|f| f.offset >= 16).enumerate() {
        if f.offset != 16 + 8 * i || f.size != 8 {
            return Err(bad(format!(
                "field {} at offset {} size {}, expected offset {} size 8",
                f.name,
                f.offset,
                f.size,
                16 + 8 * i
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_mount_that_fails_because_another_tool_mounted_it_first_is_no_error() {
        let there = Cell::new(false);
        let mounted = || there.get().then(|| PathBuf::from(TRACEFS));
        let raced = || {
            there.set(true);
            Err("EBUSY".to_string())
        };
        assert_eq!(find_or_mount(mounted, raced), Ok(PathBuf::from(TRACEFS)));
    }

    #[test]
    fn a_mount_that_fails_with_nothing_mounted_is_the_error() {
        let failed = || Err("EPERM".to_string());
        assert_eq!(find_or_mount(|| None, failed), Err("EPERM".to_string()));
        let ok = || Ok(());
        assert_eq!(find_or_mount(|| None, ok), Ok(PathBuf::from(TRACEFS)));
        let found = || Some(PathBuf::from(DEBUGFS_TRACING));
        let unused = || -> Result<(), String> { panic!("mounted though found") };
        assert_eq!(
            find_or_mount(found, unused),
            Ok(PathBuf::from(DEBUGFS_TRACING))
        );
    }

    const OPENAT: &str = "name: sys_enter_openat
ID: 700
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:int dfd;\toffset:16;\tsize:8;\tsigned:0;
\tfield:const char * filename;\toffset:24;\tsize:8;\tsigned:0;
\tfield:char comm[16];\toffset:32;\tsize:16;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:48;\tsize:4;\tsigned:0;

print fmt: \"dfd: 0x%08lx\"
";

    #[test]
    fn parses_fields() {
        let f = parse_format(OPENAT);
        let names: Vec<_> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "common_type",
                "common_flags",
                "common_preempt_count",
                "common_pid",
                "__syscall_nr",
                "dfd",
                "filename",
                "comm",
                "name"
            ]
        );
        assert_eq!(f[6].offset, 24);
        assert_eq!(f[6].decl, "const char * filename");
        assert!(f[3].signed);
        assert_eq!(f[7].size, 16);
    }
}
