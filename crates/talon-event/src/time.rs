//! Dates as Elasticsearch reads them: `strict_date_optional_time` strings
//! (`2024-05-01`, `2024-05-01T10:00:00.123456789+02:00`) or epoch
//! milliseconds (a number, or a string of digits).
//!
//! Instants are nanoseconds since the Unix epoch in an `i64`, which covers
//! the years 1677-2262. Its very first value is not a usable time: the
//! sequence state keeps it for "before any event" (see [`usable`]).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use crate::value::Value;

/// Parses a date value (ISO string or epoch millis) to epoch nanoseconds.
pub fn parse_nanos(value: &Value) -> Option<i64> {
    usable(match value {
        Value::Int(ms) => ms.checked_mul(1_000_000),
        Value::Float(ms) => float_millis_nanos(*ms),
        Value::Str(s) => parse_str_nanos(s),
        _ => None,
    })
}

/// `nanos` unless it is `i64::MIN` (1677-09-21T00:12:43.145224192Z): the
/// sequence matcher stands that value for "earlier than every event", so
/// an event dated exactly then would jump ahead of later ones. It counts
/// as a date out of range, as the instant one nanosecond before it does.
fn usable(nanos: Option<i64>) -> Option<i64> {
    nanos.filter(|&n| n != i64::MIN)
}

/// Epoch milliseconds written as a JSON float (`1.7e12`, `1e300`) to
/// nanoseconds; `None` outside the years 1677-2262, as for an integer or a
/// date string out of that range (`as` would clamp to its ends, inventing
/// a time).
pub fn float_millis_nanos(ms: f64) -> Option<i64> {
    let nanos = ms * 1_000_000.0;
    // -2^63 and 2^63 are exact as f64; NaN and the infinities fail too.
    let range = -9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0;
    range.contains(&nanos).then_some(nanos as i64)
}

/// Parses an ISO-8601 date/time string, or a string of epoch millis.
pub fn parse_str_nanos(s: &str) -> Option<i64> {
    usable(str_nanos(s))
}

fn str_nanos(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // `strict_date_optional_time||epoch_millis`: a bare 4-digit number is
    // a year (the first format), any other run of digits is epoch millis.
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.bytes().all(|b| b.is_ascii_digit()) && digits.len() != 4 {
        let ms: i64 = s.parse().ok()?;
        return ms.checked_mul(1_000_000);
    }
    if digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let year: i32 = s.parse().ok()?;
        let d = NaiveDate::from_ymd_opt(year, 1, 1)?;
        return d.and_time(NaiveTime::MIN).and_utc().timestamp_nanos_opt();
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return dt.timestamp_nanos_opt();
    }
    parse_loose(s)
}

/// The forms RFC 3339 does not cover: a bare date, no offset (UTC), a
/// lowercase `t`, a `+0200` offset, or minutes without seconds.
fn parse_loose(s: &str) -> Option<i64> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_time(NaiveTime::MIN).and_utc().timestamp_nanos_opt();
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return dt.timestamp_nanos_opt();
        }
    }
    let naive = s.trim_end_matches(['Z', 'z']);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(naive, fmt) {
            return dt.and_utc().timestamp_nanos_opt();
        }
    }
    None
}

/// Formats epoch nanoseconds as `2024-05-01T10:00:00.000Z` (millisecond
/// precision, as Elasticsearch renders `date` fields).
pub fn format_millis(nanos: i64) -> String {
    // What `%Y-%m-%dT%H:%M:%S%.3fZ` writes, without chrono's format
    // machinery, which cost more than the rest of an alert's time handling.
    // An i64 of nanoseconds is always a four-digit year (1677-2262).
    let at = DateTime::from_timestamp_nanos(nanos);
    let (date, time) = (at.date_naive(), at.time());
    let fields = [
        (date.year().unsigned_abs(), 4, '-'),
        (date.month(), 2, '-'),
        (date.day(), 2, 'T'),
        (time.hour(), 2, ':'),
        (time.minute(), 2, ':'),
        (time.second(), 2, '.'),
        (time.nanosecond() % 1_000_000_000 / 1_000_000, 3, 'Z'),
    ];
    let mut out = String::with_capacity(24);
    for (value, width, separator) in fields {
        let mut digits = [b'0'; 4];
        let mut rest = value;
        for digit in digits[..width].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.extend(digits[..width].iter().map(|&d| char::from(d)));
        out.push(separator);
    }
    out
}

/// Formats epoch nanoseconds with nanosecond precision (for `date_nanos`).
pub fn format_nanos(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_elasticsearch_accepts() {
        assert_eq!(parse_str_nanos("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(parse_str_nanos("1970-01-01T00:00:00.000000123Z"), Some(123));
        assert_eq!(parse_str_nanos("1970-01-02"), Some(86_400_000_000_000));
        assert_eq!(parse_str_nanos("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_str_nanos("1970-01-01T00:00:00"), Some(0));
        assert_eq!(
            parse_str_nanos("2021-09-01T05:52:29.9451497Z"),
            Some(1_630_475_549_945_149_700)
        );
        // A 4-digit number is a year (1500 is outside the nanosecond range).
        assert_eq!(parse_str_nanos("1500"), None);
        assert_eq!(parse_str_nanos("1970"), Some(0));
        assert_eq!(parse_str_nanos("15000"), Some(15_000_000_000));
        // Short epoch-millis strings, as in the ES QA `extra` data.
        assert_eq!(parse_str_nanos("1"), Some(1_000_000));
        assert_eq!(parse_str_nanos("100"), Some(100_000_000));
        assert_eq!(parse_nanos(&Value::Int(1)), Some(1_000_000));
        assert_eq!(parse_str_nanos("not a date"), None);
    }

    /// A numeric epoch beyond the nanosecond range is no date, as a string
    /// one is; it used to be clamped to 2262-04-11 (or 1677-09-21).
    #[test]
    fn out_of_range_epochs_are_no_date_whatever_their_type() {
        assert_eq!(parse_str_nanos("9999-01-01T00:00:00Z"), None);
        assert_eq!(parse_nanos(&Value::Float(1e300)), None);
        assert_eq!(parse_nanos(&Value::Float(-1e300)), None);
        assert_eq!(parse_nanos(&Value::Float(9.3e12)), None);
        assert_eq!(parse_nanos(&Value::Float(f64::INFINITY)), None);
        assert_eq!(parse_nanos(&Value::Float(f64::NAN)), None);
        assert_eq!(parse_nanos(&Value::Int(i64::MAX)), None);
        // In range, as before: fractions of a millisecond kept, and times
        // near either end of the range.
        assert_eq!(parse_nanos(&Value::Float(1.5)), Some(1_500_000));
        assert_eq!(
            parse_nanos(&Value::Float(1_700_000_000_000.0)),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_nanos(&Value::Float(9.2e12)),
            Some(9_200_000_000_000_000_000)
        );
        assert_eq!(
            parse_nanos(&Value::Float(-9.2e12)),
            Some(-9_200_000_000_000_000_000)
        );
    }

    #[test]
    fn the_first_nanosecond_is_no_usable_time() {
        // i64::MIN stands for "before any event" in the sequence state.
        assert_eq!(parse_str_nanos("1677-09-21T00:12:43.145224192Z"), None);
        assert_eq!(
            parse_nanos(&Value::Int(i64::MIN / 1_000_000)),
            Some(-9_223_372_036_854_000_000)
        );
        assert_eq!(
            parse_str_nanos("1677-09-21T00:12:43.145224193Z"),
            Some(i64::MIN + 1)
        );
    }

    #[test]
    fn formats_at_millisecond_precision() {
        assert_eq!(format_millis(1_500_000_000), "1970-01-01T00:00:01.500Z");
    }

    /// The hand-written formatter against chrono's `%Y-%m-%dT%H:%M:%S%.3fZ`
    /// over the whole nanosecond range.
    #[test]
    fn format_millis_writes_what_chrono_writes() {
        let chrono_text = |nanos: i64| {
            DateTime::from_timestamp_nanos(nanos)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string()
        };
        let mut samples = vec![i64::MIN, i64::MAX, 0, -1, 1, 999_999, 1_000_000, -1_000_000];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(x as i64);
            samples.push((x % 4_102_444_800_000) as i64 * 1_000_000 + (x % 1_000_000) as i64);
        }
        for nanos in samples {
            assert_eq!(format_millis(nanos), chrono_text(nanos), "{nanos}");
        }
    }
}
