//! What the user is looking at (tab, sort, filter, selection, pause) and
//! how keys change it: pure state, tested without a terminal.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::state::{Dashboard, Process};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum View {
    #[default]
    Processes,
    Syscalls,
    Files,
    Network,
    Scheduler,
    Bpf,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Processes,
        View::Syscalls,
        View::Files,
        View::Network,
        View::Scheduler,
        View::Bpf,
    ];

    pub fn title(self) -> &'static str {
        match self {
            View::Processes => "Processes",
            View::Syscalls => "Syscalls",
            View::Files => "Files",
            View::Network => "Network",
            View::Scheduler => "Scheduler",
            View::Bpf => "BPF",
        }
    }

    fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// The Processes table's columns, in order; each sorts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Pid,
    Comm,
    User,
    Syscalls,
    TopSyscall,
    Opens,
    FailedOpens,
    Execs,
    Connects,
    RunqP99,
    Cgroup,
}

impl Column {
    pub const ALL: [Column; 11] = [
        Column::Pid,
        Column::Comm,
        Column::User,
        Column::Syscalls,
        Column::TopSyscall,
        Column::Opens,
        Column::FailedOpens,
        Column::Execs,
        Column::Connects,
        Column::RunqP99,
        Column::Cgroup,
    ];

    pub fn header(self) -> &'static str {
        match self {
            Column::Pid => "PID",
            Column::Comm => "COMM",
            Column::User => "USER",
            Column::Syscalls => "SYSCALLS/s",
            Column::TopSyscall => "TOP SYSCALL",
            Column::Opens => "OPENS/s",
            Column::FailedOpens => "FAILED/s",
            Column::Execs => "EXECS",
            Column::Connects => "CONNECTS/s",
            Column::RunqP99 => "RUNQ p99",
            Column::Cgroup => "CGROUP",
        }
    }

    /// Numbers sort largest first by default, text A to Z.
    fn numeric(self) -> bool {
        !matches!(
            self,
            Column::Comm | Column::User | Column::TopSyscall | Column::Cgroup
        )
    }

    fn index(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }
}

#[derive(Clone, Debug)]
pub struct Ui {
    pub view: View,
    pub sort: Column,
    /// Against the column's natural order.
    pub reversed: bool,
    pub filter: String,
    /// Typing goes to the filter.
    pub editing_filter: bool,
    /// Row selected in the current view's main table.
    pub selected: usize,
    /// The process drilled into with Enter.
    pub drill: Option<u32>,
    pub paused: bool,
    pub help: bool,
    /// Set by the replay when the capture has been played to its end.
    pub ended: bool,
}

impl Default for Ui {
    fn default() -> Self {
        Ui {
            view: View::Processes,
            sort: Column::Syscalls,
            reversed: false,
            filter: String::new(),
            editing_filter: false,
            selected: 0,
            drill: None,
            paused: false,
            help: false,
            ended: false,
        }
    }
}

/// What a key asks of the program beyond redrawing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    /// Pause was toggled: the caller freezes (or unfreezes) the data shown.
    Pause,
}

impl Ui {
    pub fn new(view: View) -> Self {
        Ui {
            view,
            ..Ui::default()
        }
    }

    pub fn key(&mut self, key: KeyEvent, d: &Dashboard) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c')) {
            return Action::Quit;
        }
        if self.editing_filter {
            match key.code {
                KeyCode::Enter => self.editing_filter = false,
                KeyCode::Esc => {
                    self.editing_filter = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) if !ctrl => self.filter.push(c),
                _ => {}
            }
            self.selected = 0;
            return Action::None;
        }
        if self.help {
            // Any key closes the help; q still quits.
            self.help = false;
            return if key.code == KeyCode::Char('q') {
                Action::Quit
            } else {
                Action::None
            };
        }
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('?') | KeyCode::F(1) => self.help = true,
            KeyCode::Char('p') | KeyCode::Char(' ') => {
                self.paused = !self.paused;
                return Action::Pause;
            }
            KeyCode::Char(c @ '1'..='6') => {
                self.switch(View::ALL[c as usize - '1' as usize]);
            }
            KeyCode::Tab => self.switch(View::ALL[(self.view.index() + 1) % View::ALL.len()]),
            KeyCode::BackTab => {
                self.switch(View::ALL[(self.view.index() + View::ALL.len() - 1) % View::ALL.len()])
            }
            KeyCode::Char('s') | KeyCode::Char('>') | KeyCode::Right => {
                self.sort = Column::ALL[(self.sort.index() + 1) % Column::ALL.len()];
                self.reversed = false;
            }
            KeyCode::Char('<') | KeyCode::Left => {
                self.sort =
                    Column::ALL[(self.sort.index() + Column::ALL.len() - 1) % Column::ALL.len()];
                self.reversed = false;
            }
            KeyCode::Char('r') => self.reversed = !self.reversed,
            KeyCode::Char('/') => {
                self.editing_filter = true;
                self.drill = None;
            }
            KeyCode::Down | KeyCode::Char('j') => self.selected = self.selected.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::PageDown => self.selected = self.selected.saturating_add(10),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(10),
            KeyCode::Home => self.selected = 0,
            KeyCode::Enter => self.enter(d),
            KeyCode::Esc | KeyCode::Backspace if self.drill.take().is_none() => {
                self.filter.clear();
            }
            _ => {}
        }
        Action::None
    }

    fn switch(&mut self, view: View) {
        if view != self.view {
            self.view = view;
            self.selected = 0;
            self.drill = None;
        }
    }

    /// Enter on the Processes view: drill into the selected process.
    fn enter(&mut self, d: &Dashboard) {
        if self.view == View::Processes && self.drill.is_none() {
            self.drill = self.process_rows(d).get(self.selected).map(|p| p.pid);
        }
    }

    /// The Processes rows as shown: filtered, then sorted.
    pub fn process_rows<'a>(&self, d: &'a Dashboard) -> Vec<&'a Process> {
        let filter = self.filter.to_lowercase();
        let mut rows: Vec<&Process> = d
            .processes
            .values()
            .filter(|p| {
                filter.is_empty()
                    || p.comm.to_lowercase().contains(&filter)
                    || p.pid.to_string() == filter
                    || p.cgroup.to_lowercase().contains(&filter)
                    || p.user.to_lowercase().contains(&filter)
            })
            .collect();
        let col = self.sort;
        rows.sort_by(|a, b| {
            let o = match col {
                Column::Pid => a.pid.cmp(&b.pid),
                Column::Comm => a.comm.cmp(&b.comm),
                Column::User => a.user.cmp(&b.user),
                Column::Syscalls => a.last.syscalls.cmp(&b.last.syscalls),
                Column::TopSyscall => {
                    let n = |p: &Process| p.top_syscall().map(|s| s.name.clone());
                    n(a).cmp(&n(b))
                }
                Column::Opens => a.last.opens.cmp(&b.last.opens),
                Column::FailedOpens => a.last.failed_opens.cmp(&b.last.failed_opens),
                Column::Execs => a.execs_total.cmp(&b.execs_total),
                Column::Connects => a.last.connects.cmp(&b.last.connects),
                Column::RunqP99 => a.runq_p99_us.cmp(&b.runq_p99_us),
                Column::Cgroup => a.cgroup.cmp(&b.cgroup),
            };
            let o = if col.numeric() { o.reverse() } else { o };
            let o = if self.reversed { o.reverse() } else { o };
            // Ties by pid, so rows do not jump between refreshes.
            o.then(a.pid.cmp(&b.pid))
        });
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Input, OpenEvent};

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn dashboard() -> Dashboard {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        for (pid, comm, n) in [(1, "init", 1), (20, "bash", 5), (300, "cat", 3)] {
            for _ in 0..n {
                d.apply(Input::Open(OpenEvent {
                    ts_ns: 0,
                    pid,
                    comm: comm.into(),
                    uid: 0,
                    path: "/x".into(),
                    error: None,
                }));
            }
        }
        d.apply(Input::IntervalEnd {
            ts_ns: 1,
            uptime_secs: None,
        });
        d
    }

    fn pids(ui: &Ui, d: &Dashboard) -> Vec<u32> {
        ui.process_rows(d).iter().map(|p| p.pid).collect()
    }

    #[test]
    fn keys_switch_views_sort_and_filter() {
        let d = dashboard();
        let mut ui = Ui {
            sort: Column::Opens,
            ..Ui::default()
        };
        assert_eq!(pids(&ui, &d), [20, 300, 1]);
        ui.key(key(KeyCode::Char('r')), &d);
        assert_eq!(pids(&ui, &d), [1, 300, 20]);
        ui.key(key(KeyCode::Char('<')), &d);
        assert_eq!(ui.sort, Column::TopSyscall);
        ui.key(key(KeyCode::Char('/')), &d);
        for c in "ca".chars() {
            ui.key(key(KeyCode::Char(c)), &d);
        }
        ui.key(key(KeyCode::Enter), &d);
        assert_eq!(pids(&ui, &d), [300]);
        ui.key(key(KeyCode::Enter), &d);
        assert_eq!(ui.drill, Some(300));
        ui.key(key(KeyCode::Esc), &d);
        assert_eq!(ui.drill, None);
        ui.key(key(KeyCode::Char('4')), &d);
        assert_eq!(ui.view, View::Network);
        ui.key(key(KeyCode::Tab), &d);
        assert_eq!(ui.view, View::Scheduler);
        assert_eq!(ui.key(key(KeyCode::Char('p')), &d), Action::Pause);
        assert!(ui.paused);
        assert_eq!(ui.key(key(KeyCode::Char('q')), &d), Action::Quit);
        assert_eq!(
            ui.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL), &d),
            Action::Quit
        );
    }
}
