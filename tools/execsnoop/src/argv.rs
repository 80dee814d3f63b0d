//! An entry record's text: the file name, then the arguments, each ended
//! by a NUL; and the argument line the table shows.

use ebpftop_output::text::escape_terminal;

/// What an entry record's text holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Argv<'a> {
    /// None when it could not be read.
    pub filename: Option<&'a [u8]>,
    pub args: Vec<&'a [u8]>,
    /// Arguments or bytes were left out.
    pub truncated: bool,
}

/// Splits `text` (the record's text, `filename_len` bytes of file name
/// with its NUL first). Argument bytes beyond `max_bytes` (NULs counted),
/// which the kernel may read past the limit, are cut here; `truncated` is
/// the kernel's verdict or that cut.
pub fn split(text: &[u8], filename_len: usize, max_bytes: usize, truncated: bool) -> Argv<'_> {
    let filename_len = filename_len.min(text.len());
    let filename = (filename_len > 0).then(|| &text[..filename_len - 1]);
    let mut rest = &text[filename_len..];
    let mut truncated = truncated;
    if rest.len() > max_bytes {
        rest = &rest[..max_bytes];
        truncated = true;
    }
    let mut args: Vec<&[u8]> = rest.split(|&b| b == 0).collect();
    // A complete last argument leaves an empty piece after its NUL.
    if rest.last().is_none_or(|&b| b == 0) {
        args.pop();
    }
    Argv {
        filename,
        args,
        truncated,
    }
}

/// The raw arguments joined by spaces, for `--line` to match.
pub fn joined(args: &[&[u8]]) -> Vec<u8> {
    args.join(&b' ')
}

/// The arguments for the table: joined by spaces, each escaped for the
/// terminal, in "quotes" (an inner `"` as `\"`) when `quote`, and ` ...`
/// when some were left out. Escaping comes first, so the quoting's
/// backslashes are not doubled.
pub fn line(args: &[&[u8]], quote: bool, truncated: bool) -> String {
    let mut out = String::with_capacity(args.iter().map(|a| a.len() + 3).sum::<usize>() + 4);
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let text = escape_terminal(a);
        if quote {
            out.push('"');
            out.push_str(&text.replace('"', "\\\""));
            out.push('"');
        } else {
            out.push_str(&text);
        }
    }
    if truncated {
        out.push_str(if args.is_empty() { "..." } else { " ..." });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_filename_and_arguments() {
        let a = split(b"/bin/true\0true\0a\0\0c\0", 10, 100, false);
        assert_eq!(a.filename, Some(&b"/bin/true"[..]));
        assert_eq!(a.args, vec![&b"true"[..], b"a", b"", b"c"]);
        assert!(!a.truncated);
    }

    #[test]
    fn no_arguments_and_unreadable_filename() {
        let a = split(b"/x\0", 3, 100, false);
        assert_eq!(a.args, Vec::<&[u8]>::new());
        let a = split(b"", 0, 100, true);
        assert_eq!(a.filename, None);
        assert!(a.args.is_empty() && a.truncated);
    }

    #[test]
    fn cuts_at_max_bytes() {
        // Arguments "abc" "defg": 4 + 5 bytes with their NULs.
        let text = b"/f\0abc\0defg\0";
        let a = split(text, 3, 9, false);
        assert_eq!(a.args, vec![&b"abc"[..], b"defg"]);
        assert!(!a.truncated);
        let a = split(text, 3, 6, false);
        assert_eq!(a.args, vec![&b"abc"[..], b"de"]);
        assert!(a.truncated);
        let a = split(text, 3, 4, false);
        assert_eq!(a.args, vec![&b"abc"[..]]);
        assert!(a.truncated);
        // The kernel's own cut: a last argument without its NUL.
        let a = split(b"/f\0abc\0de", 3, 100, true);
        assert_eq!(a.args, vec![&b"abc"[..], b"de"]);
    }

    #[test]
    fn lines() {
        let args: Vec<&[u8]> = vec![b"echo", b"a b", b"say \"hi\""];
        assert_eq!(line(&args, false, false), "echo a b say \"hi\"");
        assert_eq!(
            line(&args, true, false),
            "\"echo\" \"a b\" \"say \\\"hi\\\"\""
        );
        assert_eq!(line(&args[..1], false, true), "echo ...");
        assert_eq!(line(&[], false, true), "...");
        assert_eq!(line(&[], false, false), "");
        // Control bytes and backslashes are escaped before quoting.
        let odd: Vec<&[u8]> = vec![b"a\\b", b"\x1b[31m\"x"];
        assert_eq!(line(&odd, true, false), "\"a\\\\b\" \"\\x1b[31m\\\"x\"");
        assert_eq!(joined(&odd), b"a\\b \x1b[31m\"x");
    }
}
