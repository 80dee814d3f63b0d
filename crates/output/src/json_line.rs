//! A JSON line written field by field, for records a busy tracer formats
//! tens of thousands of times a second. Through serde, with the common
//! fields flattened in, a tcplife record took 460-560 ns on the test VM;
//! written directly, 290-430 ns, and tcplife's own CPU under a stream of
//! connections fell by a fifth.
//! A record that has this form ([`Record::json_fields`]) must write exactly
//! what serde writes for it: each such record's tests compare the two
//! with [`serde_line`] and [`fast_line`].

use std::{io, io::Write as _, net::IpAddr};

use serde::Serialize;

use crate::{
    Common, Record,
    record::Tagged,
    text::{Comm, json_text},
};

/// An object being written into a line buffer: `{"event":...` so far.
pub struct JsonLine<'a> {
    out: &'a mut Vec<u8>,
}

/// `0x00..0x1f`, `"` and `\` need escaping in JSON strings.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// `s` as a JSON string, escaped as serde_json escapes it.
fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

impl<'a> JsonLine<'a> {
    /// Starts the line for an `event` record in `out` (cleared first).
    pub fn begin(out: &'a mut Vec<u8>, event: &str) -> Self {
        out.clear();
        out.extend_from_slice(b"{\"event\":");
        string(out, event);
        JsonLine { out }
    }

    /// `,"key":`. Keys are field names: identifiers, never escaped.
    fn key(&mut self, key: &'static str) -> &mut Vec<u8> {
        debug_assert!(!key.bytes().any(needs_escape), "{key}");
        self.out.extend_from_slice(b",\"");
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    pub fn int(&mut self, key: &'static str, v: impl itoa::Integer) -> &mut Self {
        let out = self.key(key);
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        self
    }

    pub fn str(&mut self, key: &'static str, v: &str) -> &mut Self {
        string(self.key(key), v);
        self
    }

    pub fn opt_str(&mut self, key: &'static str, v: Option<&str>) -> &mut Self {
        match v {
            Some(s) => self.str(key, s),
            None => {
                self.key(key).extend_from_slice(b"null");
                self
            }
        }
    }

    /// An address as serde writes it: its text form, quoted.
    pub fn ip(&mut self, key: &'static str, v: IpAddr) -> &mut Self {
        let out = self.key(key);
        out.push(b'"');
        match v {
            IpAddr::V4(a) => {
                let mut digits = itoa::Buffer::new();
                for (i, octet) in a.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    out.extend_from_slice(digits.format(octet).as_bytes());
                }
            }
            // Needs no escaping; rare enough for the formatter (writing
            // into a Vec cannot fail).
            IpAddr::V6(a) => {
                let _ = write!(out, "{a}");
            }
        }
        out.push(b'"');
        self
    }

    pub fn comm(&mut self, key: &'static str, v: &Comm) -> &mut Self {
        string(self.key(key), &json_text(v.as_bytes()));
        self
    }

    /// The fields every event carries, in [`Common`]'s order.
    pub fn common(&mut self, c: &Common) -> &mut Self {
        self.int("ts_ns", c.ts_ns)
            .int("pid", c.pid)
            .int("tid", c.tid)
            .comm("comm", &c.comm)
            .int("uid", c.uid)
            .int("cgroup_id", c.cgroup_id)
    }

    /// Closes the object and the line.
    pub fn end(&mut self) {
        self.out.extend_from_slice(b"}\n");
    }
}

/// `r`'s line through serde, as [`crate::Output`] writes records without
/// a direct form.
pub fn serde_line<R: Record>(r: &R, out: &mut Vec<u8>) -> io::Result<()> {
    value_line(
        &Tagged {
            event: R::EVENT,
            record: r,
        },
        out,
    )
}

/// `r`'s line written directly, if its record type has that form.
pub fn fast_line<R: Record>(r: &R, out: &mut Vec<u8>) -> bool {
    if !R::DIRECT_JSON {
        return false;
    }
    let mut line = JsonLine::begin(out, R::EVENT);
    r.json_fields(&mut line);
    line.end();
    true
}

/// For records' tests: `r`'s direct line, which must exist and be
/// byte for byte its serde line.
#[doc(hidden)]
pub fn assert_direct_is_serde<R: Record>(r: &R) {
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    assert!(fast_line(r, &mut fast), "no direct JSON for {}", R::EVENT);
    serde_line(r, &mut slow).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&fast),
        String::from_utf8_lossy(&slow)
    );
}

/// Any serializable value's line through serde (aggregate rows, `lost`).
pub(crate) fn value_line<T: Serialize + ?Sized>(v: &T, out: &mut Vec<u8>) -> io::Result<()> {
    out.clear();
    serde_json::to_writer(&mut *out, v)?;
    out.push(b'\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_addresses_as_serde_writes_them() {
        for s in ["", "plain", "q\"b\\n\nt\tr\rb\x08f\x0cx\x01\x1f\x7fé"] {
            let mut out = Vec::new();
            JsonLine::begin(&mut out, "x").str("s", s).end();
            let expected = format!(
                "{{\"event\":\"x\",\"s\":{}}}\n",
                serde_json::to_string(s).unwrap()
            );
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
        for a in [
            "0.0.0.0",
            "127.0.0.1",
            "255.10.200.9",
            "::1",
            "fe80::1:2",
            "::ffff:1.2.3.4",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            let mut out = Vec::new();
            JsonLine::begin(&mut out, "x")
                .ip("a", ip)
                .opt_str("n", None)
                .int("i", -5i32)
                .end();
            let expected = format!(
                "{{\"event\":\"x\",\"a\":{},\"n\":null,\"i\":-5}}\n",
                serde_json::to_string(&ip).unwrap()
            );
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }
}
