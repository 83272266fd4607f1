//! Literals converted to a field's type, as a field query converts them.
//!
//! A term or range query hands its value to the field type to parse: a
//! `long` field parses `"5"`, a `keyword` field takes `5` as the text
//! `"5"`, an `ip` field accepts an address or a CIDR block, a `date` field
//! parses `strict_date_optional_time||epoch_millis`. A value the field type
//! cannot parse makes Elasticsearch fail the search, so it is a compile
//! error here.
//!
//! Date strings cover an interval: Elasticsearch rounds the missing parts
//! of a date up for the upper end of a range (`"2017-08-30T20:47:33Z"` ends
//! at `…33.999999999`), so `==` means "within that second", `<=` "up to
//! the end of it" and `>` "after the end of it".

use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime};

use crate::eval::ip::{self, IpRange};
use crate::eval::value::{java_double_string, FieldKind, RVal};
use crate::eval::version::VersionKey;
use crate::plan::ir::{Bound, Num, StrSet, TermSet};

/// Converts literals for a term leaf on a field of `kind`.
pub fn term_set(kind: FieldKind, lits: &[RVal], ci: bool) -> Result<TermSet, String> {
    let lits: Vec<&RVal> = lits.iter().filter(|l| !l.is_null()).collect();
    Ok(match kind {
        FieldKind::Keyword => TermSet::Str(StrSet::new(
            lits.iter()
                .map(|l| keyword_of(l))
                .collect::<Result<_, _>>()?,
            ci,
        )),
        FieldKind::Version => TermSet::Version(
            lits.iter()
                .map(|l| keyword_of(l).map(|t| VersionKey::parse(&t)))
                .collect::<Result<_, _>>()?,
        ),
        FieldKind::Long | FieldKind::Double => {
            TermSet::Num(lits.iter().map(|l| num_of(l)).collect::<Result<_, _>>()?)
        }
        FieldKind::Bool => {
            TermSet::Bool(lits.iter().map(|l| bool_of(l)).collect::<Result<_, _>>()?)
        }
        FieldKind::Date { .. } => {
            TermSet::Date(lits.iter().map(|l| date_of(l)).collect::<Result<_, _>>()?)
        }
        FieldKind::Ip => TermSet::Ip(
            lits.iter()
                .map(|l| ip_term_of(l))
                .collect::<Result<_, _>>()?,
        ),
        FieldKind::Dynamic => TermSet::dynamic(lits.into_iter().cloned().collect(), ci),
    })
}

/// Converts a literal for a range leaf on a field of `kind`.
pub fn bound(kind: FieldKind, lit: &RVal) -> Result<Bound, String> {
    Ok(match kind {
        FieldKind::Keyword => Bound::Str(keyword_of(lit)?),
        FieldKind::Version => Bound::Version(VersionKey::parse(&keyword_of(lit)?)),
        FieldKind::Long | FieldKind::Double => Bound::Num(num_of(lit)?),
        FieldKind::Bool => Bound::Bool(bool_of(lit)?),
        FieldKind::Date { .. } => {
            let (lo, hi) = date_of(lit)?;
            Bound::Date(lo, hi)
        }
        FieldKind::Ip => match lit.as_str().and_then(ip::parse_ip) {
            Some(a) => Bound::Ip(ip::to_u128(a)),
            None => return Err(format!("'{}' is not an IP string literal", show(lit))),
        },
        FieldKind::Dynamic => Bound::Dynamic(lit.clone()),
    })
}

fn show(v: &RVal) -> String {
    v.to_java_string().unwrap_or_else(|| "null".to_string())
}

fn keyword_of(v: &RVal) -> Result<Arc<str>, String> {
    Ok(match v {
        RVal::Str(s) => s.clone(),
        RVal::Double(d) => Arc::from(java_double_string(*d)),
        other => Arc::from(show(other)),
    })
}

fn num_of(v: &RVal) -> Result<Num, String> {
    match v {
        RVal::Int(i) => Ok(Num::I(i64::from(*i))),
        RVal::Long(l) => Ok(Num::I(*l)),
        RVal::Double(d) => Ok(Num::F(*d)),
        RVal::Str(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Ok(Num::I(i));
            }
            crate::eval::value::parse_plain_decimal(t)
                .map(Num::F)
                .ok_or_else(|| format!("failed to parse [{s}] as a number"))
        }
        other => Err(format!(
            "cannot compare a number field with [{}]",
            show(other)
        )),
    }
}

fn bool_of(v: &RVal) -> Result<bool, String> {
    match v {
        RVal::Bool(b) => Ok(*b),
        RVal::Str(s) if &**s == "true" => Ok(true),
        RVal::Str(s) if &**s == "false" => Ok(false),
        other => Err(format!("failed to parse [{}] as a boolean", show(other))),
    }
}

fn date_of(v: &RVal) -> Result<(i64, i64), String> {
    match v {
        RVal::Str(s) => date_bounds(s).ok_or_else(|| format!("failed to parse date [{s}]")),
        RVal::Int(_) | RVal::Long(_) => {
            let ms = v.as_i64().unwrap_or(0);
            let n = ms
                .checked_mul(1_000_000)
                .ok_or_else(|| format!("date [{ms}] out of range"))?;
            Ok((n, n))
        }
        RVal::Double(d) if d.is_finite() && d.abs() < 9.2e12 => {
            // |d| < 9.2e12 ms keeps the nanoseconds within an i64.
            let n = (d.trunc() as i64).saturating_mul(1_000_000);
            Ok((n, n))
        }
        other => Err(format!("failed to parse date [{}]", show(other))),
    }
}

fn ip_term_of(v: &RVal) -> Result<IpRange, String> {
    match v.as_str().and_then(ip::parse_cidr) {
        Some(r) => Ok(r),
        None => Err(format!("'{}' is not an IP string literal", show(v))),
    }
}

/// The instants a date literal covers, inclusive, in epoch nanoseconds:
/// `strict_date_optional_time` (`yyyy[-MM[-dd]]['T'HH[:mm[:ss[.f]]]][zone]`,
/// the end rounded up over the parts left out) or epoch milliseconds.
pub fn date_bounds(s: &str) -> Option<(i64, i64)> {
    let t = s.trim();
    let body = t.strip_prefix('-').unwrap_or(t);
    if !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit()) && body.len() != 4 {
        let ms: i64 = t.parse().ok()?;
        let n = ms.checked_mul(1_000_000)?;
        return Some((n, n.checked_add(999_999)?));
    }
    let b = t.as_bytes();
    let mut p = 0usize;
    let num = |p: &mut usize, n: usize| -> Option<u32> {
        let part = b.get(*p..*p + n)?;
        if !part.iter().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *p += n;
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let year = num(&mut p, 4)? as i32;
    let mut month = 1;
    let mut day = 1;
    // Precision of what was written: 0 year, 1 month, 2 day, 3 hour,
    // 4 minute, 5 second, 6 fraction.
    let mut prec = 0;
    if b.get(p) == Some(&b'-') {
        p += 1;
        month = num(&mut p, 2)?;
        prec = 1;
        if b.get(p) == Some(&b'-') {
            p += 1;
            day = num(&mut p, 2)?;
            prec = 2;
        }
    }
    let (mut h, mut mi, mut sec, mut nano) = (0, 0, 0, 0u32);
    if b.get(p) == Some(&b'T') && prec == 2 {
        p += 1;
        h = num(&mut p, 2)?;
        prec = 3;
        if b.get(p) == Some(&b':') {
            p += 1;
            mi = num(&mut p, 2)?;
            prec = 4;
            if b.get(p) == Some(&b':') {
                p += 1;
                sec = num(&mut p, 2)?;
                prec = 5;
                if matches!(b.get(p), Some(b'.') | Some(b',')) {
                    p += 1;
                    let start = p;
                    while p < b.len() && b[p].is_ascii_digit() && p - start < 9 {
                        p += 1;
                    }
                    if p == start {
                        return None;
                    }
                    let digits = std::str::from_utf8(&b[start..p]).ok()?;
                    let scale = 10u32.pow(9 - digits.len() as u32);
                    nano = digits.parse::<u32>().ok()? * scale;
                    prec = 6;
                }
            }
        }
    }
    let offset_secs = match t.get(p..)? {
        "" => 0,
        "Z" if prec >= 3 => 0,
        zone if prec >= 3 => parse_offset(zone)?,
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let time = NaiveTime::from_hms_nano_opt(h, mi, sec, nano)?;
    let start = NaiveDateTime::new(date, time);
    let end = match prec {
        0 => NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1)?.and_time(NaiveTime::MIN),
        1 => date
            .checked_add_months(Months::new(1))?
            .with_day(1)?
            .and_time(NaiveTime::MIN),
        2 => start.checked_add_signed(chrono::Duration::days(1))?,
        3 => start.checked_add_signed(chrono::Duration::hours(1))?,
        4 => start.checked_add_signed(chrono::Duration::minutes(1))?,
        5 => start.checked_add_signed(chrono::Duration::seconds(1))?,
        _ => start.checked_add_signed(chrono::Duration::nanoseconds(1))?,
    };
    let off = i64::from(offset_secs) * 1_000_000_000;
    let lo = start.and_utc().timestamp_nanos_opt()?.checked_sub(off)?;
    let hi = end
        .and_utc()
        .timestamp_nanos_opt()?
        .checked_sub(off)?
        .checked_sub(1)?;
    Some((lo, hi))
}

/// `+HH:mm`, `+HHmm`, `+HH` (or `-`) to seconds east of UTC.
fn parse_offset(z: &str) -> Option<i32> {
    let (sign, rest) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 2 | 4) {
        return None;
    }
    let h: i32 = digits.get(0..2)?.parse().ok()?;
    let m: i32 = if digits.len() == 4 {
        digits.get(2..4)?.parse().ok()?
    } else {
        0
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_literals_cover_their_precision() {
        let s = 1_504_126_053_000_000_000i64; // 2017-08-30T20:47:33Z
        assert_eq!(
            date_bounds("2017-08-30T20:47:33Z"),
            Some((s, s + 999_999_999))
        );
        assert_eq!(
            date_bounds("2017-08-30T20:47:33.5Z"),
            Some((s + 500_000_000, s + 500_000_000))
        );
        assert_eq!(
            date_bounds("1516116808349"),
            Some((1_516_116_808_349_000_000, 1_516_116_808_349_999_999))
        );
        let day = date_bounds("1970-01-02").map(|(a, b)| (a, b - a + 1));
        assert_eq!(day, Some((86_400_000_000_000, 86_400_000_000_000)));
        assert_eq!(
            date_bounds("1970-01-01T01:00:00+01:00").map(|p| p.0),
            Some(0)
        );
        assert_eq!(date_bounds("not a date"), None);
        assert_eq!(date_bounds("2017").map(|p| p.0 > 0), Some(true));
    }
}
