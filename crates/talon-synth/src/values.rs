//! Candidate values: what might satisfy one leaf test, plausible defaults
//! for a field that only has to exist, and small changes of a value that
//! make a test fail while keeping the value recognisable (for near-misses).
//!
//! Candidates are only proposals, in order of preference; the field solver
//! checks each one with the real evaluator before using it.

use talon_eql::ast::CmpOp;
use talon_eql::eval::value::{java_instant_string, RVal};
use talon_eql::plan::ir::{Bound, Leaf, Num, TermSet};
use talon_event::Value;

use crate::text;

/// Most candidates taken from one value list.
const MAX_LIST: usize = 256;

/// The operating system the rule is about, for plausible defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Os {
    Linux,
    Windows,
    Macos,
    Unknown,
}

impl Os {
    /// `host.os.type` for this system.
    pub fn ecs_type(self) -> Option<&'static str> {
        match self {
            Os::Linux => Some("linux"),
            Os::Windows => Some("windows"),
            Os::Macos => Some("macos"),
            Os::Unknown => None,
        }
    }
}

/// What candidate generation may depend on besides the test itself.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub os: Os,
    /// A short word derived from the seed, used as filler text.
    pub word: String,
    pub seed: u64,
}

/// Candidates for a value that passes `leaf` (on field `path`).
pub(crate) fn leaf_candidates(leaf: &Leaf, path: &str, ctx: &Ctx) -> Vec<Value> {
    match leaf {
        Leaf::Exists(_) => defaults(path, ctx),
        Leaf::Term(_, set) => term_candidates(set),
        Leaf::Range(_, op, b) => range_candidates(*op, b),
        Leaf::Wildcard(_, pats) => text::wildcard_texts(pats, ctx)
            .into_iter()
            .map(|s| Value::str(&s))
            .collect(),
        Leaf::Regex(_, m) => text::regex_texts(m, ctx)
            .into_iter()
            .map(|s| Value::str(&s))
            .collect(),
        Leaf::Script(_) => Vec::new(),
    }
}

fn term_candidates(set: &TermSet) -> Vec<Value> {
    match set {
        TermSet::Str(s) => s
            .values()
            .iter()
            .take(MAX_LIST)
            .map(|v| Value::Str(v.clone()))
            .collect(),
        TermSet::Num(ns) => ns.iter().map(|n| num_value(*n)).collect(),
        TermSet::Bool(bs) => bs.iter().map(|b| Value::Bool(*b)).collect(),
        TermSet::Date(rs) => rs.iter().map(|(lo, _)| Value::str(&iso(*lo))).collect(),
        TermSet::Ip(rs) => rs
            .iter()
            .take(MAX_LIST)
            .map(|r| {
                // Inside a block rather than its network address.
                let a = if r.hi > r.lo { r.lo + 1 } else { r.lo };
                Value::str(&ip_text(a))
            })
            .collect(),
        // Version keys do not keep their text; nothing to propose.
        TermSet::Version(_) => Vec::new(),
        TermSet::Dynamic { values, .. } => values
            .iter()
            .take(MAX_LIST)
            .filter_map(rval_value)
            .collect(),
    }
}

fn num_value(n: Num) -> Value {
    match n {
        Num::I(i) => Value::Int(i),
        Num::F(f) => Value::Float(f),
    }
}

/// Values on the right side of `op bound`, nearest first.
fn range_candidates(op: CmpOp, b: &Bound) -> Vec<Value> {
    match b {
        Bound::Num(Num::I(i)) => int_side(op, *i).into_iter().map(Value::Int).collect(),
        Bound::Num(Num::F(f)) => float_side(op, *f),
        Bound::Str(s) => str_side(op, s),
        Bound::Bool(b) => match op {
            CmpOp::Gt => vec![Value::Bool(true)],
            CmpOp::Lt => vec![Value::Bool(false)],
            _ => vec![Value::Bool(*b)],
        },
        Bound::Date(lo, hi) => {
            let ms = 1_000_000;
            let at = match op {
                CmpOp::Gt => vec![hi.saturating_add(ms), hi.saturating_add(86_400_000 * ms)],
                CmpOp::Lt => vec![lo.saturating_sub(ms), lo.saturating_sub(86_400_000 * ms)],
                CmpOp::Ge => vec![*lo],
                _ => vec![*hi],
            };
            at.into_iter().map(|n| Value::str(&iso(n))).collect()
        }
        Bound::Ip(a) => {
            let at = match op {
                CmpOp::Gt => a.checked_add(1),
                CmpOp::Lt => a.checked_sub(1),
                _ => Some(*a),
            };
            at.map(|x| vec![Value::str(&ip_text(x))])
                .unwrap_or_default()
        }
        Bound::Version(_) => Vec::new(),
        Bound::Dynamic(v) => match v {
            RVal::Int(_) | RVal::Long(_) => v
                .as_i64()
                .map(|i| int_side(op, i).into_iter().map(Value::Int).collect())
                .unwrap_or_default(),
            RVal::Double(f) => float_side(op, *f),
            RVal::Str(s) => str_side(op, s),
            RVal::Bool(b) => range_candidates(op, &Bound::Bool(*b)),
            _ => Vec::new(),
        },
    }
}

fn int_side(op: CmpOp, i: i64) -> Vec<i64> {
    let steps: &[i64] = match op {
        CmpOp::Gt => &[1, 2, 100],
        CmpOp::Ge => &[0, 1, 100],
        CmpOp::Lt => &[-1, -2, -100],
        CmpOp::Le => &[0, -1, -100],
        CmpOp::Eq => &[0],
        CmpOp::Ne => &[1, -1],
    };
    steps.iter().filter_map(|s| i.checked_add(*s)).collect()
}

fn float_side(op: CmpOp, f: f64) -> Vec<Value> {
    let steps: &[f64] = match op {
        CmpOp::Gt => &[1.0, 100.0],
        CmpOp::Ge => &[0.0, 1.0],
        CmpOp::Lt => &[-1.0, -100.0],
        CmpOp::Le => &[0.0, -1.0],
        CmpOp::Eq => &[0.0],
        CmpOp::Ne => &[1.0],
    };
    steps
        .iter()
        .map(|s| f + s)
        .filter(|x| x.is_finite())
        .map(|x| {
            // An integral result reads better as an integer, and compares
            // the same.
            if x.fract() == 0.0 && x.abs() < 9.0e15 {
                Value::Int(x as i64)
            } else {
                Value::Float(x)
            }
        })
        .collect()
}

fn str_side(op: CmpOp, s: &str) -> Vec<Value> {
    let mut out = Vec::new();
    match op {
        CmpOp::Gt => {
            out.push(format!("{s}a"));
            out.push(format!("{s}~"));
        }
        CmpOp::Ge | CmpOp::Le | CmpOp::Eq => out.push(s.to_string()),
        CmpOp::Lt => {
            let mut shorter = s.to_string();
            shorter.pop();
            out.push(shorter);
            out.push(String::new());
        }
        CmpOp::Ne => out.push(format!("{s}a")),
    }
    out.into_iter().map(|x| Value::str(&x)).collect()
}

/// A literal of the query as a stored JSON value.
pub(crate) fn rval_value(v: &RVal) -> Option<Value> {
    Some(match v {
        RVal::Null => return None,
        RVal::Bool(b) => Value::Bool(*b),
        RVal::Int(_) | RVal::Long(_) => Value::Int(v.as_i64()?),
        RVal::Double(d) => Value::Float(*d),
        RVal::Str(s) => Value::Str(s.clone()),
        RVal::Date(n) => Value::str(&iso(*n)),
    })
}

/// An instant as ISO-8601 with milliseconds, the way ECS documents carry
/// `@timestamp`.
pub(crate) fn iso(nanos: i64) -> String {
    let dt = chrono::DateTime::from_timestamp_nanos(nanos);
    let s = dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    if s.is_empty() {
        java_instant_string(nanos)
    } else {
        s
    }
}

/// A 16-byte address as text (IPv4-mapped addresses as plain IPv4).
pub(crate) fn ip_text(a: u128) -> String {
    let v6 = std::net::Ipv6Addr::from(a);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// Plausible values for a field that only has to exist (or be anything but
/// some excluded values), by the last part of its name.
pub(crate) fn defaults(path: &str, ctx: &Ctx) -> Vec<Value> {
    let last = path.rsplit('.').next().unwrap_or(path).to_ascii_lowercase();
    let win = ctx.os == Os::Windows;
    let n = (ctx.seed % 9000) as i64;
    let s = |x: &str| Value::str(x);
    let mut out: Vec<Value> = match last.as_str() {
        "ip" | "address" if !path.contains("mac") => vec![
            s("10.20.30.40"),
            s("192.168.56.20"),
            s("8.8.4.4"),
            s("93.184.215.14"),
            s("2001:4860:4860::8844"),
        ],
        "port" => vec![Value::Int(4444), Value::Int(8443), Value::Int(53)],
        "pid" | "ppid" | "pgid" | "sid" if !path.contains("user") => {
            vec![Value::Int(4242 + n), Value::Int(1337)]
        }
        "executable" if win => vec![s("C:\\Users\\Public\\synth.exe")],
        "executable" => vec![s("/tmp/synth"), s("/usr/bin/synth")],
        "name" if path.starts_with("process") && win => vec![s("synth.exe")],
        "name" if path.starts_with("file") || path.starts_with("dll") => {
            vec![s(if win { "synth.dll" } else { "synth.bin" })]
        }
        "name" if path.starts_with("user") => vec![s("synth-user"), s("alice")],
        "name" if path.starts_with("host") => vec![s(&format!("synth-host-{n}"))],
        "path" if win => vec![s("C:\\Users\\Public\\synth.dat")],
        "path" => vec![s("/tmp/synth.dat")],
        "command_line" if win => vec![s("synth.exe /run")],
        "command_line" => vec![s("synth --run")],
        "args" => vec![s("synth"), s("--run")],
        "entity_id" | "id" => vec![s(&format!("{}-{:08x}", ctx.word, fnv(path) ^ ctx.seed))],
        "domain" => vec![s("example.org")],
        "sha256" => vec![s(&"ab".repeat(32))],
        "sha1" => vec![s(&"ab".repeat(20))],
        "md5" => vec![s(&"ab".repeat(16))],
        "extension" => vec![s("dat")],
        _ => Vec::new(),
    };
    out.push(s(&ctx.word));
    out.push(s("synth"));
    out.push(Value::Int(1));
    out
}

/// Small changes of a value, for a near-miss that fails a test the value
/// passed: a letter added, a character replaced, a different value.
pub(crate) fn mutations(v: &Value) -> Vec<Value> {
    match v {
        Value::Str(s) => {
            let mut out = vec![Value::str(&format!("{s}x")), Value::str(&format!("x{s}"))];
            let chars: Vec<char> = s.chars().collect();
            // Replace characters spread over the value: a literal the test
            // looks for anywhere is broken by one of them.
            let step = (chars.len() / 12).max(1);
            for i in (0..chars.len()).step_by(step) {
                let mut c = chars.clone();
                c[i] = if c[i] == '_' { '-' } else { '_' };
                out.push(Value::str(&c.into_iter().collect::<String>()));
            }
            out.push(Value::str(&s.chars().rev().collect::<String>()));
            out.push(Value::str("synth-other"));
            out.push(Value::str(""));
            out
        }
        Value::Int(i) => [1, -1, 100, -100]
            .iter()
            .filter_map(|d| i.checked_add(*d))
            .map(Value::Int)
            .collect(),
        Value::Float(f) => vec![Value::Float(f + 1.0), Value::Float(f - 1.0)],
        Value::Bool(b) => vec![Value::Bool(!b)],
        Value::Null => Vec::new(),
    }
}

/// FNV-1a, for ids that differ per field and seed but never per run.
pub(crate) fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
