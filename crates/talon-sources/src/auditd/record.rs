//! One raw audit record: `[node=N] type=T msg=audit(SECS.MILLIS:SERIAL): k=v …`.
//!
//! The parser takes the line apart once and keeps values undecoded; string
//! fields are decoded on access, because the kernel writes an untrusted
//! string either quoted (`exe="/usr/bin/id"`) or, when it holds spaces,
//! quotes or control bytes, as bare hex (`a1=2D77`). Guarantees:
//! - never panics, on any bytes; a line without an `audit(…)` header is an
//!   error, anything odd after it is skipped word by word;
//! - user-space messages (`msg='op=login acct="root" …'`) are flattened into
//!   the same field list;
//! - the enrichment section that `auditd` adds after a `0x1d` byte
//!   (`UID="root" SYSCALL=execve`, upper-case keys) is parsed like the rest.

use crate::input::{first_not_utf8, Columns};

/// A value as written: quoted, or bare (a number, a token, or hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Quoted(String),
    Bare(String),
}

/// A string value as read: its text, and the first of its hex-encoded
/// bytes that are not UTF-8, read as U+FFFD in that text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub text: String,
    /// Their 0-based offset among the decoded bytes, and as written
    /// (`\xe9`).
    pub not_utf8: Option<(usize, String)>,
}

impl Decoded {
    /// Decoded bytes read as text.
    pub fn from_bytes(bytes: &[u8]) -> Decoded {
        Decoded {
            text: String::from_utf8_lossy(bytes).into_owned(),
            not_utf8: first_not_utf8(bytes),
        }
    }

    fn text(text: &str) -> Decoded {
        Decoded {
            text: text.to_string(),
            not_utf8: None,
        }
    }
}

/// One parsed record.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    pub rtype: String,
    /// The audit timestamp in epoch nanoseconds (millisecond precision).
    pub nanos: i64,
    pub serial: u64,
    pub node: Option<String>,
    pub fields: Vec<(String, Val)>,
    /// 1-based line in the input.
    pub line: u64,
    pub raw: String,
    /// Where `raw`'s columns are in the file.
    pub columns: Columns,
}

/// Why a line is not an audit record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RecordError {
    /// No `msg=audit(` at all.
    NoHeader,
    /// `msg=audit(` present but the timestamp or serial is unreadable, or
    /// there is no `type=` before it.
    BadHeader(&'static str),
    /// A quoted value without its closing quote: the line was cut (a file
    /// still being written), and the value would be a piece of itself.
    Cut(String),
}

impl Record {
    /// Parses one line (without its newline).
    pub fn parse(line: &str, line_no: u64) -> Result<Record, RecordError> {
        let at = line.find("msg=audit(").ok_or(RecordError::NoHeader)?;
        let (rtype, node) = header_prefix(&line[..at])?;
        let after = &line[at + "msg=audit(".len()..];
        let close = after
            .find(')')
            .ok_or(RecordError::BadHeader("no closing parenthesis"))?;
        let (nanos, serial) = parse_stamp(&after[..close])?;
        let rest = &after[close + 1..];
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        let mut fields = Vec::new();
        if let Some(key) = parse_fields(rest, &mut fields, 0) {
            return Err(RecordError::Cut(key));
        }
        Ok(Record {
            rtype,
            nanos,
            serial,
            node,
            fields,
            line: line_no,
            raw: line.to_string(),
            columns: Columns::default(),
        })
    }

    /// The raw value of a field (the first one of that name).
    pub fn raw(&self, key: &str) -> Option<&Val> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// A string field, decoded: quoted as is, bare hex decoded (bytes
    /// that are not UTF-8 as U+FFFD), the "unset" tokens (`(null)`,
    /// `(none)`, `?`) as `None`.
    pub fn text(&self, key: &str) -> Option<String> {
        self.decoded(key).map(|d| d.text)
    }

    /// [`Record::text`], with the first hex-encoded bytes it read as
    /// U+FFFD.
    pub fn decoded(&self, key: &str) -> Option<Decoded> {
        match self.raw(key)? {
            Val::Quoted(s) => Some(Decoded::text(s)),
            Val::Bare(s) => {
                // A stray closing quote after hex has been seen in the wild
                // (`key=6578…74"`); it is not part of the value.
                let s = s
                    .strip_suffix('"')
                    .filter(|h| decode_hex(h).is_some())
                    .unwrap_or(s);
                if matches!(s, "(null)" | "(none)" | "?" | "") {
                    None
                } else if let Some(bytes) = decode_hex(s) {
                    Some(Decoded::from_bytes(&bytes))
                } else {
                    Some(Decoded::text(s))
                }
            }
        }
    }

    /// A bare or quoted token as written (numbers, `yes`, `c000003e`).
    pub fn token(&self, key: &str) -> Option<&str> {
        match self.raw(key)? {
            Val::Quoted(s) | Val::Bare(s) => Some(s.as_str()),
        }
    }

    /// A decimal number field.
    pub fn num(&self, key: &str) -> Option<i64> {
        self.token(key)?.parse().ok()
    }

    /// The 1-based column in the file of the value of `key=` in this
    /// record's line (0 when it is not there as a word of its own: `ppid=`
    /// is not `pid=`).
    pub fn column(&self, key: &str) -> u64 {
        let raw = &self.raw;
        let word = format!("{key}=");
        let column = raw
            .match_indices(&word)
            .map(|(at, _)| at)
            .find(|&at| {
                at == 0
                    || raw.as_bytes()[at - 1].is_ascii_whitespace()
                    || raw.as_bytes()[at - 1] == 0x1d
            })
            .map_or(0, |at| (at + word.len() + 1) as u64);
        self.columns.file(column)
    }
}

/// Finds `type=` and `node=` among the words before `msg=audit(` (a syslog
/// prefix may precede them).
fn header_prefix(prefix: &str) -> Result<(String, Option<String>), RecordError> {
    let mut rtype = None;
    let mut node = None;
    for word in prefix.split_ascii_whitespace() {
        if let Some(t) = word.strip_prefix("type=") {
            rtype = Some(t.to_string());
        } else if let Some(n) = word.strip_prefix("node=") {
            node = Some(n.to_string());
        }
    }
    match rtype {
        Some(t) if !t.is_empty() => Ok((t, node)),
        _ => Err(RecordError::BadHeader("no type= before msg=audit(")),
    }
}

/// `1481077231.371:479` → (epoch nanos, serial).
fn parse_stamp(s: &str) -> Result<(i64, u64), RecordError> {
    let (time, serial) = s
        .split_once(':')
        .ok_or(RecordError::BadHeader("no serial"))?;
    let serial = serial
        .trim()
        .parse()
        .map_err(|_| RecordError::BadHeader("bad serial"))?;
    let (secs, frac) = time.split_once('.').unwrap_or((time, "0"));
    // Seconds since the epoch, digits only: `-5.1` would read as -5 s
    // plus 0.1 s, later than the -5.1 s it says.
    let secs = secs.trim();
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RecordError::BadHeader("bad timestamp"));
    }
    let secs: i64 = secs
        .parse()
        .map_err(|_| RecordError::BadHeader("bad timestamp"))?;
    let frac = frac.trim();
    if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RecordError::BadHeader("bad timestamp"));
    }
    let mut nanos_frac: i64 = frac
        .parse()
        .map_err(|_| RecordError::BadHeader("bad timestamp"))?;
    for _ in frac.len()..9 {
        nanos_frac *= 10;
    }
    let nanos = secs
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(nanos_frac))
        .ok_or(RecordError::BadHeader("timestamp out of range"))?;
    Ok((nanos, serial))
}

/// How deep `msg='…'` may nest (it never nests in practice; the bound keeps
/// a hostile line from recursing).
const MAX_DEPTH: usize = 2;

/// Parses `k=v` words into `out`; words without `=` are skipped. Returns
/// the key of a quoted value that never closes (the line is cut there).
fn parse_fields(s: &str, out: &mut Vec<(String, Val)>, depth: usize) -> Option<String> {
    let b = s.as_bytes();
    let mut i = 0;
    let is_space = |c: u8| c.is_ascii_whitespace() || c == 0x1d;
    while i < b.len() {
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let key_start = i;
        while i < b.len() && !is_space(b[i]) && b[i] != b'=' {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            continue; // a word without `=`, or the end
        }
        let key = &s[key_start..i];
        i += 1;
        let (val, next) = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let start = i + 1;
                // A `msg='…` wrapper left open keeps what it holds (seen in
                // records otherwise whole); an open `"` is a value cut off.
                let end = match b[start..].iter().position(|&c| c == q) {
                    Some(p) => start + p,
                    None if q == b'\'' => b.len(),
                    None => return Some(key.to_string()),
                };
                let v = &s[start..end];
                (Val::Quoted(v.to_string()), (end + 1).min(b.len()))
            }
            _ => {
                let start = i;
                while i < b.len() && !is_space(b[i]) {
                    i += 1;
                }
                (Val::Bare(s[start..i].to_string()), i)
            }
        };
        i = next;
        if key.is_empty() {
            continue;
        }
        if key == "msg" && depth < MAX_DEPTH {
            if let Val::Quoted(inner) = &val {
                if let Some(cut) = parse_fields(inner, out, depth + 1) {
                    return Some(cut);
                }
                continue;
            }
        }
        out.push((key.to_string(), val));
    }
    None
}

/// Decodes an even-length string of hex digits.
pub(crate) fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() % 2 == 1 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    b.chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_fields_and_hex() {
        let r = Record::parse(
            r#"node=web1 type=EXECVE msg=audit(1700000000.123:42): argc=3 a0="sysctl" a1=2D77 a2="net.ipv4.ip_forward=1""#,
            7,
        )
        .unwrap();
        assert_eq!(r.rtype, "EXECVE");
        assert_eq!(r.node.as_deref(), Some("web1"));
        assert_eq!(r.serial, 42);
        assert_eq!(r.nanos, 1_700_000_000_123_000_000);
        assert_eq!(r.num("argc"), Some(3));
        assert_eq!(r.text("a1").as_deref(), Some("-w"));
        assert_eq!(r.text("a2").as_deref(), Some("net.ipv4.ip_forward=1"));
        assert_eq!(r.line, 7);
    }

    /// Hex-encoded bytes that are not UTF-8 are read as U+FFFD, and the
    /// first of them kept with their offset; a UTF-8 `é` (`C3A9`) is text.
    #[test]
    fn hex_bytes_not_utf8_are_found() {
        let r = Record::parse(
            "type=EXECVE msg=audit(1.2:3): argc=3 a0=636166C3A9 a1=2F746D702F66E96C6C65 a2=\"caf\"",
            1,
        )
        .unwrap();
        assert_eq!(r.decoded("a0"), Some(Decoded::text("café")));
        assert_eq!(
            r.decoded("a1"),
            Some(Decoded {
                text: "/tmp/f\u{FFFD}lle".into(),
                not_utf8: Some((6, "\\xe9".into())),
            })
        );
        assert_eq!(r.text("a1").as_deref(), Some("/tmp/f\u{FFFD}lle"));
        assert_eq!(r.decoded("a2"), Some(Decoded::text("caf")));
    }

    #[test]
    fn user_messages_and_enrichment_flatten() {
        let r = Record::parse(
            "type=USER_LOGIN msg=audit(1492896301.818:19955): pid=12635 uid=0 msg='op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" res=failed'\x1dUID=\"root\"",
            1,
        )
        .unwrap();
        assert_eq!(r.text("acct").as_deref(), Some("(invalid user)"));
        assert_eq!(r.text("exe").as_deref(), Some("/usr/sbin/sshd"));
        assert_eq!(r.token("res"), Some("failed"));
        assert_eq!(r.text("UID").as_deref(), Some("root"));
    }

    #[test]
    fn odd_lines_do_not_panic() {
        assert_eq!(
            Record::parse("type=UNKNOWN[1329] msg=?", 1).unwrap_err(),
            RecordError::NoHeader
        );
        assert!(Record::parse("msg=audit(1.2:3): a=b", 1).is_err());
        assert!(Record::parse("type=X msg=audit(abc:3): a=b", 1).is_err());
        assert!(Record::parse("type=X msg=audit(1.2:", 1).is_err());
        // A signed time is no audit time (the kernel counts from the epoch).
        for stamp in ["-5.1", "+5.1", "-0.5", " -1"] {
            assert_eq!(
                Record::parse(&format!("type=X msg=audit({stamp}:3): a=b"), 1).unwrap_err(),
                RecordError::BadHeader("bad timestamp"),
                "{stamp}"
            );
        }
        assert_eq!(
            Record::parse("type=X msg=audit(1700000000:3): a=b", 1)
                .unwrap()
                .nanos,
            1_700_000_000_000_000_000
        );
        // A quote that never closes: the line was cut, and `open` would be
        // a piece of the value (`net.ipv4.ip_for` of an argument).
        assert_eq!(
            Record::parse(
                "type=DAEMON_CONFIG msg=audit(1490239800.477:34) config changed, auid=0 k=\"open",
                1,
            )
            .unwrap_err(),
            RecordError::Cut("k".into())
        );
        assert_eq!(
            Record::parse(
                "type=USER_CMD msg=audit(1.2:3): pid=1 msg='cmd=\"ls exe=x",
                1
            )
            .unwrap_err(),
            RecordError::Cut("cmd".into())
        );
        // An open `msg='` wrapper whose fields are whole is read.
        let r = Record::parse(
            "type=SERVICE_START msg=audit(1.2:3): pid=1 msg='unit=x res=success",
            1,
        )
        .unwrap();
        assert_eq!(r.token("res"), Some("success"));
        let r = Record::parse("type=X msg=audit(1.2:3): auid=0 k=\"open\"", 1).unwrap();
        assert_eq!(r.num("auid"), Some(0));
        assert_eq!(r.text("k").as_deref(), Some("open"));
        let r = Record::parse("type=X msg=audit(1.5:3): =v a= b=(null) é=ü", 1).unwrap();
        assert_eq!(r.text("a"), None);
        assert_eq!(r.text("b"), None);
        assert_eq!(r.text("é").as_deref(), Some("ü"));
        assert_eq!(r.nanos, 1_500_000_000);
        assert_eq!(decode_hex("6869"), Some(b"hi".to_vec()));
        assert_eq!(decode_hex("6g"), None);
        assert_eq!(decode_hex("686"), None);
    }
}
