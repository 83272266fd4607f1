//! The EQL functions and arithmetic, with Elasticsearch's exact results.
//!
//! Every function takes already evaluated arguments and returns the value or
//! an error message. Errors are what Elasticsearch raises as exceptions
//! (`number("abc")`, integer division by zero, `long overflow`): when the
//! planner folds literals they become compile errors; during evaluation the
//! caller treats them as "no match" (Elasticsearch would fail the search).
//!
//! Null handling follows each function's processor: a null source gives
//! null, `concat` is null when any argument is null, `between` with an empty
//! delimiter returns the source unchanged and a missing delimiter gives "".

use super::ip::{self, IpRange};
use super::text::{self, from_utf16, java_index_of, java_last_index_of, utf16};
use super::value::{java_double_string, RVal};
use crate::ast::ArithOp;

/// A function result or the message of the exception Elasticsearch throws.
pub type FnResult = Result<RVal, String>;

fn need_str<'a>(v: &'a RVal, what: &str) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| {
        format!(
            "A string/char is required for {what}; received [{}]",
            show(v)
        )
    })
}

fn show(v: &RVal) -> String {
    v.to_java_string().unwrap_or_else(|| "null".to_string())
}

/// `+ - * / %` and `add`/`subtract`/`multiply`/`divide`/`modulo`, with
/// Java's widening: double if either operand is a double, else long if
/// either is a long, else int; integer overflow of `+ - *` is an error.
pub fn arith(op: ArithOp, a: &RVal, b: &RVal) -> FnResult {
    if a.is_null() || b.is_null() {
        return Ok(RVal::Null);
    }
    if !a.is_number() {
        return Err(format!("A number is required; received [{}]", show(a)));
    }
    if !b.is_number() {
        return Err(format!("A number is required; received [{}]", show(b)));
    }
    if let (RVal::Double(_), _) | (_, RVal::Double(_)) = (a, b) {
        let x = to_f64(a);
        let y = to_f64(b);
        return Ok(RVal::Double(match op {
            ArithOp::Add => x + y,
            ArithOp::Sub => x - y,
            ArithOp::Mul => x * y,
            ArithOp::Div => x / y,
            ArithOp::Mod => x % y,
        }));
    }
    if let (RVal::Int(x), RVal::Int(y)) = (a, b) {
        let (x, y) = (*x, *y);
        let r = match op {
            ArithOp::Add => x.checked_add(y),
            ArithOp::Sub => x.checked_sub(y),
            ArithOp::Mul => x.checked_mul(y),
            ArithOp::Div if y == 0 => return Err("/ by zero".to_string()),
            ArithOp::Div => Some(x.wrapping_div(y)),
            ArithOp::Mod if y == 0 => return Err("/ by zero".to_string()),
            ArithOp::Mod => Some(x.wrapping_rem(y)),
        };
        return r
            .map(RVal::Int)
            .ok_or_else(|| "integer overflow".to_string());
    }
    let (x, y) = match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => (x, y),
        _ => return Err("A number is required".to_string()),
    };
    let r = match op {
        ArithOp::Add => x.checked_add(y),
        ArithOp::Sub => x.checked_sub(y),
        ArithOp::Mul => x.checked_mul(y),
        ArithOp::Div if y == 0 => return Err("/ by zero".to_string()),
        ArithOp::Div => Some(x.wrapping_div(y)),
        ArithOp::Mod if y == 0 => return Err("/ by zero".to_string()),
        ArithOp::Mod => Some(x.wrapping_rem(y)),
    };
    r.map(RVal::Long).ok_or_else(|| "long overflow".to_string())
}

fn to_f64(v: &RVal) -> f64 {
    match v {
        RVal::Int(i) => f64::from(*i),
        RVal::Long(l) => *l as f64,
        RVal::Double(d) => *d,
        _ => f64::NAN,
    }
}

/// Unary minus.
pub fn negate(a: &RVal) -> FnResult {
    match a {
        RVal::Null => Ok(RVal::Null),
        RVal::Int(i) => i
            .checked_neg()
            .map(RVal::Int)
            .ok_or_else(|| "integer overflow".to_string()),
        RVal::Long(l) => l
            .checked_neg()
            .map(RVal::Long)
            .ok_or_else(|| "long overflow".to_string()),
        RVal::Double(d) => Ok(RVal::Double(-d)),
        other => Err(format!("A number is required; received [{}]", show(other))),
    }
}

/// `between(source, left, right, greedy, case_insensitive)`.
pub fn between(src: &RVal, left: &RVal, right: &RVal, greedy: &RVal, ci: bool) -> FnResult {
    if src.is_null() {
        return Ok(RVal::Null);
    }
    let s = need_str(src, "between")?;
    let l = need_str(left, "between")?;
    let r = need_str(right, "between")?;
    let greedy = greedy
        .as_bool()
        .ok_or_else(|| "A boolean is required for greedy".to_string())?;
    if s.is_empty() || l.is_empty() || r.is_empty() {
        return Ok(src.clone());
    }
    let orig = utf16(s);
    let (hay, lu, ru) = if ci {
        (
            utf16(&text::lower_str(s)),
            utf16(&text::lower_str(l)),
            utf16(&text::lower_str(r)),
        )
    } else {
        (orig.clone(), utf16(l), utf16(r))
    };
    let Some(idx) = java_index_of(&hay, &lu, 0) else {
        return Ok(RVal::str(""));
    };
    let start = idx + lu.len();
    let end = if greedy {
        java_last_index_of(&hay, &ru)
    } else {
        java_index_of(&hay, &ru, start as i64)
    };
    let Some(end) = end else {
        return Ok(RVal::str(""));
    };
    if end < start || end > orig.len() {
        // Java's substring throws here (a greedy right delimiter that ends
        // before the left one).
        return Err(format!("begin {start}, end {end}, length {}", orig.len()));
    }
    Ok(RVal::string(from_utf16(&orig[start..end])))
}

/// `cidrMatch(ip, blocks...)` with the blocks already parsed.
pub fn cidr_match(addr: &RVal, blocks: &[IpRange]) -> FnResult {
    if addr.is_null() {
        return Ok(RVal::Null);
    }
    let s = need_str(addr, "cidrMatch")?;
    ip::in_any(s, blocks)
        .map(RVal::Bool)
        .ok_or_else(|| format!("'{s}' is not an IP string literal."))
}

/// `concat(values...)`: null if any value is null.
pub fn concat(args: &[RVal]) -> FnResult {
    let mut out = String::new();
    for a in args {
        match a.to_java_string() {
            Some(s) => out.push_str(&s),
            None => return Ok(RVal::Null),
        }
    }
    Ok(RVal::string(out))
}

/// `startsWith`/`endsWith`: both null-propagating; `~` lowers both sides.
pub fn starts_ends(src: &RVal, pat: &RVal, ci: bool, ends: bool) -> FnResult {
    if src.is_null() || pat.is_null() {
        return Ok(RVal::Null);
    }
    let s = need_str(src, "startsWith/endsWith")?;
    let p = need_str(pat, "startsWith/endsWith")?;
    let (s, p) = if ci {
        (text::lower_str(s), text::lower_str(p))
    } else {
        (s.to_string(), p.to_string())
    };
    Ok(RVal::Bool(if ends {
        s.ends_with(&p)
    } else {
        s.starts_with(&p)
    }))
}

/// `stringContains`: an empty source or substring is false.
pub fn string_contains(src: &RVal, sub: &RVal, ci: bool) -> FnResult {
    if src.is_null() || sub.is_null() {
        return Ok(RVal::Null);
    }
    let s = need_str(src, "stringContains")?;
    let p = need_str(sub, "stringContains")?;
    if s.is_empty() || p.is_empty() {
        return Ok(RVal::Bool(false));
    }
    let found = if ci {
        text::lower_str(s).contains(&text::lower_str(p))
    } else {
        s.contains(p)
    };
    Ok(RVal::Bool(found))
}

/// `indexOf(source, sub[, start])`: the UTF-16 position, or null.
pub fn index_of(src: &RVal, sub: &RVal, start: &RVal, ci: bool) -> FnResult {
    if src.is_null() || sub.is_null() {
        return Ok(RVal::Null);
    }
    let s = need_str(src, "indexOf")?;
    let p = need_str(sub, "indexOf")?;
    let from = match start {
        RVal::Null => 0,
        v => v
            .as_i64()
            .ok_or_else(|| format!("A number is required; received [{}]", show(v)))?,
    };
    // Java's `intValue()` of the start position.
    let from = i64::from(from as i32);
    let (hay, needle) = if ci {
        (utf16(&text::lower_str(s)), utf16(&text::lower_str(p)))
    } else {
        (utf16(s), utf16(p))
    };
    Ok(match java_index_of(&hay, &needle, from) {
        Some(i) => RVal::Int(i32::try_from(i).unwrap_or(i32::MAX)),
        None => RVal::Null,
    })
}

/// `length(s)` in UTF-16 units.
pub fn length(src: &RVal) -> FnResult {
    match src {
        RVal::Null => Ok(RVal::Null),
        v => {
            let s = need_str(v, "length")?;
            Ok(RVal::Int(
                i32::try_from(text::java_len(s)).unwrap_or(i32::MAX),
            ))
        }
    }
}

/// `string(v)`: `toString()` of the value.
pub fn to_string(v: &RVal) -> FnResult {
    Ok(match v.to_java_string() {
        Some(s) => RVal::string(s),
        None => RVal::Null,
    })
}

/// `substring(s, start[, end])` with Python slice semantics.
pub fn substring(src: &RVal, start: &RVal, end: &RVal) -> FnResult {
    if src.is_null() {
        return Ok(RVal::Null);
    }
    let s = need_str(src, "substring")?;
    let start = match start {
        RVal::Null => return Ok(src.clone()),
        v => v
            .as_i64()
            .ok_or_else(|| format!("A number is required; received [{}]", show(v)))?,
    };
    let units = utf16(s);
    let len = units.len() as i64;
    let end = match end {
        RVal::Null => len,
        v => v
            .as_i64()
            .ok_or_else(|| format!("A number is required; received [{}]", show(v)))?,
    };
    if units.is_empty() {
        return Ok(src.clone());
    }
    // Java's `intValue()` of both positions, then the slice rules.
    let (mut a, mut b) = (i64::from(start as i32), i64::from(end as i32));
    if a < 0 {
        a += len;
    }
    a = a.max(0);
    if b < 0 {
        b += len;
    }
    b = b.clamp(0, len);
    if a >= b {
        return Ok(RVal::str(""));
    }
    // 0 <= a < b <= len, so both fit usize.
    Ok(RVal::string(from_utf16(&units[a as usize..b as usize])))
}

/// `number(s[, base])`: base 10 parses a long, else a double (Java
/// `Long.valueOf` then `Double.valueOf`); other bases parse a long; a `0x`
/// prefix means base 16 when no base is given.
pub fn number(src: &RVal, base: &RVal) -> FnResult {
    if src.is_null() {
        return Ok(RVal::Null);
    }
    let s = need_str(src, "number")?;
    let hex = s.starts_with("0x");
    let radix = match base {
        RVal::Null => {
            if hex {
                16
            } else {
                10
            }
        }
        RVal::Int(i) => i64::from(*i),
        other => {
            return Err(format!(
                "An integer base is required; received [{}]",
                show(other)
            ))
        }
    };
    let digits = if hex && radix == 16 { &s[2..] } else { s };
    let fail = || format!("Unable to convert [{digits}] to number of base [{radix}]");
    if radix == 10 {
        if let Some(l) = java_parse_long(digits, 10) {
            return Ok(RVal::Long(l));
        }
        return java_parse_double(digits).map(RVal::Double).ok_or_else(fail);
    }
    if !(2..=36).contains(&radix) {
        return Err(fail());
    }
    java_parse_long(digits, radix as u32)
        .map(RVal::Long)
        .ok_or_else(fail)
}

/// `Long.parseLong(s, radix)`: optional sign, at least one digit, no spaces.
fn java_parse_long(s: &str, radix: u32) -> Option<i64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i64::from_str_radix(s, radix).ok()
}

/// `Double.valueOf(s)`: surrounding whitespace (chars up to U+0020), a sign,
/// `NaN`, `Infinity`, decimal digits with optional fraction and exponent and
/// an optional `f`/`F`/`d`/`D` suffix. Hexadecimal floats are not accepted.
fn java_parse_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let b = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            let (mantissa, exp) = match b.find(['e', 'E']) {
                Some(i) => (&b[..i], Some(&b[i + 1..])),
                None => (b, None),
            };
            let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
            let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
            if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
                return None;
            }
            if let Some(e) = exp {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                if e.is_empty() || !digits(e) {
                    return None;
                }
            }
            b.parse::<f64>().ok()?
        }
    };
    Some(if neg { -v } else { v })
}

/// The string `string()` gives for a double, exposed for tests.
pub fn double_text(d: f64) -> String {
    java_double_string(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> RVal {
        RVal::str(x)
    }

    #[test]
    fn between_cases() {
        let p = s("C:\\Windows\\System32\\cmd.exe");
        assert_eq!(
            between(&p, &s("\\"), &s("\\"), &RVal::Bool(false), false),
            Ok(s("Windows"))
        );
        assert_eq!(
            between(&p, &s("\\"), &s("\\"), &RVal::Bool(true), false),
            Ok(s("Windows\\System32"))
        );
        assert_eq!(
            between(&p, &s("zz"), &s("\\"), &RVal::Bool(false), false),
            Ok(s(""))
        );
        assert_eq!(
            between(&s(""), &s("a"), &s("b"), &RVal::Bool(false), false),
            Ok(s(""))
        );
        assert_eq!(
            between(&s("System"), &s("s"), &s("E"), &RVal::Bool(false), true),
            Ok(s("yst"))
        );
    }

    #[test]
    fn arithmetic_types() {
        assert_eq!(
            arith(ArithOp::Div, &RVal::Int(4), &RVal::Int(3)),
            Ok(RVal::Int(1))
        );
        assert_eq!(
            arith(ArithOp::Div, &RVal::Int(30), &RVal::Double(4.0)),
            Ok(RVal::Double(7.5))
        );
        assert_eq!(
            arith(ArithOp::Mod, &RVal::Int(10), &RVal::Int(-6)),
            Ok(RVal::Int(4))
        );
        assert_eq!(
            arith(ArithOp::Mod, &RVal::Int(-10), &RVal::Int(-6)),
            Ok(RVal::Int(-4))
        );
        assert!(arith(ArithOp::Add, &RVal::Int(i32::MAX), &RVal::Int(1)).is_err());
        assert!(arith(ArithOp::Div, &RVal::Long(1), &RVal::Int(0)).is_err());
        assert_eq!(
            arith(ArithOp::Mod, &RVal::Int(10), &RVal::Double(0.5)),
            Ok(RVal::Double(0.0))
        );
    }

    #[test]
    fn number_parsing() {
        assert_eq!(number(&s("0x32"), &RVal::Int(16)), Ok(RVal::Long(50)));
        assert_eq!(number(&s("32"), &RVal::Int(16)), Ok(RVal::Long(50)));
        assert_eq!(number(&s("0x32"), &RVal::Null), Ok(RVal::Long(50)));
        assert_eq!(number(&s("-32.5"), &RVal::Null), Ok(RVal::Double(-32.5)));
        assert_eq!(number(&s(" 5 "), &RVal::Null), Ok(RVal::Double(5.0)));
        assert!(number(&s(""), &RVal::Null).is_err());
        assert!(number(&s("abc"), &RVal::Null).is_err());
    }

    #[test]
    fn substring_slices() {
        let f = s("explorer.exe");
        assert_eq!(substring(&f, &RVal::Int(-4), &RVal::Null), Ok(s(".exe")));
        assert_eq!(substring(&f, &RVal::Int(-4), &RVal::Int(-1)), Ok(s(".ex")));
        assert_eq!(substring(&f, &RVal::Int(5), &RVal::Int(2)), Ok(s("")));
        assert_eq!(substring(&f, &RVal::Int(50), &RVal::Null), Ok(s("")));
    }

    #[test]
    fn index_of_rules() {
        let d = s("subdomain.example.com");
        assert_eq!(
            index_of(&d, &s("."), &RVal::Int(10), false),
            Ok(RVal::Int(17))
        );
        assert_eq!(index_of(&d, &s("z"), &RVal::Null, false), Ok(RVal::Null));
        assert_eq!(
            index_of(&d, &s(""), &RVal::Int(-3), false),
            Ok(RVal::Int(0))
        );
        assert_eq!(
            index_of(&d, &s("x"), &RVal::Int(100), false),
            Ok(RVal::Null)
        );
    }
}
