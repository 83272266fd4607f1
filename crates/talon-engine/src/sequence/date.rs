//! Dates as a `date` field indexes them, for ordinals and date join keys.
//!
//! Elasticsearch reads a date with the field's `format` (default
//! `strict_date_optional_time||epoch_millis`). Two consequences matter here
//! and are not covered by [`talon_event::time::parse_nanos`]:
//! - a digit string that is not a 4-digit year is epoch milliseconds
//!   (`"1"`, `"12"`, the timestamps of the missing-events suite);
//! - a field may declare a Java pattern (`dd-MM-yyyy`), and two indices may
//!   declare different ones for the same field. The pattern is tried first,
//!   then the default forms, so values written either way still compare.
//!
//! A `date` field keeps milliseconds, a `date_nanos` field nanoseconds;
//! [`truncate`] applies that. Parsing never panics: arithmetic is checked.

use talon_event::time::parse_str_nanos;
use talon_event::Value;

const NANOS_PER_MS: i64 = 1_000_000;

/// Parses a date value to epoch nanoseconds, trying `format` (a mapping's
/// `format`, alternatives separated by `||`) before the default forms.
pub(crate) fn parse_date(value: &Value, format: Option<&str>) -> Option<i64> {
    match value {
        Value::Int(ms) => ms.checked_mul(NANOS_PER_MS),
        Value::Float(ms) if ms.is_finite() && ms.abs() < 9.0e12 => {
            Some((ms * NANOS_PER_MS as f64) as i64)
        }
        Value::Str(s) => {
            let s = s.trim();
            if let Some(fmt) = format {
                for alt in fmt.split("||") {
                    if let Some(n) = parse_with(alt.trim(), s) {
                        return Some(n);
                    }
                }
            }
            parse_default(s)
        }
        _ => None,
    }
}

/// A date value as the field indexes it: read with the field's `format`
/// ([`parse_date`]), at its resolution ([`truncate`]); `None` when the
/// field could not have indexed it.
pub(crate) fn instant(value: &Value, format: Option<&str>, nanos: bool) -> Option<i64> {
    parse_date(value, format).map(|n| truncate(n, nanos))
}

/// Drops the sub-millisecond part, as a `date` (not `date_nanos`) field
/// stores it.
pub(crate) fn truncate(nanos: i64, keep_nanos: bool) -> i64 {
    if keep_nanos {
        nanos
    } else {
        nanos - nanos.rem_euclid(NANOS_PER_MS)
    }
}

/// `strict_date_optional_time||epoch_millis`.
fn parse_default(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    // A strict date needs a 4-digit year, so any other digit string can
    // only be epoch milliseconds.
    if all_digits && digits.len() != 4 {
        return s.parse::<i64>().ok()?.checked_mul(NANOS_PER_MS);
    }
    if all_digits {
        // A bare year.
        return parse_pattern("yyyy", s);
    }
    parse_str_nanos(s)
}

fn parse_with(format: &str, s: &str) -> Option<i64> {
    match format {
        "epoch_millis" => {
            let ms: i64 = s.parse().ok()?;
            ms.checked_mul(NANOS_PER_MS)
        }
        "epoch_second" => {
            let secs: i64 = s.parse().ok()?;
            secs.checked_mul(1_000_000_000)
        }
        f if f.contains("date") || f.contains("time") => parse_str_nanos(s),
        pattern => parse_pattern(pattern, s),
    }
}

/// One element of a Java `DateTimeFormatter` pattern.
#[derive(Debug, PartialEq)]
enum Piece {
    /// A numeric field letter and its repeat count.
    Field(char, usize),
    Literal(String),
}

fn pieces(pattern: &str) -> Option<Vec<Piece>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let end = chars[i + 1..].iter().position(|&x| x == '\'')? + i + 1;
            out.push(Piece::Literal(chars[i + 1..end].iter().collect()));
            i = end + 1;
        } else if c.is_ascii_alphabetic() {
            let mut n = 1;
            while i + n < chars.len() && chars[i + n] == c {
                n += 1;
            }
            if !matches!(c, 'y' | 'u' | 'M' | 'd' | 'H' | 'm' | 's' | 'S') {
                // Names of months, time zones and the like are not read.
                return None;
            }
            out.push(Piece::Field(c, n));
            i += n;
        } else {
            out.push(Piece::Literal(c.to_string()));
            i += 1;
        }
    }
    Some(out)
}

/// Reads `s` with a numeric Java pattern such as `dd-MM-yyyy HH:mm:ss.SSS`
/// (UTC; fields left out are at their minimum).
fn parse_pattern(pattern: &str, s: &str) -> Option<i64> {
    let pieces = pieces(pattern)?;
    let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
    let (mut hour, mut minute, mut second, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    let bytes = s.as_bytes();
    let mut at = 0;
    for (idx, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Literal(lit) => {
                let end = at + lit.len();
                if bytes.get(at..end)? != lit.as_bytes() {
                    return None;
                }
                at = end;
            }
            Piece::Field(c, n) => {
                // Adjacent numeric fields (`yyyyMMdd`) need fixed widths;
                // otherwise a field takes every digit up to the next literal.
                let next_numeric = matches!(pieces.get(idx + 1), Some(Piece::Field(..)));
                let mut end = at;
                while end < bytes.len()
                    && bytes[end].is_ascii_digit()
                    && (!next_numeric || end - at < *n)
                {
                    end += 1;
                }
                if end == at || end - at > 18 {
                    return None;
                }
                let text = std::str::from_utf8(&bytes[at..end]).ok()?;
                let v: i64 = text.parse().ok()?;
                match c {
                    'y' | 'u' => year = v,
                    'M' => month = v,
                    'd' => day = v,
                    'H' => hour = v,
                    'm' => minute = v,
                    's' => second = v,
                    _ => {
                        // Fraction of a second: scale to nine digits.
                        let digits = (end - at) as u32;
                        nanos = if digits <= 9 {
                            v * 10i64.pow(9 - digits)
                        } else {
                            return None;
                        };
                    }
                }
                at = end;
            }
        }
    }
    let valid = at == bytes.len()
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day)?;
    let secs = days
        .checked_mul(86_400)?
        .checked_add(hour * 3600 + minute * 60 + second)?;
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (`None` past a
/// million years either way).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(-1_000_000..=1_000_000).contains(&y) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000_000;

    #[test]
    fn short_digit_strings_are_epoch_millis() {
        assert_eq!(parse_date(&Value::str("1"), None), Some(1_000_000));
        assert_eq!(parse_date(&Value::str("12"), None), Some(12_000_000));
        assert_eq!(
            parse_date(&Value::str("1671235200000"), None),
            Some(1_671_235_200_000 * NANOS_PER_MS)
        );
        // Four digits are a year.
        assert_eq!(parse_date(&Value::str("1970"), None), Some(0));
    }

    #[test]
    fn java_patterns_and_fallback() {
        let f = Some("dd-MM-yyyy");
        assert_eq!(
            parse_date(&Value::str("17-12-2022"), f),
            Some(1_671_235_200_000 * NANOS_PER_MS)
        );
        // Another index wrote the same field as an ISO date.
        assert_eq!(
            parse_date(&Value::str("2022-12-17"), f),
            Some(1_671_235_200_000 * NANOS_PER_MS)
        );
        assert_eq!(parse_date(&Value::str("02-01-1970"), f), Some(DAY));
        assert_eq!(
            parse_pattern("yyyyMMdd'T'HHmm", "19700102T0001"),
            Some(DAY + 60_000_000_000)
        );
        assert_eq!(
            parse_pattern("yyyy-MM-dd HH:mm:ss.SSS", "1970-01-01 00:00:01.5"),
            Some(1_500_000_000)
        );
        assert_eq!(parse_pattern("dd-MM-yyyy", "32-01-2022"), None);
        assert_eq!(parse_pattern("MMM yyyy", "Jan 2022"), None);
    }

    #[test]
    fn truncation_keeps_millis_for_date_fields() {
        assert_eq!(truncate(1_999_999, false), 1_000_000);
        assert_eq!(truncate(-1, false), -1_000_000);
        assert_eq!(truncate(1_999_999, true), 1_999_999);
    }
}
