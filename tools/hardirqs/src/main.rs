//! hardirqs, user half: attach, then every interval sum the kernel's
//! per-CPU times once and print them.

use std::process::ExitCode;

use aya::maps::PerCpuHashMap;
use ebpftop_cli::{IntervalSpec, run_intervals, run_main};
use ebpftop_irqtime::{CONFIG_GLOBAL, IrqKind, IrqReporter};
use ebpftop_runtime::privileges;
use hardirqs::{IRQACTION_NAME_GLOBAL, TIMES_MAP, cli::Args, object, read_times};

fn run(args: Args) -> anyhow::Result<()> {
    privileges::check("hardirqs")?;
    let (object, name_offset) = object()?;
    let config = args.report.config();
    let spec = IntervalSpec {
        object: &object,
        filter: Default::default(),
        globals: vec![
            (CONFIG_GLOBAL, (&config).into()),
            (IRQACTION_NAME_GLOBAL, (&name_offset).into()),
        ],
        output: &args.output,
        columns: &[],
        run: &args.run,
    };
    let report = args.report.clone();
    run_intervals(spec, |ebpf| {
        let map = ebpf
            .take_map(TIMES_MAP)
            .ok_or_else(|| anyhow::anyhow!("the hardirqs object has no {TIMES_MAP} map"))?;
        let map = PerCpuHashMap::try_from(map)?;
        Ok(IrqReporter::new(move || read_times(&map), IrqKind::Hard, report).check_unseen())
    })
}

fn main() -> ExitCode {
    run_main("hardirqs", |a: &Args| a.run.run.verbose, run)
}
