//! Text from the kernel is untrusted bytes: a file name can hold escape
//! sequences, newlines, bidi overrides or invalid UTF-8. These functions
//! make it safe for a terminal, and valid for JSON, without losing what the
//! bytes were.

use std::{borrow::Cow, fmt::Write as _};

/// Whether a char must not reach a terminal raw: C0 and C1 controls, DEL,
/// and the bidirectional overrides that can reorder what a reader sees.
fn is_dangerous(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{061c}' | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Appends `bytes` to `out` for display on a terminal: dangerous chars and
/// invalid UTF-8 bytes become `\xNN` / `\u{NNNN}` escapes, and a backslash
/// becomes `\\` so an escape in the output always means an escaped byte.
pub fn escape_terminal_into(bytes: &[u8], out: &mut String) {
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if (c as u32) < 0x80 && is_dangerous(c) => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if is_dangerous(c) => {
                    let _ = write!(out, "\\u{{{:04x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// [`escape_terminal_into`] into a new string, borrowing when nothing needs
/// escaping (the common case).
pub fn escape_terminal(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(s) = std::str::from_utf8(bytes)
        && !s.chars().any(|c| c == '\\' || is_dangerous(c))
    {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    escape_terminal_into(bytes, &mut out);
    Cow::Owned(out)
}

/// Text for JSON: valid UTF-8 as it is (the JSON encoder escapes control
/// characters), each byte of invalid UTF-8 as the four characters `\xNN`.
pub fn json_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

/// The bytes of a NUL-terminated kernel string buffer, up to the NUL.
pub fn until_nul(buf: &[u8]) -> &[u8] {
    match buf.iter().position(|&b| b == 0) {
        Some(n) => &buf[..n],
        None => buf,
    }
}

/// Borrowed kernel bytes that print safely: escaped in tables, decoded
/// (with `\xNN` for invalid bytes) in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KStr<'a>(pub &'a [u8]);

impl<'a> KStr<'a> {
    /// A string the kernel read with `bpf_probe_read_user_str` into `buf`,
    /// which returned `len` (bytes with the NUL, or -errno): `None` when
    /// nothing was read.
    pub fn from_read(buf: &'a [u8], len: i32) -> Option<KStr<'a>> {
        (len > 0).then(|| KStr(&buf[..(len as usize - 1).min(buf.len())]))
    }
}

impl serde::Serialize for KStr<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&json_text(self.0))
    }
}

/// A task's comm, kept by value (16 bytes) so records need not borrow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Comm(pub [u8; 16]);

impl Comm {
    pub fn as_bytes(&self) -> &[u8] {
        until_nul(&self.0)
    }
}

impl serde::Serialize for Comm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&json_text(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape_terminal(b"/etc/passwd"), Cow::Borrowed(_)));
        assert_eq!(escape_terminal("caf\u{e9}".as_bytes()), "caf\u{e9}");
    }

    #[test]
    fn terminal_escapes_controls_and_invalid_bytes() {
        assert_eq!(escape_terminal(b"a\x1b[31mred"), "a\\x1b[31mred");
        assert_eq!(escape_terminal(b"two\nlines\r\t"), "two\\nlines\\r\\t");
        assert_eq!(escape_terminal(b"bad\xff\xfe"), "bad\\xff\\xfe");
        assert_eq!(escape_terminal(b"back\\slash"), "back\\\\slash");
        assert_eq!(escape_terminal(b"del\x7f"), "del\\x7f");
        // C1 control (U+009B, CSI) and a right-to-left override.
        assert_eq!(escape_terminal("x\u{9b}y".as_bytes()), "x\\u{009b}y");
        assert_eq!(
            escape_terminal("evil\u{202e}txt.exe".as_bytes()),
            "evil\\u{202e}txt.exe"
        );
        // Truncated multi-byte sequence at the end.
        assert_eq!(escape_terminal(b"\xe2\x82"), "\\xe2\\x82");
    }

    #[test]
    fn escaped_output_has_no_control_bytes() {
        let all: Vec<u8> = (0..=255u8).collect();
        let s = escape_terminal(&all);
        assert!(s.chars().all(|c| !is_dangerous(c)), "{s}");
    }

    #[test]
    fn json_stays_valid_for_any_bytes() {
        let all: Vec<u8> = (0..=255u8).collect();
        let json = serde_json::to_string(&KStr(&all)).unwrap();
        let back: String = serde_json::from_str(&json).unwrap();
        assert!(back.starts_with("\u{0}\u{1}"));
        assert!(back.ends_with("\\xfe\\xff"));
        assert!(!json.contains('\u{1b}'));
        let hostile = b"\x1b]0;pwned\x07\n\"quote\xc3";
        let v: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&KStr(hostile)).unwrap()).unwrap();
        assert_eq!(v.as_str().unwrap(), "\u{1b}]0;pwned\u{7}\n\"quote\\xc3");
    }

    #[test]
    fn comm_stops_at_nul() {
        let mut c = [0u8; 16];
        c[..3].copy_from_slice(b"cat");
        assert_eq!(Comm(c).as_bytes(), b"cat");
        assert_eq!(serde_json::to_string(&Comm(c)).unwrap(), "\"cat\"");
    }
}
