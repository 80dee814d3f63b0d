//! Syscall names on the command line, and what the kernel halves of
//! syscall-timing tools need to know about this architecture.

use ebpftop_common::syscall_latency::NoReturn;
use ebpftop_output::syscalls::{syscall_name, syscall_number};

/// The numbers of exit and exit_group here, which the kernel half must
/// not wait for (see `NoReturn`). Set as the `NO_RETURN` global.
pub fn no_return() -> NoReturn {
    let nr = |name| syscall_number(name).map_or(u64::MAX, u64::from);
    NoReturn {
        exit: nr("exit"),
        exit_group: nr("exit_group"),
    }
}

/// `openat,read,syscall_999` as syscall numbers; an unknown name is an
/// error naming it.
pub fn parse_syscall_list(s: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for name in s.split(',').map(str::trim) {
        if name.is_empty() {
            return Err(format!("{s:?}: empty syscall name"));
        }
        let nr = syscall_number(name)
            .ok_or_else(|| format!("unknown syscall {name:?} (syscount -l lists them)"))?;
        if !out.contains(&nr) {
            out.push(nr);
        }
    }
    Ok(out)
}

/// Every syscall this architecture's table names, one `NR name` a line.
pub fn list() -> String {
    let mut out = String::new();
    for nr in 0..4096u64 {
        let name = syscall_name(nr);
        if !name.starts_with("syscall_") {
            out.push_str(&format!("{nr:>4} {name}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse() {
        let getppid = syscall_number("getppid").unwrap();
        let openat = syscall_number("openat").unwrap();
        assert_eq!(
            parse_syscall_list("getppid,openat,getppid"),
            Ok(vec![getppid, openat])
        );
        assert_eq!(parse_syscall_list("syscall_999"), Ok(vec![999]));
        let e = parse_syscall_list("getppid,nosuch").unwrap_err();
        assert!(e.contains("\"nosuch\""), "{e}");
        assert!(parse_syscall_list("getppid,").is_err());
        assert!(list().contains(" getppid\n"));
        let n = no_return();
        assert_ne!(n.exit, u64::MAX);
        assert_ne!(n.exit_group, n.exit);
    }
}
