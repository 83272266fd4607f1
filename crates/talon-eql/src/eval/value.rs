//! Runtime values of script evaluation, and how an event's stored value
//! becomes one, given the field's type.
//!
//! Elasticsearch scripts see doc values, not the JSON source: a `long` field
//! holding `"4720"` reads as the number 4720, a `keyword` field holding `5`
//! reads as the string `"5"`, a `date` reads as an instant, an `ip` as its
//! canonical text. [`FieldKind`] names the type that decides this and
//! [`doc_value`] performs the conversion; a value the field type could not
//! have indexed (`"abc"` in a `long`) is treated as absent, the way
//! Elasticsearch rejects it at index time.
//!
//! Numbers keep Java's distinction between `Integer` (literals that fit 32
//! bits, `length()`, `indexOf()`) and `Long` (every numeric field), because
//! overflow and division follow the Java type of the operands.

use std::cmp::Ordering;
use std::sync::Arc;

use talon_event::time::parse_nanos;
use talon_event::Value;

use super::ip;

/// A value during script evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum RVal {
    Null,
    Bool(bool),
    /// A Java `Integer`.
    Int(i32),
    /// A Java `Long`.
    Long(i64),
    Double(f64),
    Str(Arc<str>),
    /// An instant, nanoseconds since the epoch (doc value of a date field).
    Date(i64),
}

impl RVal {
    pub fn str(s: &str) -> RVal {
        RVal::Str(Arc::from(s))
    }

    pub fn string(s: String) -> RVal {
        RVal::Str(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, RVal::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            RVal::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            RVal::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integral value of an `Integer` or `Long`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            RVal::Int(i) => Some(i64::from(*i)),
            RVal::Long(l) => Some(*l),
            _ => None,
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self, RVal::Int(_) | RVal::Long(_) | RVal::Double(_))
    }

    /// A Java integer literal: `Integer` when it fits 32 bits, else `Long`,
    /// as the EQL parser types integer literals.
    pub fn integer(i: i64) -> RVal {
        match i32::try_from(i) {
            Ok(v) => RVal::Int(v),
            Err(_) => RVal::Long(i),
        }
    }

    /// The value as `Object.toString()` renders it in a script, which is
    /// what `string()` and `concat()` produce.
    pub fn to_java_string(&self) -> Option<String> {
        match self {
            RVal::Null => None,
            RVal::Bool(b) => Some(b.to_string()),
            RVal::Int(i) => Some(i.to_string()),
            RVal::Long(l) => Some(l.to_string()),
            RVal::Double(d) => Some(java_double_string(*d)),
            RVal::Str(s) => Some(s.to_string()),
            RVal::Date(n) => Some(java_instant_string(*n)),
        }
    }

    /// The runtime value of a literal from the syntax tree.
    pub fn from_value(v: &Value) -> RVal {
        match v {
            Value::Null => RVal::Null,
            Value::Bool(b) => RVal::Bool(*b),
            Value::Int(i) => RVal::integer(*i),
            Value::Float(f) => RVal::Double(*f),
            Value::Str(s) => RVal::Str(s.clone()),
        }
    }
}

/// The field types that change how a stored value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// keyword, wildcard, constant_keyword, text with a keyword sub-field.
    Keyword,
    Long,
    Double,
    Bool,
    /// `date` (millisecond resolution) or `date_nanos`.
    Date {
        nanos: bool,
    },
    Ip,
    Version,
    /// No mapping and no ECS type: the value's own JSON type decides.
    Dynamic,
}

/// Converts one stored value to the doc value a script would see, or `None`
/// when the field type could not have indexed it.
pub fn doc_value(v: &Value, kind: FieldKind) -> Option<RVal> {
    match kind {
        FieldKind::Keyword | FieldKind::Version => keyword_text(v).map(RVal::Str),
        FieldKind::Long => coerce_long(v).map(RVal::Long),
        FieldKind::Double => coerce_double(v).map(RVal::Double),
        FieldKind::Bool => coerce_bool(v).map(RVal::Bool),
        FieldKind::Date { nanos } => coerce_date(v, nanos).map(RVal::Date),
        FieldKind::Ip => {
            let text = keyword_text(v)?;
            match ip::parse_ip(&text)? {
                // A dotted quad parses only in its shortest form (no
                // leading zeros), which is the canonical text: no new one.
                std::net::IpAddr::V4(_) => Some(RVal::Str(text)),
                addr => Some(RVal::string(ip::canonical(addr))),
            }
        }
        FieldKind::Dynamic => match v {
            Value::Null => None,
            Value::Bool(b) => Some(RVal::Bool(*b)),
            Value::Int(i) => Some(RVal::Long(*i)),
            Value::Float(f) => Some(RVal::Double(*f)),
            Value::Str(s) => Some(RVal::Str(s.clone())),
        },
    }
}

/// The text a keyword field indexes for a JSON value: strings as they are,
/// numbers and booleans as their JSON text.
pub fn keyword_text(v: &Value) -> Option<Arc<str>> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(Arc::from(i.to_string())),
        // The JSON text of a float is not kept by the reader; Rust's
        // shortest round-trip form is what most JSON writers produce.
        Value::Float(f) => Some(Arc::from(f.to_string())),
        Value::Bool(b) => Some(Arc::from(if *b { "true" } else { "false" })),
        Value::Null => None,
    }
}

/// A `long` field's view of a value: numbers are truncated and numeric
/// strings parsed, as Elasticsearch's default `coerce` does.
pub fn coerce_long(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Float(f) => float_to_long(*f),
        Value::Str(s) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Some(i);
            }
            float_to_long(parse_plain_decimal(t)?)
        }
        _ => None,
    }
}

fn float_to_long(f: f64) -> Option<i64> {
    // Outside the long range Elasticsearch rejects the document.
    // The long range is [-2^63, 2^63).
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        Some(f.trunc() as i64)
    } else {
        None
    }
}

/// A `double` field's view of a value.
pub fn coerce_double(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        Value::Str(s) => parse_plain_decimal(s.trim()),
        _ => None,
    }
}

/// A `boolean` field's view of a value.
pub fn coerce_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Str(s) => match &**s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A date field's view of a value: epoch nanoseconds, truncated to whole
/// milliseconds for a `date` (millisecond) field.
pub fn coerce_date(v: &Value, nanos: bool) -> Option<i64> {
    let n = parse_nanos(v)?;
    if nanos {
        Some(n)
    } else {
        n.checked_sub(n.rem_euclid(1_000_000))
    }
}

/// Parses a plain decimal number (`12`, `-1.5`, `1e3`); no `inf`/`nan`.
pub fn parse_plain_decimal(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let ok = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && body
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.');
    if !ok {
        return None;
    }
    s.parse::<f64>().ok()
}

/// `Double.compare`: a total order where `-0.0 < 0.0` and NaN is equal to
/// itself and above everything.
pub fn java_double_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => match a.partial_cmp(&b) {
            Some(Ordering::Equal) => {
                // Only 0.0 and -0.0 compare equal with different bits.
                a.is_sign_negative().cmp(&b.is_sign_negative()).reverse()
            }
            Some(o) => o,
            None => Ordering::Equal,
        },
    }
}

/// How a script compares two values (`Comparisons.compare`): numbers
/// numerically (as doubles when either is a double), values of the same
/// kind by their natural order, anything else is incomparable (`None`).
pub fn script_compare(a: &RVal, b: &RVal) -> Option<Ordering> {
    if a.is_number() && b.is_number() {
        if matches!(a, RVal::Double(_)) || matches!(b, RVal::Double(_)) {
            return Some(java_double_cmp(num_f64(a)?, num_f64(b)?));
        }
        return Some(a.as_i64()?.cmp(&b.as_i64()?));
    }
    match (a, b) {
        (RVal::Str(x), RVal::Str(y)) => Some(java_str_cmp(x, y)),
        (RVal::Bool(x), RVal::Bool(y)) => Some(x.cmp(y)),
        (RVal::Date(x), RVal::Date(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn num_f64(v: &RVal) -> Option<f64> {
    match v {
        RVal::Int(i) => Some(f64::from(*i)),
        RVal::Long(l) => Some(*l as f64),
        RVal::Double(d) => Some(*d),
        _ => None,
    }
}

/// `String.compareTo`: by UTF-16 code units. It differs from byte order
/// only between supplementary characters and U+E000..U+FFFF.
pub fn java_str_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `Double.toString`: plain notation with at least one fractional digit for
/// magnitudes in [1e-3, 1e7), otherwise `d.dddE±n`, always with the
/// shortest digits that round-trip.
pub fn java_double_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        // `{:e}` gives the shortest digits as `4.25e-5` or `1e7`.
        let s = format!("{d:e}");
        let (mantissa, exp) = match s.split_once('e') {
            Some(parts) => parts,
            None => return s,
        };
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exp}")
    }
}

/// `ZonedDateTime.toString` for a UTC instant: `2017-08-30T20:47:33Z`,
/// seconds omitted when zero, the fraction in groups of three digits.
pub fn java_instant_string(nanos: i64) -> String {
    let dt = chrono::DateTime::from_timestamp_nanos(nanos);
    let base = dt.format("%Y-%m-%dT%H:%M").to_string();
    let secs = chrono::Timelike::second(&dt);
    let frac = chrono::Timelike::nanosecond(&dt);
    let mut out = base;
    if secs != 0 || frac != 0 {
        out.push_str(&format!(":{secs:02}"));
    }
    if frac != 0 {
        if frac.rem_euclid(1_000_000) == 0 {
            out.push_str(&format!(".{:03}", frac / 1_000_000));
        } else if frac.rem_euclid(1000) == 0 {
            out.push_str(&format!(".{:06}", frac / 1000));
        } else {
            out.push_str(&format!(".{frac:09}"));
        }
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_doc_values_are_the_canonical_text() {
        let read = |s: &str| match doc_value(&Value::str(s), FieldKind::Ip) {
            Some(RVal::Str(t)) => Some(t.to_string()),
            _ => None,
        };
        // A dotted quad is kept as written only because it is already the
        // canonical text; the others are rewritten.
        for (text, want) in [
            ("10.0.0.1", Some("10.0.0.1")),
            ("0.0.0.0", Some("0.0.0.0")),
            ("255.255.255.255", Some("255.255.255.255")),
            ("::ffff:10.0.0.1", Some("10.0.0.1")),
            ("2001:DB8:0:0::1", Some("2001:db8::1")),
            ("010.0.0.1", None),
            ("10.0.0", None),
            ("10.0.0.1 ", None),
        ] {
            assert_eq!(read(text).as_deref(), want, "{text:?}");
            if let Some(addr) = ip::parse_ip(text) {
                assert_eq!(Some(ip::canonical(addr).as_str()), want, "{text:?}");
            }
        }
    }

    #[test]
    fn java_double_formatting() {
        assert_eq!(java_double_string(42.5), "42.5");
        assert_eq!(java_double_string(7.0), "7.0");
        assert_eq!(java_double_string(1e7), "1.0E7");
        assert_eq!(java_double_string(0.0001), "1.0E-4");
        assert_eq!(java_double_string(-2.5e-10), "-2.5E-10");
        assert_eq!(java_double_string(123456.789), "123456.789");
    }

    #[test]
    fn doc_values_follow_the_field_type() {
        assert_eq!(
            doc_value(&Value::str("4720"), FieldKind::Long),
            Some(RVal::Long(4720))
        );
        assert_eq!(
            doc_value(&Value::Int(5), FieldKind::Keyword),
            Some(RVal::str("5"))
        );
        assert_eq!(doc_value(&Value::str("abc"), FieldKind::Long), None);
        assert_eq!(
            doc_value(&Value::Float(5.7), FieldKind::Long),
            Some(RVal::Long(5))
        );
    }

    #[test]
    fn instants_render_like_java() {
        assert_eq!(java_instant_string(0), "1970-01-01T00:00Z");
        assert_eq!(
            java_instant_string(1_500_000_000),
            "1970-01-01T00:00:01.500Z"
        );
    }
}
