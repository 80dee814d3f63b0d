//! Streaming tables: a header, then one aligned row per event, printed as
//! events arrive (a summary table would wait for the end; a tracer cannot).

use std::fmt::{Display, Write as _};

use crate::text::escape_terminal_into;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    /// Minimum width; a longer value widens its row, not the column.
    pub width: usize,
    pub align: Align,
}

impl Column {
    pub const fn left(name: &'static str, width: usize) -> Self {
        Column {
            name,
            width,
            align: Align::Left,
        }
    }

    pub const fn right(name: &'static str, width: usize) -> Self {
        Column {
            name,
            width,
            align: Align::Right,
        }
    }
}

/// Builds one line; every cell is escaped for the terminal.
pub struct Row<'a> {
    line: &'a mut String,
    cols: &'a [Column],
    scratch: &'a mut String,
    next: usize,
}

impl<'a> Row<'a> {
    pub(crate) fn new(line: &'a mut String, scratch: &'a mut String, cols: &'a [Column]) -> Self {
        Row {
            line,
            cols,
            scratch,
            next: 0,
        }
    }

    /// A cell of raw kernel bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.scratch.clear();
        escape_terminal_into(b, self.scratch);
        self.push();
        self
    }

    /// A cell from anything displayable (numbers, flag names).
    pub fn cell(&mut self, v: impl Display) -> &mut Self {
        self.scratch.clear();
        let _ = write!(self.scratch, "{v}");
        if self
            .scratch
            .bytes()
            .any(|b| b < 0x20 || b == 0x7f || b >= 0x80)
        {
            let raw = std::mem::take(self.scratch);
            escape_terminal_into(raw.as_bytes(), self.scratch);
        }
        self.push();
        self
    }

    /// A cell of text already made terminal-safe (by
    /// [`escape_terminal`](crate::text::escape_terminal) and then, say,
    /// quoted), pushed as it is rather than escaped twice.
    pub fn escaped(&mut self, text: &str) -> &mut Self {
        self.scratch.clear();
        self.scratch.push_str(text);
        self.push();
        self
    }

    fn push(&mut self) {
        let col = self.cols.get(self.next).copied();
        self.next += 1;
        if self.next > 1 {
            self.line.push(' ');
        }
        let Some(col) = col else {
            self.line.push_str(self.scratch);
            return;
        };
        let last = self.next == self.cols.len();
        pad(self.line, self.scratch, col.width, col.align, last);
    }
}

fn pad(line: &mut String, value: &str, width: usize, align: Align, last: bool) {
    let len = value.chars().count();
    let fill = width.saturating_sub(len);
    match align {
        Align::Right => {
            line.extend(std::iter::repeat_n(' ', fill));
            line.push_str(value);
        }
        Align::Left => {
            line.push_str(value);
            // Trailing blanks on the last column are noise in a pipe.
            if !last {
                line.extend(std::iter::repeat_n(' ', fill));
            }
        }
    }
}

/// The header line for `cols`.
pub fn header_line(cols: &[Column]) -> String {
    let mut line = String::new();
    for (i, c) in cols.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        pad(&mut line, c.name, c.width, c.align, i + 1 == cols.len());
    }
    line
}
