//! The Syscalls, Files and Network views.

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    widgets::{Block, Borders, Row, Sparkline, Table, TableState},
};

use super::{HEADER_STYLE, SELECTED_STYLE, clamp, hms, human, micros};
use crate::{model::NetKind, state::Dashboard, ui::Ui};

pub fn draw_syscalls(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    let [top, spark] = Layout::vertical([Constraint::Min(3), Constraint::Length(6)]).areas(area);
    let rows = d.syscall_rows();
    let selected = clamp(ui.selected, rows.len());
    let table = Table::new(
        rows.iter().map(|s| {
            let l = s.last.as_ref();
            Row::new([
                s.name.clone(),
                s.nr.to_string(),
                human(d.rate(l.map_or(0, |l| l.count))),
                l.map_or_else(String::new, |l| micros(l.p50_us)),
                l.map_or_else(String::new, |l| micros(l.p99_us)),
                l.map_or_else(String::new, |l| micros(l.max_us)),
            ])
        }),
        [
            Constraint::Length(22),
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(9),
            Constraint::Length(9),
            Constraint::Length(9),
        ],
    )
    .header(Row::new(["SYSCALL", "NR", "CALLS/s", "p50", "p99", "MAX"]).style(HEADER_STYLE))
    .row_highlight_style(SELECTED_STYLE);
    let mut state = TableState::default().with_selected(selected);
    frame.render_stateful_widget(table, top, &mut state);
    if let Some(s) = selected.map(|i| rows[i]) {
        let data: Vec<u64> = s.history.iter().copied().collect();
        let peak = data.iter().copied().max().unwrap_or(0);
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .block(Block::default().borders(Borders::TOP).title(format!(
                    " {}: calls per interval, last {} intervals, peak {} ",
                    s.name,
                    data.len(),
                    peak
                ))),
            spark,
        );
    }
}

pub fn draw_files(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    let [top, tail] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Min(3)]).areas(area);
    let rows = d.file_rows();
    let table = Table::new(
        rows.iter().map(|f| {
            Row::new([
                f.opens.to_string(),
                human(d.rate(f.last)),
                f.failed.to_string(),
                format!("{} {}", f.last_pid, f.last_comm),
                f.path.clone(),
            ])
        }),
        [
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(24),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["OPENS", "OPENS/s", "FAILED", "LAST BY", "PATH"]).style(HEADER_STYLE))
    .block(Block::default().title(" top files by opens since start "))
    .row_highlight_style(SELECTED_STYLE);
    let mut state = TableState::default().with_selected(clamp(ui.selected, rows.len()));
    frame.render_stateful_widget(table, top, &mut state);
    let failed = Table::new(
        d.failed_opens.iter().rev().map(|o| {
            Row::new([
                hms(o.ts_ns),
                o.pid.to_string(),
                o.comm.clone(),
                o.error.clone().unwrap_or_default(),
                o.path.clone(),
            ])
        }),
        [
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(16),
            Constraint::Length(12),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["TIME", "PID", "COMM", "ERROR", "PATH"]).style(HEADER_STYLE))
    .block(
        Block::default()
            .borders(Borders::TOP)
            .title(" failed opens, newest first "),
    );
    frame.render_widget(failed, tail);
}

pub fn draw_network(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    let [top, dests] =
        Layout::vertical([Constraint::Percentage(60), Constraint::Min(3)]).areas(area);
    let events = Table::new(
        d.net.iter().rev().map(|n| {
            let (what, span) = match n.kind {
                NetKind::Connect => (n.result.clone(), micros(n.span_ns / 1000)),
                NetKind::Close => (
                    format!("tx {} rx {}", n.tx_bytes, n.rx_bytes),
                    micros(n.span_ns / 1000),
                ),
                NetKind::Accept => (String::new(), String::new()),
            };
            Row::new([
                hms(n.ts_ns),
                n.kind.label().to_string(),
                n.pid.to_string(),
                n.comm.clone(),
                n.local.clone(),
                n.remote.clone(),
                span,
                what,
            ])
        }),
        [
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(16),
            Constraint::Length(24),
            Constraint::Length(24),
            Constraint::Length(9),
            Constraint::Min(10),
        ],
    )
    .header(
        Row::new([
            "TIME", "EVENT", "PID", "COMM", "LOCAL", "REMOTE", "LAT/LIFE", "RESULT",
        ])
        .style(HEADER_STYLE),
    )
    .block(Block::default().title(" TCP connects, accepts and closes, newest first "));
    frame.render_widget(events, top);
    let rows = d.destination_rows();
    let table = Table::new(
        rows.iter().map(|r| {
            Row::new([
                r.remote.clone(),
                r.connects.to_string(),
                r.failed.to_string(),
                micros(r.total_latency_ns / r.connects.max(1) / 1000),
                r.last_comm.clone(),
            ])
        }),
        [
            Constraint::Length(30),
            Constraint::Length(9),
            Constraint::Length(7),
            Constraint::Length(9),
            Constraint::Min(10),
        ],
    )
    .header(
        Row::new(["DESTINATION", "CONNECTS", "FAILED", "AVG LAT", "LAST BY"]).style(HEADER_STYLE),
    )
    .block(
        Block::default()
            .borders(Borders::TOP)
            .title(" top destinations since start "),
    )
    .row_highlight_style(SELECTED_STYLE);
    let mut state = TableState::default().with_selected(clamp(ui.selected, rows.len()));
    frame.render_stateful_widget(table, dests, &mut state);
}

#[cfg(test)]
mod tests {
    use ebpftop_output::histogram::Log2Hist;

    use crate::{
        model::{Input, NetEvent, NetKind, OpenEvent, SyscallStats},
        state::Dashboard,
        ui::{Ui, View},
        views::testing::render,
    };

    fn stats(nr: u32, name: &str, count: u64) -> Input {
        Input::Syscalls(SyscallStats {
            pid: None,
            comm: String::new(),
            nr,
            name: name.into(),
            count,
            total_ns: count * 1000,
            hist: Log2Hist::new(),
            p50_us: 3,
            p99_us: 1500,
            max_us: 20_000,
        })
    }

    fn end(d: &mut Dashboard) {
        d.apply(Input::IntervalEnd {
            ts_ns: 0,
            uptime_secs: None,
        });
    }

    #[test]
    fn syscalls_busiest_first_with_percentiles_and_a_sparkline() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        for n in [10, 40] {
            d.apply(stats(0, "read", n));
            d.apply(stats(39, "getpid", 25));
            end(&mut d);
        }
        let ui = Ui::new(View::Syscalls);
        let screen = render(&d, &ui, 100, 20);
        let pos = |s: &str| screen.iter().position(|l| l.contains(s)).unwrap();
        assert!(pos("SYSCALL") < pos("read") && pos("read") < pos("getpid"));
        let read = &screen[pos("read")];
        assert!(
            read.contains("40") && read.contains("1.5ms") && read.contains("20ms"),
            "{read}"
        );
        assert!(
            screen
                .iter()
                .any(|l| l.contains("read: calls per interval, last 2 intervals, peak 40"))
        );
    }

    #[test]
    fn files_and_network_show_top_rows_and_tails() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        for (path, error) in [
            ("/etc/passwd", None),
            ("/etc/passwd", None),
            ("/nope", Some("ENOENT")),
        ] {
            d.apply(Input::Open(OpenEvent {
                ts_ns: 0,
                pid: 5,
                comm: "cat".into(),
                uid: 0,
                path: path.into(),
                error: error.map(str::to_string),
            }));
        }
        for (port, result) in [(80, "connected"), (81, "refused"), (80, "connected")] {
            d.apply(Input::Net(NetEvent {
                kind: NetKind::Connect,
                ts_ns: 0,
                pid: 6,
                comm: "curl".into(),
                local: "127.0.0.1:4000".into(),
                remote: format!("127.0.0.1:{port}"),
                result: result.into(),
                span_ns: 2_000_000,
                tx_bytes: 0,
                rx_bytes: 0,
            }));
        }
        end(&mut d);
        let screen = render(&d, &Ui::new(View::Files), 100, 20);
        let passwd = screen
            .iter()
            .position(|l| l.contains("/etc/passwd"))
            .unwrap();
        let nope = screen.iter().position(|l| l.contains("/nope")).unwrap();
        assert!(passwd < nope);
        assert!(
            screen
                .iter()
                .any(|l| l.contains("cat") && l.contains("ENOENT") && l.contains("/nope"))
        );
        let screen = render(&d, &Ui::new(View::Network), 120, 24);
        assert!(
            screen.iter().any(|l| l.contains("connect")
                && l.contains("127.0.0.1:81")
                && l.contains("refused"))
        );
        let top = screen
            .iter()
            .skip_while(|l| !l.contains("DESTINATION"))
            .nth(1)
            .unwrap();
        assert!(
            top.contains("127.0.0.1:80") && top.contains("2.0ms"),
            "{top}"
        );
    }
}
