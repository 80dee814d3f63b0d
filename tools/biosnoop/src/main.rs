//! biosnoop, user half: block requests to records.

use std::process::ExitCode;

use anyhow::Context as _;
use biosnoop::{OBJECT, check_layout, cli::Args, columns, config, disk_filter, to_record};
use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_output::Output;
use ebpftop_runtime::privileges;

fn run(args: Args) -> anyhow::Result<()> {
    let disk = disk_filter(args.disk.as_deref()).map_err(anyhow::Error::msg)?;
    // Reading tracefs needs root: say so first, plainly.
    privileges::check("biosnoop")?;
    check_layout().context("checking the block tracepoints")?;
    let filter = args.filter.spec(false);
    let task_filter = filter.pid.is_some()
        || filter.tid.is_some()
        || filter.uid.is_some()
        || filter.comm.is_some()
        || filter.cgroup.is_some();
    let config = config(task_filter);
    let queue = args.queue;
    let spec = TraceSpec {
        object: &OBJECT,
        filter,
        output: args.output.options(),
        columns: columns(queue),
        run: &args.run,
        globals: vec![
            (biosnoop::CONFIG_GLOBAL, (&config).into()),
            (biosnoop::DISK_GLOBAL, (&disk).into()),
        ],
    };
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock, queue), data)
    })
}

fn main() -> ExitCode {
    run_main("biosnoop", |a: &Args| a.run.verbose, run)
}
