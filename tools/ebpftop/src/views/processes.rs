//! The Processes view: one row per process, and one process's details.

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState},
};

use super::{HEADER_STYLE, SELECTED_STYLE, clamp, histogram_lines, hms, human, micros};
use crate::{
    model::NetKind,
    state::{Dashboard, Process},
    ui::{Column, Ui},
};

const WIDTHS: [Constraint; 11] = [
    Constraint::Length(7),
    Constraint::Length(16),
    Constraint::Length(9),
    Constraint::Length(11),
    Constraint::Length(16),
    Constraint::Length(8),
    Constraint::Length(9),
    Constraint::Length(6),
    Constraint::Length(11),
    Constraint::Length(9),
    Constraint::Min(8),
];

pub fn draw(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    if let Some(pid) = ui.drill {
        match d.processes.get(&pid) {
            Some(p) => return draw_process(frame, area, d, p),
            None => {
                frame.render_widget(
                    Paragraph::new(format!("process {pid} has gone (Esc to go back)")),
                    area,
                );
                return;
            }
        }
    }
    let rows = ui.process_rows(d);
    let header = Row::new(Column::ALL.iter().map(|c| {
        let mark = if *c == ui.sort {
            if ui.reversed { "▲" } else { "▼" }
        } else {
            ""
        };
        Cell::from(format!("{}{mark}", c.header()))
    }))
    .style(HEADER_STYLE);
    let table = Table::new(
        rows.iter().map(|p| {
            Row::new([
                p.pid.to_string(),
                p.comm.clone(),
                p.user.clone(),
                human(d.rate(p.last.syscalls)),
                p.top_syscall().map_or_else(String::new, |s| s.name.clone()),
                human(d.rate(p.last.opens)),
                human(d.rate(p.last.failed_opens)),
                p.execs_total.to_string(),
                human(d.rate(p.last.connects)),
                p.runq_p99_us.map_or_else(|| "-".into(), micros),
                p.cgroup.clone(),
            ])
        }),
        WIDTHS,
    )
    .header(header)
    .row_highlight_style(SELECTED_STYLE);
    let mut state = TableState::default().with_selected(clamp(ui.selected, rows.len()));
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_process(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, p: &Process) {
    let [summary, middle, bottom] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Percentage(50),
        Constraint::Min(4),
    ])
    .areas(area);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(format!(
                "PID {}  {}  user {}  cgroup {}",
                p.pid,
                p.comm,
                or_dash(&p.user),
                or_dash(&p.cgroup)
            ))
            .style(HEADER_STYLE),
            Line::from(format!(
                "syscalls/s {}  opens/s {}  failed opens/s {}  execs {}  connects/s {}  run-queue p99 {}   (Esc: back)",
                human(d.rate(p.last.syscalls)),
                human(d.rate(p.last.opens)),
                human(d.rate(p.last.failed_opens)),
                p.execs_total,
                human(d.rate(p.last.connects)),
                p.runq_p99_us.map_or_else(|| "-".into(), micros),
            )),
        ]),
        summary,
    );
    let [calls, hist] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(middle);
    let table = Table::new(
        p.syscalls.iter().map(|s| {
            Row::new([
                s.name.clone(),
                human(d.rate(s.count)),
                micros(s.p50_us),
                micros(s.p99_us),
                micros(s.max_us),
            ])
        }),
        [
            Constraint::Min(14),
            Constraint::Length(9),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(["SYSCALL", "CALLS/s", "p50", "p99", "MAX"]).style(HEADER_STYLE))
    .block(Block::default().borders(Borders::TOP).title(" syscalls "));
    frame.render_widget(table, calls);
    frame.render_widget(
        Paragraph::new(histogram_lines(&p.latency_hist(), "usecs", 30)).block(
            Block::default()
                .borders(Borders::TOP)
                .title(" syscall latency, all syscalls "),
        ),
        hist,
    );
    let [opens, net, execs] = Layout::horizontal([
        Constraint::Percentage(40),
        Constraint::Percentage(35),
        Constraint::Percentage(25),
    ])
    .areas(bottom);
    let lines = |it: Vec<String>| it.into_iter().rev().map(Line::from).collect::<Vec<_>>();
    frame.render_widget(
        Paragraph::new(lines(
            p.recent_opens
                .iter()
                .map(|o| {
                    format!(
                        "{} {} {}",
                        hms(o.ts_ns),
                        o.error.as_deref().unwrap_or("ok"),
                        o.path
                    )
                })
                .collect(),
        ))
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(" recent opens "),
        ),
        opens,
    );
    frame.render_widget(
        Paragraph::new(lines(
            p.recent_net
                .iter()
                .map(|n| {
                    let what = match n.kind {
                        NetKind::Connect => n.result.clone(),
                        k => k.label().to_string(),
                    };
                    format!("{} {} {what}", hms(n.ts_ns), n.remote)
                })
                .collect(),
        ))
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(" recent connections "),
        ),
        net,
    );
    frame.render_widget(
        Paragraph::new(lines(
            p.child_execs
                .iter()
                .map(|e| format!("{} {} {}", e.pid, e.comm, e.argv))
                .collect(),
        ))
        .block(
            Block::default()
                .borders(Borders::TOP)
                .title(" children's execs "),
        ),
        execs,
    );
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::{
        model::{ExecEvent, Input, OpenEvent, ProcInfo},
        state::Dashboard,
        ui::{Column, Ui},
        views::testing::render,
    };

    fn state() -> Dashboard {
        let mut d = Dashboard::new("testhost".into(), "6.18.0".into(), 1.0);
        for (pid, comm, opens) in [(4242, "busy-worker", 7), (17, "sshd", 2), (99, "idle", 0)] {
            d.apply(Input::Process(ProcInfo {
                pid,
                comm: comm.into(),
                uid: Some(0),
                user: "root".into(),
                cgroup: format!("/system.slice/{comm}.service"),
            }));
            for i in 0..opens {
                d.apply(Input::Open(OpenEvent {
                    ts_ns: 0,
                    pid,
                    comm: comm.into(),
                    uid: 0,
                    path: format!("/etc/f{i}"),
                    error: (i == 0).then(|| "ENOENT".into()),
                }));
            }
        }
        d.apply(Input::Exec(ExecEvent {
            ts_ns: 0,
            pid: 5000,
            ppid: 4242,
            comm: "ls".into(),
            uid: 0,
            argv: "ls -l /tmp".into(),
            ret: Some(0),
        }));
        d.apply(Input::Lost(12));
        d.apply(Input::IntervalEnd {
            ts_ns: 0,
            uptime_secs: Some(3700.0),
        });
        d
    }

    fn row<'a>(screen: &'a [String], needle: &str) -> (usize, &'a String) {
        screen
            .iter()
            .enumerate()
            .find(|(_, l)| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} on screen:\n{}", screen.join("\n")))
    }

    #[test]
    fn rows_sort_by_the_chosen_column_and_the_header_shows_losses() {
        let d = state();
        let mut ui = Ui {
            sort: Column::Opens,
            ..Ui::default()
        };
        let screen = render(&d, &ui, 150, 20);
        assert!(screen[0].contains("testhost") && screen[0].contains("Linux 6.18.0"));
        assert!(screen[0].contains("lost 12 (total 12)"), "{}", screen[0]);
        assert!(screen[0].contains("up 01:01:40"), "{}", screen[0]);
        let (h, header) = row(&screen, "PID");
        for c in [
            "COMM",
            "USER",
            "SYSCALLS/s",
            "OPENS/s",
            "FAILED/s",
            "CONNECTS/s",
            "CGROUP",
        ] {
            assert!(header.contains(c), "{header}");
        }
        assert!(header.contains("OPENS/s▼"), "sort mark: {header}");
        let (busy, line) = row(&screen, "busy-worker");
        assert!(line.contains("4242") && line.contains("root"), "{line}");
        assert!(line.contains("/system.slice/busy-worker.service"), "{line}");
        let (sshd, _) = row(&screen, "sshd");
        let (idle, _) = row(&screen, "idle");
        assert!(h < busy && busy < sshd && sshd < idle, "{screen:#?}");
        ui.reversed = true;
        let screen = render(&d, &ui, 150, 20);
        assert!(row(&screen, "idle").0 < row(&screen, "busy-worker").0);
    }

    #[test]
    fn a_filter_keeps_matching_rows_and_enter_shows_the_process() {
        let d = state();
        let mut ui = Ui::default();
        ui.key(KeyEvent::new(KeyCode::Char('/'), KeyModifiers::NONE), &d);
        for c in "ssh".chars() {
            ui.key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), &d);
        }
        ui.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), &d);
        let screen = render(&d, &ui, 150, 20);
        assert!(screen.iter().all(|l| !l.contains("busy-worker")));
        row(&screen, "sshd");
        ui.filter.clear();
        ui.sort = Column::Opens;
        ui.key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), &d);
        assert_eq!(ui.drill, Some(4242));
        let screen = render(&d, &ui, 150, 30);
        row(&screen, "PID 4242  busy-worker");
        row(&screen, "recent opens");
        row(&screen, "ENOENT /etc/f0");
        row(&screen, "ls -l /tmp");
    }
}
