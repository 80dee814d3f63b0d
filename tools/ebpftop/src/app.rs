//! The running dashboard: a source of inputs (live collectors or a
//! capture), the state they build, the UI state and the terminal, driven
//! by the runtime's event loop (ring buffers, keys, signals, ticks).

use std::{
    io::{self, Stdout, Write},
    os::fd::RawFd,
    time::Duration,
};

use crossterm::{
    event::{self, Event, KeyEvent, KeyEventKind},
    execute,
    terminal::{EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode},
};
use ebpftop_runtime::Consumer;
use ratatui::{
    Terminal,
    backend::{CrosstermBackend, TestBackend},
    layout::{Constraint, Layout},
};

use crate::{
    capture::Capture,
    live::Live,
    model::Input,
    state::Dashboard,
    ui::{Action, Ui, View},
    views,
};

/// Where inputs come from.
pub enum Source {
    Live(Box<Live>),
    /// The capture's intervals not yet shown.
    Replay(std::vec::IntoIter<Vec<Input>>),
}

pub struct App {
    pub dashboard: Dashboard,
    /// What is drawn while paused.
    frozen: Option<Dashboard>,
    pub ui: Ui,
    source: Source,
    terminal: Option<Terminal<CrosstermBackend<Stdout>>>,
    /// Print a snapshot after the first interval and stop.
    once: bool,
    /// The terminal the keys come from.
    tty: Option<RawFd>,
    inputs: Vec<Input>,
}

impl App {
    pub fn new(dashboard: Dashboard, ui: Ui, source: Source, once: bool) -> App {
        App {
            dashboard,
            frozen: None,
            ui,
            source,
            terminal: None,
            once,
            tty: None,
            inputs: Vec::new(),
        }
    }

    /// Takes over the terminal whose keys come from `tty`; it is given
    /// back by [`restore_terminal`], which also runs on a panic.
    pub fn open_terminal(&mut self, tty: RawFd) -> io::Result<()> {
        self.tty = Some(tty);
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen)?;
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        let mut t = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        t.hide_cursor()?;
        t.clear()?;
        self.terminal = Some(t);
        self.draw()
    }

    pub fn apply_all(&mut self, inputs: impl IntoIterator<Item = Input>) {
        for i in inputs {
            self.dashboard.apply(i);
        }
    }

    fn apply_pending(&mut self) {
        let inputs = std::mem::take(&mut self.inputs);
        self.apply_all(inputs);
    }

    fn draw(&mut self) -> io::Result<()> {
        let Some(t) = self.terminal.as_mut() else {
            return Ok(());
        };
        let d = self.frozen.as_ref().unwrap_or(&self.dashboard);
        t.draw(|f| views::draw(f, d, &self.ui))?;
        Ok(())
    }

    /// The current view as text, `width` columns wide, for `--once`.
    pub fn snapshot(&self, width: u16) -> String {
        let rows = (self.dashboard.processes.len() as u16)
            .max(self.dashboard.syscalls.len() as u16)
            .max(self.dashboard.files.len() as u16)
            .max(self.dashboard.net.len() as u16)
            .max(self.dashboard.bpf.len() as u16)
            .clamp(10, 2000)
            + 8;
        let mut t = Terminal::new(TestBackend::new(width, rows))
            .expect("an in-memory terminal cannot fail");
        t.draw(|f| {
            let [header, body] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(f.area());
            views::draw_header(f, header, &self.dashboard, &self.ui);
            views::draw_view(f, body, &self.dashboard, &self.ui);
        })
        .expect("an in-memory terminal cannot fail");
        let buf = t.backend().buffer();
        let mut lines: Vec<String> = (0..rows)
            .map(|y| {
                (0..width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect();
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines.join("\n") + "\n"
    }

    fn handle_keys(&mut self) -> io::Result<bool> {
        // A terminal that hung up (its window closed, its tmux session
        // killed) reads as end of file forever, and crossterm would spin
        // on it: that is the end of the dashboard.
        if let Some(fd) = self.tty
            && hung_up(fd)
        {
            log::info!("the terminal hung up");
            return Ok(false);
        }
        while event::poll(Duration::ZERO)? {
            match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release && !self.on_key(k) => {
                    return Ok(false);
                }
                Event::Resize(..) => {
                    if let Some(t) = self.terminal.as_mut() {
                        t.autoresize()?;
                    }
                }
                _ => {}
            }
        }
        self.draw()?;
        Ok(true)
    }

    /// A key; `false` to quit. While paused, keys act on what is shown.
    fn on_key(&mut self, k: KeyEvent) -> bool {
        let before = self.ui.view;
        let shown = self.frozen.as_ref().unwrap_or(&self.dashboard);
        match self.ui.key(k, shown) {
            Action::Quit => return false,
            Action::Pause => self.frozen = self.ui.paused.then(|| self.dashboard.clone()),
            Action::None => {}
        }
        if before != self.ui.view && self.ui.view == View::Bpf {
            // Programs listed at once; rates from the next tick.
            self.refresh_bpf();
        }
        true
    }

    /// What the screen shows: the data frozen by `p`, or the live data.
    pub fn shown(&self) -> &Dashboard {
        self.frozen.as_ref().unwrap_or(&self.dashboard)
    }

    fn refresh_bpf(&mut self) {
        if let Source::Live(live) = &mut self.source {
            if let Err(why) = live.bpf.want(true) {
                self.inputs.push(Input::Unavailable {
                    view: "bpf".into(),
                    why,
                });
            }
            let programs = live.bpf.read();
            self.inputs.push(Input::Bpf(programs));
            self.apply_pending();
        }
    }
}

impl Consumer for App {
    fn record(&mut self, data: &[u8]) -> io::Result<()> {
        self.record_from(0, data)
    }

    fn record_from(&mut self, ring: usize, data: &[u8]) -> io::Result<()> {
        if let Source::Live(live) = &mut self.source {
            live.record(ring, data, &mut self.inputs)?;
        }
        Ok(())
    }

    fn batch_done(&mut self) -> io::Result<()> {
        self.apply_pending();
        Ok(())
    }

    fn tick(&mut self) -> io::Result<bool> {
        match &mut self.source {
            Source::Live(live) => live.tick(self.ui.view == View::Bpf, &mut self.inputs)?,
            Source::Replay(intervals) => match intervals.next() {
                Some(inputs) => self.inputs.extend(inputs),
                None => self.ui.ended = true,
            },
        }
        self.apply_pending();
        if self.once {
            let mut out = io::stdout().lock();
            out.write_all(self.snapshot(160).as_bytes())?;
            out.flush()?;
            return Ok(false);
        }
        self.draw()?;
        Ok(true)
    }

    fn input(&mut self) -> io::Result<bool> {
        self.handle_keys()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if self.terminal.take().is_some() {
            restore_terminal();
        }
    }
}

/// Whether `fd` (a terminal) has hung up or failed.
fn hung_up(fd: RawFd) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no waiting.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// Leaves the alternate screen and raw mode, shows the cursor.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

/// Opens a capture as a replay source, with the dashboard it starts from.
pub fn replay(c: Capture) -> (Dashboard, Source) {
    let d = Dashboard::new(c.host, c.kernel, c.interval_secs);
    (d, Source::Replay(c.intervals.into_iter()))
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyModifiers};

    use super::*;
    use crate::model::OpenEvent;

    fn open(pid: u32) -> Input {
        Input::Open(OpenEvent {
            ts_ns: 0,
            pid,
            comm: format!("p{pid}"),
            uid: 0,
            path: "/x".into(),
            error: None,
        })
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn pause_freezes_what_is_shown_while_data_keeps_coming() {
        let d = Dashboard::new("h".into(), "k".into(), 1.0);
        let mut app = App::new(
            d,
            Ui::default(),
            Source::Replay(Vec::new().into_iter()),
            false,
        );
        app.apply_all([open(1)]);
        assert!(app.on_key(key('p')));
        app.apply_all([open(2)]);
        assert!(app.shown().processes.contains_key(&1));
        assert!(
            !app.shown().processes.contains_key(&2),
            "shown while paused"
        );
        assert!(
            app.dashboard.processes.contains_key(&2),
            "collected while paused"
        );
        assert!(app.on_key(key('p')));
        assert!(app.shown().processes.contains_key(&2));
        assert!(!app.on_key(key('q')));
    }

    #[test]
    fn help_and_pause_show_on_screen() {
        let d = Dashboard::new("h".into(), "k".into(), 1.0);
        let mut app = App::new(
            d,
            Ui::default(),
            Source::Replay(Vec::new().into_iter()),
            false,
        );
        app.on_key(key('p'));
        app.on_key(key('?'));
        let screen = views::testing::render(app.shown(), &app.ui, 120, 30);
        assert!(screen[0].contains("PAUSED"), "{}", screen[0]);
        assert!(
            screen.iter().any(|l| l.contains("switch view")),
            "{screen:#?}"
        );
        // Any key closes the help.
        app.on_key(key('x'));
        let screen = views::testing::render(app.shown(), &app.ui, 120, 30);
        assert!(!screen.iter().any(|l| l.contains("switch view")));
    }
}
