//! `--record` and `--replay`: the event stream as JSON lines, each record
//! as the tool that owns it prints it with `--json`, plus the dashboard's
//! own lines (a header, process identities, interval ends, losses).

use std::{
    fs::File,
    io::{self, BufRead, BufReader, BufWriter, Write},
    path::Path,
};

use ebpftop_output::record::Tagged;
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{CAPTURE_EVENT, Input, from_json};

pub struct Recorder {
    w: BufWriter<File>,
}

impl Recorder {
    pub fn create(path: &Path, host: &str, kernel: &str, interval_secs: f64) -> io::Result<Self> {
        let file = File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let mut r = Recorder {
            w: BufWriter::new(file),
        };
        r.value(&json!({
            "event": CAPTURE_EVENT,
            "version": env!("CARGO_PKG_VERSION"),
            "host": host,
            "kernel": kernel,
            "interval_secs": interval_secs,
        }))?;
        Ok(r)
    }

    /// A record as its tool's `--json` prints it.
    pub fn record<R: Serialize>(&mut self, event: &'static str, record: &R) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, &Tagged { event, record })?;
        self.w.write_all(b"\n")
    }

    pub fn value(&mut self, v: &Value) -> io::Result<()> {
        serde_json::to_writer(&mut self.w, v)?;
        self.w.write_all(b"\n")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// A capture read back: its header and its inputs, interval by interval.
pub struct Capture {
    pub host: String,
    pub kernel: String,
    pub interval_secs: f64,
    /// Each ends with its `IntervalEnd`; events after the last interval
    /// end form a last, partial interval.
    pub intervals: Vec<Vec<Input>>,
}

impl Capture {
    pub fn read(path: &Path) -> anyhow::Result<Capture> {
        let file = File::open(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let mut lines = BufReader::new(file).lines();
        let bad = |n: usize, why: &str| anyhow::anyhow!("{}:{n}: {why}", path.display());
        let first = lines
            .next()
            .ok_or_else(|| bad(1, "empty file, not an ebpftop capture"))??;
        let header: Value = serde_json::from_str(&first)
            .map_err(|_| bad(1, "not an ebpftop capture (not JSON)"))?;
        if header["event"] != CAPTURE_EVENT {
            return Err(bad(1, "not an ebpftop capture (no ebpftop header line)"));
        }
        let mut c = Capture {
            host: header["host"].as_str().unwrap_or("?").to_string(),
            kernel: header["kernel"].as_str().unwrap_or("?").to_string(),
            interval_secs: header["interval_secs"].as_f64().unwrap_or(1.0),
            intervals: Vec::new(),
        };
        let mut current = Vec::new();
        for (i, line) in lines.enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line).map_err(|e| bad(i + 2, &e.to_string()))?;
            if let Some(input) = from_json(&v) {
                let end = matches!(input, Input::IntervalEnd { .. });
                current.push(input);
                if end {
                    c.intervals.push(std::mem::take(&mut current));
                }
            }
        }
        if !current.is_empty() {
            c.intervals.push(current);
        }
        Ok(c)
    }
}
