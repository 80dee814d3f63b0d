//! ebpftop: the live dashboard, or the replay of a capture.

use std::{io::IsTerminal, os::fd::AsRawFd, process::ExitCode, time::Duration};

use ebpftop::{
    app::{App, Source, replay},
    capture::{Capture, Recorder},
    cli::Args,
    live::Live,
    model::Input,
    state::Dashboard,
    ui::Ui,
};
use ebpftop_cli::run_main;
use ebpftop_runtime::{EventLoop, Stop};

fn run(args: Args) -> anyhow::Result<()> {
    if !args.once && !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "standard output is not a terminal: run it in one, or use --once for a text snapshot"
        );
    }
    let ui = Ui::new(args.view);
    let mut event_loop = EventLoop::new()?;
    let (dashboard, source, tick) = match &args.replay {
        Some(path) => {
            let capture = Capture::read(path)?;
            let tick = Duration::from_secs_f64(capture.interval_secs.max(0.01));
            let (d, s) = replay(capture);
            if args.once {
                return replay_once(d, s, ui);
            }
            (d, s, args.interval.min(tick).max(Duration::from_millis(10)))
        }
        None => {
            let mut notes = Vec::new();
            let mut live = Live::start(&mut notes)?;
            let (host, kernel) = (hostname(), kernel_release());
            let secs = args.interval.as_secs_f64();
            if let Some(path) = &args.record {
                live.recorder = Some(Recorder::create(path, &host, &kernel, secs)?);
            }
            for ring in live.take_rings() {
                event_loop.add_ring(ring)?;
            }
            let mut d = Dashboard::new(host, kernel, secs);
            for n in notes {
                d.apply(n);
            }
            (d, Source::Live(Box::new(live)), args.interval)
        }
    };
    let mut app = App::new(dashboard, ui, source, args.once);
    // Keys come from the controlling terminal, whatever stdin is.
    let tty = if args.once {
        None
    } else {
        let tty = std::fs::File::open("/dev/tty")
            .map_err(|e| anyhow::anyhow!("opening the terminal /dev/tty: {e}"))?;
        event_loop.watch_input(tty.as_raw_fd())?;
        app.open_terminal(tty.as_raw_fd())?;
        Some(tty)
    };
    let stop = event_loop.run(&mut app, args.duration, tick)?;
    drop(app);
    drop(tty);
    log::debug!("stopped: {stop:?}");
    if let Stop::Signal(s) = stop {
        log::info!("signal {s}");
    }
    Ok(())
}

/// `--replay FILE --once`: the capture's complete intervals, then the
/// snapshot (what a live `--once` printed, for a capture it recorded).
fn replay_once(d: Dashboard, source: Source, ui: Ui) -> anyhow::Result<()> {
    let Source::Replay(intervals) = source else {
        unreachable!("replay() makes a replay source");
    };
    let mut app = App::new(d, ui, Source::Replay(Vec::new().into_iter()), true);
    for inputs in intervals {
        // Records after the last interval's end were read after the
        // snapshot: they belong to no complete interval.
        if matches!(inputs.last(), Some(Input::IntervalEnd { .. })) {
            app.apply_all(inputs);
        }
    }
    print!("{}", app.snapshot(160));
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

fn main() -> ExitCode {
    run_main("ebpftop", |a: &Args| a.verbose, run)
}
