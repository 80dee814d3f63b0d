//! One key's histogram as user space keeps it (the shared [`Latencies`]),
//! and the selection bitmap.

pub use ebpftop_cli::Latencies;
use ebpftop_common::syslat::MAX_SELECTABLE;

/// The kernel's `-s` bitmap; syscall numbers past it cannot be selected.
pub fn selection(nrs: &[u32]) -> Result<[u64; MAX_SELECTABLE / 64], String> {
    let mut bits = [0u64; MAX_SELECTABLE / 64];
    for &nr in nrs {
        let nr = nr as usize;
        if nr >= MAX_SELECTABLE {
            return Err(format!(
                "syscall number {nr} is past the {MAX_SELECTABLE} that -s can select"
            ));
        }
        bits[nr / 64] |= 1 << (nr % 64);
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_bits() {
        let b = selection(&[0, 35, 64, 1023]).unwrap();
        assert_eq!(b[0], 1 | 1 << 35);
        assert_eq!(b[1], 1);
        assert_eq!(b[15], 1 << 63);
        assert!(selection(&[1024]).is_err());
    }
}
