//! opensnoop, the command: its columns, and records streamed to them.

use std::process::ExitCode;

use ebpftop_cli::{TraceSpec, emit_decoded, run_main, trace};
use ebpftop_output::{Column, Output};
use opensnoop::{
    cli::Args,
    record::{FlagNames, OBJECT, to_record},
};

const COLUMNS: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("FD", 3),
    Column::right("ERR", 3),
    Column::left("PATH", 0),
];

const COLUMNS_EXTENDED: &[Column] = &[
    Column::left("PID", 7),
    Column::left("COMM", 16),
    Column::right("FD", 3),
    Column::right("ERR", 3),
    Column::left("SYSCALL", 7),
    Column::left("FLAGS", 28),
    Column::right("MODE", 4),
    Column::left("PATH", 0),
];

fn run(args: Args) -> anyhow::Result<()> {
    let spec = TraceSpec {
        object: &OBJECT,
        filter: args.filter.spec(args.failed),
        output: args.output.options(),
        columns: if args.extended {
            COLUMNS_EXTENDED
        } else {
            COLUMNS
        },
        run: &args.run,
        globals: Vec::new(),
    };
    let extended = args.extended;
    let mut names = FlagNames::default();
    trace(spec, |data, clock, out: &mut Output| {
        emit_decoded(out, to_record(data, clock, &mut names, extended), data)
    })
}

fn main() -> ExitCode {
    run_main("opensnoop", |a: &Args| a.run.verbose, run)
}
