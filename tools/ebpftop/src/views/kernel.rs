//! The Scheduler and BPF views.

use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    text::Line,
    widgets::{Block, Borders, Paragraph, Row, Table, TableState},
};

use super::{HEADER_STYLE, SELECTED_STYLE, clamp, histogram_lines, human, micros};
use crate::{state::Dashboard, ui::Ui};

pub fn draw_scheduler(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    let [hist, groups] =
        Layout::horizontal([Constraint::Length(70), Constraint::Min(30)]).areas(area);
    let mut lines = Vec::new();
    match &d.runq {
        Some(r) => {
            lines.push(Line::from(format!(
                "wakeups/s {}  p50 {}  p99 {}  max {}",
                human(d.rate(r.count)),
                micros(r.p50_us),
                micros(r.p99_us),
                micros(r.max_us)
            )));
            lines.extend(histogram_lines(&r.hist, "usecs", 30));
        }
        None => lines.push(Line::from("no run-queue latency measured yet")),
    }
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::RIGHT)
                .title(" run-queue latency, whole system "),
        ),
        hist,
    );
    let table = Table::new(
        d.runq_cgroups.iter().map(|r| {
            Row::new([
                r.cgroup.clone().unwrap_or_default(),
                human(d.rate(r.count)),
                micros(r.p50_us),
                micros(r.p99_us),
                micros(r.max_us),
            ])
        }),
        [
            Constraint::Min(20),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(8),
        ],
    )
    .header(Row::new(["CGROUP", "WAKEUPS/s", "p50", "p99", "MAX"]).style(HEADER_STYLE))
    .block(Block::default().title(" per cgroup, worst p99 first "))
    .row_highlight_style(SELECTED_STYLE);
    let mut state = TableState::default().with_selected(clamp(ui.selected, d.runq_cgroups.len()));
    frame.render_stateful_widget(table, groups, &mut state);
}

pub fn draw_bpf(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    let ours: f64 = d
        .bpf
        .iter()
        .filter(|r| r.program.ours)
        .filter_map(|r| r.cpu_percent)
        .sum();
    let title = format!(
        " {} BPF programs; * = loaded by ebpftop, together {:.2}% of a CPU ",
        d.bpf.len(),
        ours
    );
    let table = Table::new(
        d.bpf.iter().map(|r| {
            let p = &r.program;
            Row::new([
                format!("{}{}", p.id, if p.ours { "*" } else { "" }),
                p.kind.clone(),
                p.name.clone(),
                r.runs_per_sec.map_or_else(|| "-".into(), human),
                r.avg_ns.map_or_else(|| "-".into(), |n| n.to_string()),
                r.cpu_percent
                    .map_or_else(|| "-".into(), |c| format!("{c:.2}")),
            ])
        }),
        [
            Constraint::Length(8),
            Constraint::Length(16),
            Constraint::Length(24),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Length(7),
        ],
    )
    .header(Row::new(["ID", "TYPE", "NAME", "RUNS/s", "AVG ns", "CPU %"]).style(HEADER_STYLE))
    .block(Block::default().title(title))
    .row_highlight_style(SELECTED_STYLE);
    let mut state = TableState::default().with_selected(clamp(ui.selected, d.bpf.len()));
    frame.render_stateful_widget(table, area, &mut state);
}

#[cfg(test)]
mod tests {
    use ebpftop_output::histogram::Log2Hist;

    use crate::{
        model::{BpfProgram, Input, RunqStats},
        state::Dashboard,
        ui::{Ui, View},
        views::testing::render,
    };

    fn prog(id: u32, name: &str, runs: u64, ns: u64, ours: bool) -> BpfProgram {
        BpfProgram {
            id,
            kind: "tracepoint".into(),
            name: name.into(),
            run_count: Some(runs),
            run_time_ns: Some(ns),
            ours,
        }
    }

    fn end(d: &mut Dashboard) {
        d.apply(Input::IntervalEnd {
            ts_ns: 0,
            uptime_secs: None,
        });
    }

    #[test]
    fn bpf_rates_come_from_two_readings_and_ours_are_marked() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        d.apply(Input::Bpf(vec![
            prog(7, "theirs", 0, 0, false),
            prog(9, "syslat_exit", 0, 0, true),
        ]));
        end(&mut d);
        d.apply(Input::Bpf(vec![
            prog(7, "theirs", 1000, 500_000, false),
            prog(9, "syslat_exit", 2000, 10_000_000, true),
        ]));
        end(&mut d);
        let screen = render(&d, &Ui::new(View::Bpf), 100, 12);
        let line = |s: &str| screen.iter().find(|l| l.contains(s)).unwrap().clone();
        let ours = line("syslat_exit");
        assert!(
            ours.contains("9*") && ours.contains("2000") && ours.contains("5000"),
            "{ours}"
        );
        assert!(ours.contains("1.00"), "{ours}");
        let theirs = line("theirs");
        assert!(theirs.contains("1000") && theirs.contains("500") && !theirs.contains('*'));
        assert!(screen.iter().any(|l| l.contains("together 1.00% of a CPU")));
    }

    #[test]
    fn scheduler_shows_the_histogram_and_cgroups_by_p99() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        let mut hist = Log2Hist::new();
        for v in [3, 5, 900] {
            hist.add(v);
        }
        let stats = |cgroup: Option<&str>, p99| RunqStats {
            cgroup: cgroup.map(str::to_string),
            pid: None,
            count: 3,
            hist: hist.clone(),
            p50_us: 5,
            p99_us: p99,
            max_us: p99,
        };
        d.apply(Input::Runq(stats(None, 900)));
        d.apply(Input::Runq(stats(Some("/calm"), 10)));
        d.apply(Input::Runq(stats(Some("/noisy"), 5000)));
        end(&mut d);
        let screen = render(&d, &Ui::new(View::Scheduler), 120, 20);
        let pos = |s: &str| screen.iter().position(|l| l.contains(s)).unwrap();
        assert!(pos("/noisy") < pos("/calm"));
        assert!(screen[pos("512 -> 1023")].contains(": 1"));
        assert!(screen.iter().any(|l| l.contains("p99 900us")));
    }

    #[test]
    fn an_unavailable_view_says_why() {
        let mut d = Dashboard::new("h".into(), "k".into(), 1.0);
        d.apply(Input::Unavailable {
            view: "scheduler".into(),
            why: "kernel has no tracepoint sched:sched_wakeup".into(),
        });
        let screen = render(&d, &Ui::new(View::Scheduler), 100, 10);
        assert!(screen.iter().any(|l| {
            l.contains("Scheduler unavailable: kernel has no tracepoint sched:sched_wakeup")
        }));
    }
}
