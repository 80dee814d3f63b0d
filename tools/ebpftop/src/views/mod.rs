//! Drawing: pure functions of the dashboard's data and the UI state.

mod kernel;
mod processes;
mod system;

use std::fmt::Write as _;

use ebpftop_output::histogram::Log2Hist;
use ratatui::{
    Frame,
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style, Stylize},
    text::{Line, Span},
    widgets::{Block, Borders, Clear, Paragraph, Wrap},
};

use crate::{
    state::Dashboard,
    ui::{Ui, View},
};

pub(crate) const HEADER_STYLE: Style = Style::new().add_modifier(Modifier::BOLD);
pub(crate) const SELECTED_STYLE: Style = Style::new().add_modifier(Modifier::REVERSED);

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, d: &Dashboard, ui: &Ui) {
    let [header, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, d, ui);
    frame.render_widget(Paragraph::new(tab_line(ui.view)), tabs);
    draw_view(frame, body, d, ui);
    frame.render_widget(Paragraph::new(footer_line(ui)), footer);
    if ui.help {
        draw_help(frame, body);
    }
}

/// The header line: host, kernel, uptime, events/s, losses.
pub fn draw_header(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    frame.render_widget(Paragraph::new(header_line(d, ui)), area);
}

/// Only the current view's body, as `--once` prints it.
pub fn draw_view(frame: &mut Frame<'_>, area: Rect, d: &Dashboard, ui: &Ui) {
    let area = match d.unavailable.get(view_key(ui.view)) {
        Some(why) => {
            let [note, rest] =
                Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
            frame.render_widget(
                Paragraph::new(format!("{} unavailable: {why}", ui.view.title()))
                    .style(Style::new().fg(Color::Yellow))
                    .wrap(Wrap { trim: true }),
                note,
            );
            rest
        }
        None => area,
    };
    match ui.view {
        View::Processes => processes::draw(frame, area, d, ui),
        View::Syscalls => system::draw_syscalls(frame, area, d, ui),
        View::Files => system::draw_files(frame, area, d, ui),
        View::Network => system::draw_network(frame, area, d, ui),
        View::Scheduler => kernel::draw_scheduler(frame, area, d, ui),
        View::Bpf => kernel::draw_bpf(frame, area, d, ui),
    }
}

/// The key a collector files a view's unavailability under.
pub fn view_key(view: View) -> &'static str {
    match view {
        View::Processes => "processes",
        View::Syscalls => "syscalls",
        View::Files => "files",
        View::Network => "network",
        View::Scheduler => "scheduler",
        View::Bpf => "bpf",
    }
}

fn header_line(d: &Dashboard, ui: &Ui) -> Line<'static> {
    let mut text = format!("ebpftop  {}  Linux {}", d.host, d.kernel);
    if let Some(up) = d.uptime_secs {
        let _ = write!(text, "  up {}", uptime(up));
    }
    let _ = write!(
        text,
        "  {} events/s  every {}s",
        human(d.rate(d.events_last)),
        trim_float(d.interval_secs)
    );
    let mut spans = vec![Span::raw(text)];
    // Never hidden: red once anything is lost.
    let lost = format!("  lost {} (total {})", d.lost_last, d.lost_total);
    spans.push(if d.lost_total > 0 {
        Span::styled(
            lost,
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )
    } else {
        Span::raw(lost)
    });
    if ui.paused {
        spans.push(Span::styled(
            "  PAUSED",
            Style::new().add_modifier(Modifier::REVERSED),
        ));
    }
    if ui.ended {
        spans.push(Span::styled(
            "  END OF CAPTURE",
            Style::new().add_modifier(Modifier::REVERSED),
        ));
    }
    Line::from(spans)
}

fn tab_line(current: View) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, v) in View::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, v.title());
        spans.push(if *v == current {
            Span::styled(label, SELECTED_STYLE.add_modifier(Modifier::BOLD))
        } else {
            Span::raw(label)
        });
    }
    Line::from(spans)
}

fn footer_line(ui: &Ui) -> Line<'static> {
    if ui.editing_filter {
        return Line::from(vec![
            Span::raw("filter: "),
            Span::raw(ui.filter.clone()).bold(),
            Span::raw("_   (Enter keeps it, Esc clears it)"),
        ]);
    }
    let mut text = String::from("q quit  ? help  p pause  1-6/Tab views");
    if ui.view == View::Processes {
        text.push_str("  s/</> sort  r reverse  / filter  Enter details");
    } else {
        text.push_str("  Up/Down select");
    }
    if !ui.filter.is_empty() {
        let _ = write!(text, "  [filter: {}]", ui.filter);
    }
    Line::from(text)
}

const HELP: &str = "\
1-6, Tab, Shift-Tab   switch view
Up/Down, j/k, PgUp/PgDn   select a row
s or >, <             sort the Processes table by the next/previous column
r                     reverse the sort order
/                     filter processes by name, pid, user or cgroup (Enter keeps, Esc clears)
Enter                 details of the selected process; Esc goes back
p or Space            pause (freeze what is shown; data is still collected)
q, Ctrl-C             quit
Rates are per second over the refresh interval (-i). Lost events are counted in the header.";

fn draw_help(frame: &mut Frame<'_>, area: Rect) {
    let width = area.width.min(96);
    let height = area.height.min(12);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(HELP)
            .block(Block::default().borders(Borders::ALL).title(" keys "))
            .wrap(Wrap { trim: false }),
        popup,
    );
}

/// A rate, compact: 0, 3.5, 120, 45.2k, 3.1M.
pub fn human(v: f64) -> String {
    if v >= 999_950.0 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 9_999.5 {
        format!("{:.1}k", v / 1e3)
    } else if v >= 99.5 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Microseconds, compact: 850us, 12.3ms, 2.1s.
pub fn micros(us: u64) -> String {
    if us >= 1_000_000 {
        format!("{:.1}s", us as f64 / 1e6)
    } else if us >= 10_000 {
        format!("{:.0}ms", us as f64 / 1e3)
    } else if us >= 1_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{us}us")
    }
}

fn trim_float(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn uptime(secs: f64) -> String {
    let s = secs as u64;
    let (d, h, m) = (s / 86_400, s / 3600 % 24, s / 60 % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}")
    } else {
        format!("{h:02}:{m:02}:{:02}", s % 60)
    }
}

/// Local wall-clock HH:MM:SS of a Unix-epoch ns time.
pub fn hms(unix_ns: u64) -> String {
    let t = (unix_ns / 1_000_000_000) as libc::time_t;
    // SAFETY: localtime_r fills a zeroed tm from a valid time_t.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    unsafe { libc::localtime_r(&t, &mut tm) };
    format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec)
}

/// A log2 histogram as text rows, `low -> high : count |****|`, bcc style
/// with a bar `bar` columns wide.
pub fn histogram_lines(h: &Log2Hist, unit: &str, bar: usize) -> Vec<Line<'static>> {
    let max = h.buckets().iter().copied().max().unwrap_or(0).max(1);
    let mut lines = vec![Line::from(format!("{unit:>22} : count      distribution")).bold()];
    for b in h.nonempty_range() {
        let stars = (b.count as u128 * bar as u128 / max as u128) as usize;
        lines.push(Line::from(format!(
            "{:>10} -> {:<9} : {:<10} |{:<bar$}|",
            b.low,
            b.high,
            b.count,
            "*".repeat(stars),
        )));
    }
    lines
}

/// Clamps a selection to a table of `len` rows.
pub fn clamp(selected: usize, len: usize) -> Option<usize> {
    (len > 0).then(|| selected.min(len - 1))
}

#[cfg(test)]
pub(crate) mod testing {
    use ratatui::{Terminal, backend::TestBackend, buffer::Buffer};

    use super::*;

    /// The screen a state draws to, as lines of text.
    pub fn render(d: &Dashboard, ui: &Ui, width: u16, height: u16) -> Vec<String> {
        let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
        t.draw(|f| draw(f, d, ui)).unwrap();
        lines(t.backend().buffer())
    }

    pub fn lines(b: &Buffer) -> Vec<String> {
        (0..b.area.height)
            .map(|y| {
                (0..b.area.width)
                    .map(|x| b[(x, y)].symbol().to_string())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_compactly() {
        assert_eq!(human(0.0), "0");
        assert_eq!(human(3.5), "3.5");
        assert_eq!(human(120.4), "120");
        assert_eq!(human(45_210.0), "45.2k");
        assert_eq!(human(3_100_000.0), "3.1M");
        assert_eq!(micros(850), "850us");
        assert_eq!(micros(1_500), "1.5ms");
        assert_eq!(micros(25_000), "25ms");
        assert_eq!(uptime(90_061.0), "1d 01:01");
    }
}
