//! Dates as a rule filter's `term` and `range` read them on a `date` or
//! `date_nanos` field, with Elasticsearch's rounding of what is left out:
//! `2024-05` is every instant of May 2024, so `gte` starts at its first
//! nanosecond and `lte` (and `gt`) at its last. A `term` on a date is the
//! range from one to the other.
//!
//! Formats read: `strict_date_optional_time` (`yyyy`, `yyyy-MM`,
//! `yyyy-MM-dd`, then `THH`, `:mm`, `:ss`, `.fraction`, each optional, and
//! a zone `Z`, `+01:00`, `+0100` or `+01`), `epoch_millis` and
//! `epoch_second`. A date without a zone is in the query's `time_zone`, or
//! UTC.

use talon_rules::filters::DateFormats;

use crate::sequence::date::days_from_civil;

/// The instants a written date stands for, in nanoseconds since the epoch,
/// both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub lo: i64,
    pub hi: i64,
}

/// Reads `text` with the first of `formats` that reads it (the ISO form
/// first, as in Elasticsearch's default `strict_date_optional_time||
/// epoch_millis`); `zone` is the offset in seconds of a date without one.
pub(crate) fn parse(text: &str, formats: DateFormats, zone: i32) -> Option<Span> {
    let t = text.trim();
    if formats.iso {
        if let Some(s) = iso(t, zone) {
            return Some(s);
        }
    }
    if formats.epoch_millis {
        if let Some(s) = epoch(t, 1_000_000) {
            return Some(s);
        }
    }
    if formats.epoch_second {
        if let Some(s) = epoch(t, 1_000_000_000) {
            return Some(s);
        }
    }
    None
}

/// Whether `text` is date math (`now-1d`, `2024-01-01||+1M/d`), which is
/// read against the time of each search.
pub(crate) fn is_date_math(text: &str) -> bool {
    let t = text.trim();
    t.starts_with("now") || t.contains("||")
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// A fixed number of ASCII digits at the start of `s`.
fn digits(s: &str, n: usize) -> Option<(i64, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

fn iso(s: &str, zone: i32) -> Option<Span> {
    let (year, mut rest) = digits(s, 4)?;
    let mut month = None;
    let mut day = None;
    let mut hour = None;
    let mut minute = None;
    let mut second = None;
    let mut nanos = None;
    if let Some(r) = rest.strip_prefix('-') {
        let (m, r) = digits(r, 2)?;
        month = Some(m);
        rest = r;
        if let Some(r) = rest.strip_prefix('-') {
            let (d, r) = digits(r, 2)?;
            day = Some(d);
            rest = r;
            if let Some(r) = rest.strip_prefix('T') {
                let (h, r) = digits(r, 2)?;
                hour = Some(h);
                rest = r;
                if let Some(r) = rest.strip_prefix(':') {
                    let (mi, r) = digits(r, 2)?;
                    minute = Some(mi);
                    rest = r;
                    if let Some(r) = rest.strip_prefix(':') {
                        let (sec, r) = digits(r, 2)?;
                        second = Some(sec);
                        rest = r;
                        if let Some(r) = rest.strip_prefix(['.', ',']) {
                            let n = r.bytes().take_while(u8::is_ascii_digit).count();
                            if !(1..=9).contains(&n) {
                                return None;
                            }
                            let frac: i64 = r[..n].parse().ok()?;
                            nanos = Some(frac * 10i64.pow(9 - n as u32));
                            rest = &r[n..];
                        }
                    }
                }
            }
        }
    }
    let offset = match rest {
        "" => zone,
        "Z" | "z" => 0,
        r if r.starts_with(['+', '-']) => talon_rules::filters::zone_offset(r)?,
        _ => return None,
    };
    let m_lo = month.unwrap_or(1);
    let m_hi = month.unwrap_or(12);
    if !(1..=12).contains(&m_lo) {
        return None;
    }
    let d_lo = day.unwrap_or(1);
    let d_hi = day.unwrap_or_else(|| days_in_month(year, m_hi));
    if d_lo < 1 || d_lo > days_in_month(year, m_lo) {
        return None;
    }
    let (h, mi, sec) = (hour.unwrap_or(0), minute.unwrap_or(0), second.unwrap_or(0));
    if hour.is_some_and(|h| h > 23)
        || minute.is_some_and(|m| m > 59)
        || second.is_some_and(|s| s > 59)
    {
        return None;
    }
    let instant = |y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, ns: i64| -> Option<i64> {
        let secs = days_from_civil(y, mo, d)? * 86_400 + h * 3600 + mi * 60 + s - i64::from(offset);
        let total = i128::from(secs) * 1_000_000_000 + i128::from(ns);
        // Beyond the years 1677-2262 no event's time can be told apart:
        // the bound is the end of what can.
        Some(total.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
    };
    let lo = instant(year, m_lo, d_lo, h, mi, sec, nanos.unwrap_or(0))?;
    let hi = instant(
        year,
        m_hi,
        d_hi,
        hour.unwrap_or(23),
        minute.unwrap_or(59),
        second.unwrap_or(59),
        nanos.unwrap_or(999_999_999),
    )?;
    Some(Span { lo, hi })
}

/// Epoch time in `unit` nanoseconds (`123`, `-5`, `123.456`); without a
/// fraction, the whole unit.
fn epoch(s: &str, unit: i64) -> Option<Span> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i128 = whole.parse().ok()?;
    let mut value = whole * i128::from(unit);
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scaled: i128 = f.parse::<i128>().ok()? * i128::from(unit) / 10i128.pow(f.len() as u32);
        value += scaled;
    }
    if neg {
        value = -value;
    }
    let lo = i64::try_from(value).ok()?;
    let hi = match frac {
        Some(_) => lo,
        None => lo.checked_add(unit - 1)?,
    };
    Some(Span { lo, hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000_000;

    fn p(s: &str) -> Option<(i64, i64)> {
        parse(s, DateFormats::DEFAULT, 0).map(|s| (s.lo, s.hi))
    }

    #[test]
    fn what_is_left_out_spans_the_period() {
        assert_eq!(p("1970-01-02"), Some((DAY, 2 * DAY - 1)));
        assert_eq!(p("1970"), Some((0, 365 * DAY - 1)));
        assert_eq!(p("1970-02"), Some((31 * DAY, 59 * DAY - 1)));
        assert_eq!(
            p("1970-01-01T00:00:01Z"),
            Some((1_000_000_000, 1_999_999_999))
        );
        assert_eq!(
            p("1970-01-01T00:00:00.5Z"),
            Some((500_000_000, 500_000_000))
        );
        assert_eq!(p("1970-01-01T01:00:00+01:00"), Some((0, 999_999_999)));
        assert_eq!(p("2024-02-29"), Some((19_782 * DAY, 19_783 * DAY - 1)));
        assert_eq!(p("2023-02-29"), None);
        assert_eq!(p("2024-13"), None);
        assert_eq!(p("yesterday"), None);
    }

    #[test]
    fn epochs_and_zones() {
        assert_eq!(
            p("1971"),
            p("1971-01-01").map(|(lo, _)| (lo, 365 * DAY * 2 - 1)),
            "four digits are a year"
        );
        assert_eq!(
            p("1500").map(|(lo, _)| lo),
            Some(i64::MIN),
            "before 1677: the earliest instant"
        );
        assert_eq!(p("86400000"), Some((DAY, DAY + 999_999)));
        assert_eq!(p("-1"), Some((-1_000_000, -1)));
        let secs = DateFormats {
            iso: false,
            epoch_millis: false,
            epoch_second: true,
        };
        assert_eq!(parse("86400", secs, 0).map(|s| s.lo), Some(DAY));
        assert_eq!(
            parse("1970-01-01T01:00", DateFormats::DEFAULT, 3600).map(|s| s.lo),
            Some(0)
        );
        assert!(is_date_math("now-1d/d"));
        assert!(is_date_math("2024-01-01||+1M"));
        assert!(!is_date_math("2024-01-01"));
    }
}
