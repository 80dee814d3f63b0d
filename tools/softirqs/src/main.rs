//! softirqs, user half: attach, then every interval sum the kernel's
//! per-CPU times once and print them.

use std::process::ExitCode;

use aya::maps::PerCpuArray;
use ebpftop_cli::{IntervalSpec, run_intervals, run_main};
use ebpftop_irqtime::{CONFIG_GLOBAL, IrqKind, IrqReporter};
use ebpftop_runtime::privileges;
use softirqs::{TIMES_MAP, cli::Args, object, read_times};

fn run(args: Args) -> anyhow::Result<()> {
    privileges::check("softirqs")?;
    let object = object();
    let config = args.report.config();
    let spec = IntervalSpec {
        object: &object,
        filter: Default::default(),
        globals: vec![(CONFIG_GLOBAL, (&config).into())],
        output: &args.output,
        columns: &[],
        run: &args.run,
    };
    let report = args.report.clone();
    run_intervals(spec, |ebpf| {
        let map = ebpf
            .take_map(TIMES_MAP)
            .ok_or_else(|| anyhow::anyhow!("the softirqs object has no {TIMES_MAP} map"))?;
        let map = PerCpuArray::try_from(map)?;
        Ok(IrqReporter::new(move || read_times(&map), IrqKind::Soft, report).check_unseen())
    })
}

fn main() -> ExitCode {
    run_main("softirqs", |a: &Args| a.run.run.verbose, run)
}
