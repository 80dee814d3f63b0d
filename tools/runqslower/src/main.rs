//! runqslower, user half: each slow run-queue wait as a table row or a
//! JSON line.

use std::process::ExitCode;

use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_common::runqslower::RunqslowerConfig;
use ebpftop_output::{Column, Output};
use runqslower::{
    cli::Args,
    object::{CONFIG_GLOBAL, kernel_half, to_record},
};

const COLUMNS: &[Column] = &[
    Column::left("COMM", 16),
    Column::left("TID", 7),
    Column::right("LAT(us)", 14),
];
const COLUMNS_PREV: &[Column] = &[
    Column::left("COMM", 16),
    Column::left("TID", 7),
    Column::right("LAT(us)", 14),
    Column::left("PREV COMM", 16),
    Column::left("PREV TID", 0),
];

fn run(args: Args) -> anyhow::Result<()> {
    ebpftop_runtime::privileges::check("runqslower")?;
    let config = RunqslowerConfig {
        min_ns: args.min_us.saturating_mul(1000),
    };
    let (object, globals) = kernel_half(config, args.pid.is_some())?;
    let show_prev = args.previous;
    let spec = TraceSpec {
        object: &object,
        filter: args.filter(),
        output: args.output.options(),
        columns: if show_prev { COLUMNS_PREV } else { COLUMNS },
        run: &args.run,
        globals: globals.to_globals(CONFIG_GLOBAL),
    };
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock, show_prev), data)
    })
}

fn main() -> ExitCode {
    run_main("runqslower", |a: &Args| a.run.verbose, run)
}
