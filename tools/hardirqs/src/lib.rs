//! hardirqs: the kernel object and its hooks, the command line, and the
//! kernel's per-CPU sums decoded into Rust values. A library, so that
//! `cargo xtask docs` can generate the man page and the `ebpftop`
//! dashboard can run the same programs.

pub mod cli;

use std::io;

use aya::maps::{MapData, PerCpuHashMap};
use ebpftop_common::irqtime::{HardirqKey, IRQ_NAME_LOC_OFFSET, IRQ_OFFSET, IrqTime};
use ebpftop_irqtime::{IrqId, IrqTotals};
use ebpftop_output::text::until_nul;
use ebpftop_runtime::{
    AttachPoint, Candidate, Hook, ToolObject, embedded_object, field_offset, kernel_btf, tracefs,
};

/// The per-CPU map of sums, by [`HardirqKey`].
pub const TIMES_MAP: &str = "IRQ_TIMES";

const ENTRY_RAW: Candidate = Candidate {
    program: "hardirq_entry_raw",
    at: AttachPoint::RawTracepoint {
        name: "irq_handler_entry",
    },
};
const ENTRY_CLASSIC: Candidate = Candidate {
    program: "hardirq_entry",
    at: AttachPoint::Tracepoint {
        category: "irq",
        name: "irq_handler_entry",
    },
};
const EXIT_RAW: Candidate = Candidate {
    program: "hardirq_exit_raw",
    at: AttachPoint::RawTracepoint {
        name: "irq_handler_exit",
    },
};
const EXIT_CLASSIC: Candidate = Candidate {
    program: "hardirq_exit",
    at: AttachPoint::Tracepoint {
        category: "irq",
        name: "irq_handler_exit",
    },
};

const fn hooks(entry: &'static [Candidate], exit: &'static [Candidate]) -> [Hook; 2] {
    [
        Hook {
            name: "IRQ handler entry",
            candidates: entry,
            required: true,
            shared: false,
        },
        Hook {
            name: "IRQ handler exit",
            candidates: exit,
            required: true,
            shared: false,
        },
    ]
}

/// Raw tracepoints first: besides being cheaper, they are not skipped
/// when the IRQ interrupts another tracing program (see the kernel half).
static ALL_HOOKS: [Hook; 2] = hooks(&[ENTRY_RAW, ENTRY_CLASSIC], &[EXIT_RAW, EXIT_CLASSIC]);
static RAW_HOOKS: [Hook; 2] = hooks(&[ENTRY_RAW], &[EXIT_RAW]);
static CLASSIC_HOOKS: [Hook; 2] = hooks(&[ENTRY_CLASSIC], &[EXIT_CLASSIC]);

/// The global the raw programs read `irqaction.name`'s offset from.
pub const IRQACTION_NAME_GLOBAL: &str = "IRQACTION_NAME";

/// The object with the hooks this kernel can take (the raw programs need
/// `irqaction.name`'s offset from BTF, the classic ones the record layout
/// they read), and the offset to set as [`IRQACTION_NAME_GLOBAL`].
pub fn object() -> anyhow::Result<(ToolObject, u32)> {
    let name_offset = kernel_btf()
        .and_then(|btf| field_offset(btf, "irqaction", "name", 8))
        .inspect_err(|e| log::info!("raw irq tracepoints not used: {e}"))
        .ok();
    let classic = check_layout()
        .inspect_err(|e| log::info!("classic irq tracepoints not used: {e}"))
        .is_ok();
    let hooks: &'static [Hook] = match (name_offset.is_some(), classic) {
        (true, true) => &ALL_HOOKS,
        (true, false) => &RAW_HOOKS,
        (false, true) => &CLASSIC_HOOKS,
        (false, false) => anyhow::bail!(
            "cannot trace IRQ handlers: no irqaction.name in BTF and an unexpected \
             irq:irq_handler_entry layout"
        ),
    };
    Ok((
        ToolObject {
            tool: "hardirqs",
            bytes: embedded_object!("hardirqs"),
            hooks,
        },
        name_offset.unwrap_or(0),
    ))
}

/// Checks that the irq tracepoints keep their fields where the programs
/// read them. `name` is a `__data_loc char[]`, which the format parser
/// names by its type: it is found by its declaration.
pub fn check_layout() -> Result<(), ebpftop_runtime::Error> {
    tracefs::check_fields("irq", "irq_handler_entry", &[("irq", IRQ_OFFSET, 4)])?;
    let fields = tracefs::format("irq", "irq_handler_entry")?;
    let name = fields
        .iter()
        .find(|f| f.decl.ends_with(" name") && f.decl.starts_with("__data_loc"));
    match name {
        Some(f) if f.offset == IRQ_NAME_LOC_OFFSET && f.size == 4 => {}
        _ => {
            return Err(ebpftop_runtime::Error::Layout(format!(
                "irq:irq_handler_entry: no __data_loc name at offset {IRQ_NAME_LOC_OFFSET}"
            )));
        }
    }
    tracefs::check_fields("irq", "irq_handler_exit", &[("irq", IRQ_OFFSET, 4)])
}

/// A kernel key as the IRQ it names.
pub fn irq_id(key: &HardirqKey) -> IrqId {
    IrqId {
        number: key.irq,
        name: String::from_utf8_lossy(until_nul(&key.name)).into_owned(),
    }
}

/// Every handler's totals (all CPUs) since the programs were attached.
pub fn read_times(
    map: &PerCpuHashMap<MapData, HardirqKey, IrqTime>,
) -> io::Result<Vec<(IrqId, IrqTotals)>> {
    map.iter()
        .map(|r| {
            r.map(|(k, per_cpu)| (irq_id(&k), IrqTotals::sum(per_cpu.iter())))
                .map_err(io::Error::other)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names() {
        let mut name = [0u8; 32];
        name[..13].copy_from_slice(b"virtio1-req.0");
        let id = irq_id(&HardirqKey { irq: 36, name });
        assert_eq!((id.number, id.name.as_str()), (36, "virtio1-req.0"));
    }
}
