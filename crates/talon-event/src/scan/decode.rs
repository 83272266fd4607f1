//! Token text → value, exactly as serde_json (with `float_roundtrip`, as
//! the workspace builds it) and the flattener turn the same text into one.
//!
//! - An integer that fits a `u64` is parsed exactly; it is an `Int` when it
//!   fits an `i64`, else the nearest `Float`. `-0` is `Float(-0.0)`, as
//!   serde_json makes it.
//! - Every other number is the correctly rounded `f64` (serde_json's
//!   `float_roundtrip` parser and `str::parse` both round correctly), and
//!   a number that rounds to infinity has no value (serde_json refuses it).
//! - Strings are unescaped as serde_json unescapes a string it parses:
//!   `\uXXXX` surrogates must pair.

use crate::value::Value;

use crate::json_text::hex4;

/// The value of a JSON number's text, or `None` if it is out of range
/// (or, from a line the scanner did not accept, not a number).
pub(crate) fn number_value(text: &[u8]) -> Option<Value> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
        if let Some(magnitude) = parse_u64(digits) {
            return Some(integer(negative, magnitude));
        }
    }
    let f: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    f.is_finite().then_some(Value::Float(f))
}

/// What serde_json reports for an integer whose magnitude fits a `u64`,
/// as the flattener stores it.
fn integer(negative: bool, magnitude: u64) -> Value {
    if !negative {
        return match i64::try_from(magnitude) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(magnitude as f64),
        };
    }
    // Only down to i64::MIN is an integer; `-0` is a float in serde_json.
    match 0i64.checked_sub_unsigned(magnitude) {
        Some(i) if magnitude != 0 => Value::Int(i),
        _ => Value::Float(-(magnitude as f64)),
    }
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

/// Unescapes a string's contents (between its quotes) into `out`, which is
/// cleared first. `None` if the text is not a string serde_json parses.
/// The text is a `str` already (a scanned line is UTF-8), so the runs
/// between escapes are copied without being checked again: a backslash is
/// ASCII, so every cut falls between characters.
pub(crate) fn unescape(raw: &str, out: &mut String) -> Option<()> {
    out.clear();
    // Unescaped text is never longer than its escaped form: one allocation.
    out.reserve(raw.len());
    let mut rest = raw;
    while let Some(i) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(rest.get(..i)?);
        let escape = *rest.as_bytes().get(i + 1)?;
        // An escape letter that is not ASCII is no escape: `get` finds no
        // character boundary after it, and the text is refused.
        rest = rest.get(i + 2..)?;
        let c = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\x08',
            b'f' => '\x0c',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = u32::from(hex4(rest.as_bytes(), 0)?);
                rest = rest.get(4..)?;
                match unit {
                    0xD800..=0xDBFF => {
                        if rest.get(..2) != Some("\\u") {
                            return None;
                        }
                        let low = u32::from(hex4(rest.as_bytes(), 2)?);
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return None;
                        }
                        rest = rest.get(6..)?;
                        char::from_u32(0x1_0000 + ((unit - 0xD800) << 10) + (low - 0xDC00))?
                    }
                    _ => char::from_u32(unit)?,
                }
            }
            _ => return None,
        };
        out.push(c);
    }
    out.push_str(rest);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(v: Option<Value>) -> Option<(char, u64)> {
        match v? {
            Value::Int(i) => Some(('i', i as u64)),
            Value::Float(f) => Some(('f', f.to_bits())),
            _ => None,
        }
    }

    #[test]
    fn numbers_are_what_serde_json_reads() {
        let cases = [
            "0",
            "-0",
            "-0.0",
            "7",
            "-7",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "-18446744073709551616",
            "123456789012345678901234567890",
            "1.5",
            "2.2250738585072014e-308",
            "4.9e-324",
            "1e-400",
            "-1e-400",
            "1.7976931348623157e308",
            "0.1e1",
            "1E+2",
            "0e99999999999999999999",
            "1.00000000000000011102230246251565404236316680908203125",
        ];
        for text in cases {
            let v: serde_json::Value = serde_json::from_str(text).expect(text);
            let want = match v {
                serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                    (Some(i), _, _) => Value::Int(i),
                    (None, Some(u), _) => Value::Float(u as f64),
                    (_, _, Some(f)) => Value::Float(f),
                    _ => unreachable!("a number"),
                },
                _ => unreachable!("a number"),
            };
            assert_eq!(
                bits(number_value(text.as_bytes())),
                bits(Some(want)),
                "{text}"
            );
        }
        for text in [
            "1e400",
            "-1e400",
            "1e99999999999999999999",
            &"9".repeat(400),
        ] {
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
            assert_eq!(number_value(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn strings_unescape_as_serde_json_parses_them() {
        let mut out = String::new();
        let raw = r#"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\u0000z"#;
        assert_eq!(unescape(raw, &mut out), Some(()));
        assert_eq!(out, "a\"b\\c/d\x08\x0c\n\r\t\u{e9}\u{1F600}\u{0}z");
        for bad in [
            r#"\ud800"#,
            r#"\udc00"#,
            r#"\ud800\u0041"#,
            r#"\q"#,
            "\\",
            "\\é",
            "a\\\u{1F600}b",
        ] {
            assert_eq!(unescape(bad, &mut out), None, "{bad:?}");
        }
    }
}
