//! The lifecycle of an event-streaming tool, written once.

use std::io;

use anyhow::Context as _;
use ebpftop_common::LostReason;
use ebpftop_output::{Column, Output, OutputOptions};
use ebpftop_runtime::{
    Clock, Consumer, EventLoop, FilterSpec, LoadOptions, LostCounter, Stop, ToolObject,
};

use crate::args::RunArgs;

/// Everything [`trace`] needs from a tool.
pub struct TraceSpec<'a> {
    pub object: &'a ToolObject,
    pub filter: FilterSpec,
    pub output: OutputOptions,
    /// The tool's table columns (TIME and UID are added as asked).
    pub columns: &'a [Column],
    pub run: &'a RunArgs,
    /// Extra read-only globals for the tool's programs.
    pub globals: Vec<(&'static str, aya::GlobalData<'a>)>,
}

/// Loads and attaches the tool, then turns each ring buffer record into
/// output with `on_record` until Ctrl-C, SIGTERM, `--duration` or the
/// reader of our output going away. Lost events are reported as they are
/// noticed (every second) and in total at the end.
pub fn trace<F>(spec: TraceSpec<'_>, on_record: F) -> anyhow::Result<()>
where
    F: FnMut(&[u8], &Clock, &mut Output) -> io::Result<()>,
{
    trace_with(spec, OnRecord(on_record))
}

/// What a tool that holds records back does with the ring buffer's
/// records, every tick and at the end (e.g. pairing a syscall's entry
/// record with its exit record, and reporting entries left unpaired).
pub trait RecordHandler {
    /// One ring buffer record.
    fn record(&mut self, data: &[u8], clock: &Clock, out: &mut Output) -> io::Result<()>;
    /// Every second.
    fn tick(&mut self, _clock: &Clock, _out: &mut Output) -> io::Result<()> {
        Ok(())
    }
    /// Once, after the last record, before losses are totalled.
    fn finish(&mut self, _clock: &Clock, _out: &mut Output) -> io::Result<()> {
        Ok(())
    }
}

struct OnRecord<F>(F);

impl<F> RecordHandler for OnRecord<F>
where
    F: FnMut(&[u8], &Clock, &mut Output) -> io::Result<()>,
{
    fn record(&mut self, data: &[u8], clock: &Clock, out: &mut Output) -> io::Result<()> {
        (self.0)(data, clock, out)
    }
}

/// [`trace`] with a [`RecordHandler`].
pub fn trace_with<H: RecordHandler>(spec: TraceSpec<'_>, handler: H) -> anyhow::Result<()> {
    let tool = spec.object.tool;
    let filter = spec.filter.build()?;
    // Before attaching: a Ctrl-C from here on is read by the loop.
    let mut event_loop = EventLoop::new()?;
    let mut loaded = spec.object.load(LoadOptions {
        filter,
        globals: spec.globals,
        ..LoadOptions::default()
    })?;
    let ring = loaded
        .ring
        .take()
        .context("the object has no EVENTS ring buffer")?;
    event_loop.set_ring(ring)?;
    let mut consumer = Streamer {
        handler,
        out: Output::stdout(tool, spec.output, spec.columns),
        lost: loaded.lost.take(),
        clock: Clock::new(),
        events: 0,
    };
    consumer.out.header()?;
    consumer.out.flush()?;
    log::info!("tracing; Ctrl-C to stop");
    let stop = event_loop.run(
        &mut consumer,
        spec.run.duration,
        std::time::Duration::from_secs(1),
    )?;
    log::debug!("stopped: {stop:?}");
    if stop == Stop::OutputClosed {
        return Ok(());
    }
    // Whatever was lost after the last tick is reported too.
    match consumer
        .handler
        .finish(&consumer.clock, &mut consumer.out)
        .and_then(|()| consumer.report_lost())
    {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        r => r?,
    }
    consumer.out.flush()?;
    let total_lost = match &consumer.lost {
        Some(l) => {
            l.log_programs();
            l.totals()?.iter().sum()
        }
        None => 0,
    };
    if total_lost > 0 {
        eprintln!("{tool}: {total_lost} events lost in total");
    }
    log::info!("{} events, {total_lost} lost", consumer.events);
    drop(loaded);
    Ok(())
}

struct Streamer<H> {
    handler: H,
    out: Output,
    lost: Option<LostCounter>,
    clock: Clock,
    events: u64,
}

impl<H> Streamer<H> {
    fn report_lost(&mut self) -> io::Result<()> {
        let Some(lost) = self.lost.as_mut() else {
            return Ok(());
        };
        let new = lost.take_new().map_err(io::Error::other)?;
        if new.is_empty() {
            return Ok(());
        }
        let totals = lost.totals().map_err(io::Error::other)?;
        let now = self.clock.to_unix_ns(Clock::monotonic_now_ns());
        for (reason, count) in new {
            let total = totals[reason as usize];
            self.out
                .lost(now, count, total, LostReason::describe(reason))?;
        }
        self.out.flush()
    }
}

impl<H: RecordHandler> Consumer for Streamer<H> {
    fn record(&mut self, data: &[u8]) -> io::Result<()> {
        self.events += 1;
        self.handler.record(data, &self.clock, &mut self.out)
    }

    fn batch_done(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn tick(&mut self) -> io::Result<bool> {
        self.handler.tick(&self.clock, &mut self.out)?;
        self.report_lost()?;
        Ok(true)
    }
}

/// The error for a ring buffer record too short for the type a tool
/// expects (an object from another version of the tool).
pub fn short_record(data: &[u8]) -> io::Error {
    io::Error::other(format!(
        "short record of {} bytes from the kernel",
        data.len()
    ))
}

/// Emits a decoded record, or fails with [`short_record`] when decoding
/// found the record too short.
pub fn emit_decoded<R: ebpftop_output::Record>(
    out: &mut Output,
    record: Option<R>,
    data: &[u8],
) -> io::Result<()> {
    match record {
        Some(r) => out.emit(&r),
        None => Err(short_record(data)),
    }
}
