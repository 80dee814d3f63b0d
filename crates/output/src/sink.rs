//! Where records go: an aligned table or JSON lines on stdout, buffered and
//! flushed once per batch of events.

use std::io::{self, BufWriter, Stdout, Write};

use crate::{
    histogram::{LatencySummary, Log2Hist, Unit},
    json_line,
    record::{Lost, Record, Tagged},
    table::{Column, Row, header_line},
};

#[derive(Clone, Copy, Debug, Default)]
pub struct OutputOptions {
    /// JSON lines instead of a table.
    pub json: bool,
    /// Table: a leading TIME column (local HH:MM:SS).
    pub timestamp: bool,
    /// Table: a UID column after TIME.
    pub print_uid: bool,
}

pub struct Output<W: Write = Stdout> {
    w: BufWriter<W>,
    tool: &'static str,
    opts: OutputOptions,
    cols: Vec<Column>,
    line: String,
    scratch: String,
    /// A JSON line being built.
    json: Vec<u8>,
    clock: LocalTime,
}

impl Output<Stdout> {
    pub fn stdout(tool: &'static str, opts: OutputOptions, tool_cols: &[Column]) -> Self {
        Output::new(io::stdout(), tool, opts, tool_cols)
    }
}

impl<W: Write> Output<W> {
    /// `tool_cols` are the tool's own columns; TIME and UID are added in
    /// front when asked for, the same way for every tool.
    pub fn new(w: W, tool: &'static str, opts: OutputOptions, tool_cols: &[Column]) -> Self {
        let mut cols = Vec::with_capacity(tool_cols.len() + 2);
        if opts.timestamp {
            cols.push(Column::left("TIME", 8));
        }
        if opts.print_uid {
            cols.push(Column::right("UID", 6));
        }
        cols.extend_from_slice(tool_cols);
        Output {
            w: BufWriter::with_capacity(64 * 1024, w),
            tool,
            opts,
            cols,
            line: String::with_capacity(256),
            scratch: String::with_capacity(256),
            json: Vec::with_capacity(512),
            clock: LocalTime::default(),
        }
    }

    pub fn is_json(&self) -> bool {
        self.opts.json
    }

    /// The table header; nothing in JSON mode.
    pub fn header(&mut self) -> io::Result<()> {
        if !self.opts.json {
            writeln!(self.w, "{}", header_line(&self.cols))?;
        }
        Ok(())
    }

    pub fn emit<R: Record>(&mut self, r: &R) -> io::Result<()> {
        if self.opts.json {
            // A whole line in a reused buffer, then one copy: nothing
            // partial is written if a record fails to serialize.
            if !json_line::fast_line(r, &mut self.json) {
                json_line::serde_line(r, &mut self.json)?;
            }
            return self.w.write_all(&self.json);
        }
        self.line.clear();
        let common = *r.common();
        let mut row = Row::new(&mut self.line, &mut self.scratch, &self.cols);
        if self.opts.timestamp {
            row.cell(self.clock.hms(common.ts_ns));
        }
        if self.opts.print_uid {
            row.cell(common.uid);
        }
        r.row(&mut row);
        self.line.push('\n');
        self.w.write_all(self.line.as_bytes())
    }

    /// Reports `count` newly lost events: a `lost` record in JSON, a line on
    /// stderr for tables (so the table stays parseable).
    pub fn lost(&mut self, ts_ns: u64, count: u64, total: u64, reason: &str) -> io::Result<()> {
        if self.opts.json {
            json_line::value_line(
                &Lost {
                    event: "lost",
                    ts_ns,
                    count,
                    total,
                    reason,
                },
                &mut self.json,
            )?;
            self.w.write_all(&self.json)
        } else {
            self.w.flush()?;
            eprintln!("{}: {count} events lost ({reason})", self.tool);
            Ok(())
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// A JSON line for something that is not one task's event (an
    /// interval's aggregate row): `event`, then `v`'s fields.
    pub fn emit_value<T: serde::Serialize>(
        &mut self,
        event: &'static str,
        v: &T,
    ) -> io::Result<()> {
        json_line::value_line(&Tagged { event, record: v }, &mut self.json)?;
        self.w.write_all(&self.json)
    }

    /// A table row in the tool's columns, built by `f` (aggregating tools,
    /// whose rows are not events).
    pub fn row(&mut self, f: impl FnOnce(&mut Row<'_>)) -> io::Result<()> {
        self.line.clear();
        let mut row = Row::new(&mut self.line, &mut self.scratch, &self.cols);
        f(&mut row);
        self.line.push('\n');
        self.w.write_all(self.line.as_bytes())
    }

    /// Text as it is: histograms, blank lines between intervals.
    pub fn text(&mut self, s: &str) -> io::Result<()> {
        self.w.write_all(s.as_bytes())
    }

    /// A histogram as bcc prints it, then its summary line and a blank
    /// line: one entry of an interval report.
    pub fn histogram(
        &mut self,
        hist: &Log2Hist,
        summary: &LatencySummary,
        unit: Unit,
    ) -> io::Result<()> {
        hist.print(&mut self.w, unit.label())?;
        writeln!(self.w, "{}\n", summary.line(unit))
    }

    /// `[HH:MM:SS]` (local time) on a line of its own, as bcc's interval
    /// tools head each interval.
    pub fn time_line(&mut self, unix_ns: u64) -> io::Result<()> {
        let hms = self.clock.hms(unix_ns).to_string();
        writeln!(self.w, "[{hms}]")
    }

    pub fn into_inner(self) -> W {
        match self.w.into_inner() {
            Ok(w) => w,
            Err(e) => panic!("flushing output: {}", e.error()),
        }
    }
}

/// Local wall-clock HH:MM:SS, converting once per second at most.
#[derive(Default)]
struct LocalTime {
    sec: i64,
    text: String,
}

impl LocalTime {
    fn hms(&mut self, unix_ns: u64) -> &str {
        let sec = (unix_ns / 1_000_000_000) as i64;
        if sec != self.sec || self.text.is_empty() {
            self.sec = sec;
            // SAFETY: localtime_r fills a zeroed tm from a valid time_t.
            let mut tm: libc::tm = unsafe { std::mem::zeroed() };
            let t = sec as libc::time_t;
            unsafe { libc::localtime_r(&t, &mut tm) };
            self.text = format!("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
        }
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        record::Common,
        text::{Comm, KStr},
    };
    use serde::Serialize;

    #[derive(Serialize)]
    struct Demo<'a> {
        #[serde(flatten)]
        common: Common,
        fd: i64,
        path: KStr<'a>,
    }

    impl Record for Demo<'_> {
        const EVENT: &'static str = "demo";
        fn common(&self) -> &Common {
            &self.common
        }
        fn row(&self, row: &mut Row<'_>) {
            row.cell(self.common.pid)
                .bytes(self.common.comm.as_bytes())
                .cell(self.fd)
                .bytes(self.path.0);
        }
    }

    const COLS: [Column; 4] = [
        Column::right("PID", 7),
        Column::left("COMM", 16),
        Column::right("FD", 3),
        Column::left("PATH", 0),
    ];

    fn demo(path: &[u8]) -> Demo<'_> {
        let mut comm = [0u8; 16];
        comm[..4].copy_from_slice(b"t\x1bst");
        Demo {
            common: Common {
                ts_ns: 1_700_000_000_123_456_789,
                pid: 42,
                tid: 43,
                comm: Comm(comm),
                uid: 1000,
                cgroup_id: 7,
            },
            fd: 3,
            path: KStr(path),
        }
    }

    #[test]
    fn table_rows_are_aligned_and_escaped() {
        let mut out = Output::new(Vec::new(), "demo", OutputOptions::default(), &COLS);
        out.header().unwrap();
        out.emit(&demo(b"/tmp/a\nb")).unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        assert_eq!(
            text,
            "    PID COMM              FD PATH\n     42 t\\x1bst            3 /tmp/a\\nb\n"
        );
    }

    #[test]
    fn uid_column_comes_first() {
        let opts = OutputOptions {
            print_uid: true,
            ..Default::default()
        };
        let mut out = Output::new(Vec::new(), "demo", opts, &COLS);
        out.header().unwrap();
        out.emit(&demo(b"/x")).unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("   UID     PID COMM"), "{}", lines[0]);
        assert!(lines[1].starts_with("  1000      42 "), "{}", lines[1]);
    }

    #[test]
    fn json_lines_have_event_common_and_own_fields() {
        let opts = OutputOptions {
            json: true,
            ..Default::default()
        };
        let mut out = Output::new(Vec::new(), "demo", opts, &COLS);
        out.header().unwrap();
        out.emit(&demo(b"/tmp/\xff\x1b")).unwrap();
        out.lost(5, 3, 10, "ring buffer full").unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        let v = &lines[0];
        assert_eq!(v["event"], "demo");
        assert_eq!(v["ts_ns"], 1_700_000_000_123_456_789u64);
        assert_eq!(v["pid"], 42);
        assert_eq!(v["tid"], 43);
        assert_eq!(v["comm"], "t\u{1b}st");
        assert_eq!(v["uid"], 1000);
        assert_eq!(v["cgroup_id"], 7);
        assert_eq!(v["path"], "/tmp/\\xff\u{1b}");
        assert!(
            text.lines()
                .next()
                .unwrap()
                .starts_with("{\"event\":\"demo\",")
        );
        assert_eq!(lines[1]["event"], "lost");
        assert_eq!(lines[1]["count"], 3);
        assert_eq!(lines[1]["total"], 10);
    }

    #[test]
    fn timestamp_is_hms() {
        let opts = OutputOptions {
            timestamp: true,
            ..Default::default()
        };
        let mut out = Output::new(Vec::new(), "demo", opts, &COLS);
        out.emit(&demo(b"/x")).unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        let t = &text[..8];
        assert!(t.as_bytes()[2] == b':' && t.as_bytes()[5] == b':', "{text}");
    }
}
