//! The order of Elasticsearch's `version` field type.
//!
//! Valid versions follow semantic versioning, with any number of numeric
//! main parts (`1.2`, `1.2.3.4`): main parts compare numerically, a
//! pre-release (`1.2.4-SNAPSHOT`) sorts before its release, pre-release
//! identifiers compare numerically when numeric and by ASCII otherwise, and
//! numeric identifiers sort before alphanumeric ones. Invalid versions
//! (`bad`, `1.02`) sort after every valid one, by their text.

use std::cmp::Ordering;

/// A parsed version ready for comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionKey {
    kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Valid {
        main: Vec<u128>,
        pre: Vec<Ident>,
        build: String,
    },
    Invalid(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ident {
    Num(u128),
    Alpha(String),
}

impl VersionKey {
    pub fn parse(s: &str) -> VersionKey {
        match parse_valid(s) {
            Some(kind) => VersionKey { kind },
            None => VersionKey {
                kind: Kind::Invalid(s.to_string()),
            },
        }
    }
}

fn numeric_part(p: &str) -> Option<u128> {
    if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0'))
    {
        return None;
    }
    // Very long numbers are still valid; saturate rather than reject.
    Some(p.parse::<u128>().unwrap_or(u128::MAX))
}

fn parse_valid(s: &str) -> Option<Kind> {
    let (rest, build) = match s.split_once('+') {
        Some((r, b)) => {
            if b.is_empty()
                || !b
                    .split('.')
                    .all(|id| !id.is_empty() && id.bytes().all(ident_byte))
            {
                return None;
            }
            (r, b.to_string())
        }
        None => (s, String::new()),
    };
    let (main_text, pre_text) = match rest.split_once('-') {
        Some((m, p)) => (m, Some(p)),
        None => (rest, None),
    };
    let main = main_text
        .split('.')
        .map(numeric_part)
        .collect::<Option<Vec<_>>>()?;
    let mut pre = Vec::new();
    if let Some(p) = pre_text {
        for id in p.split('.') {
            if id.is_empty() || !id.bytes().all(ident_byte) {
                return None;
            }
            if id.bytes().all(|b| b.is_ascii_digit()) {
                pre.push(Ident::Num(numeric_part(id)?));
            } else {
                pre.push(Ident::Alpha(id.to_string()));
            }
        }
    }
    Some(Kind::Valid { main, pre, build })
}

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-'
}

impl Ord for VersionKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.kind, &other.kind) {
            (Kind::Invalid(a), Kind::Invalid(b)) => a.cmp(b),
            (Kind::Invalid(_), Kind::Valid { .. }) => Ordering::Greater,
            (Kind::Valid { .. }, Kind::Invalid(_)) => Ordering::Less,
            (
                Kind::Valid {
                    main: ma,
                    pre: pa,
                    build: ba,
                },
                Kind::Valid {
                    main: mb,
                    pre: pb,
                    build: bb,
                },
            ) => ma
                .cmp(mb)
                .then_with(|| match (pa.is_empty(), pb.is_empty()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Greater,
                    (false, true) => Ordering::Less,
                    (false, false) => cmp_pre(pa, pb),
                })
                .then_with(|| ba.cmp(bb)),
        }
    }
}

impl PartialOrd for VersionKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn cmp_pre(a: &[Ident], b: &[Ident]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (Ident::Num(p), Ident::Num(q)) => p.cmp(q),
            (Ident::Num(_), Ident::Alpha(_)) => Ordering::Less,
            (Ident::Alpha(_), Ident::Num(_)) => Ordering::Greater,
            (Ident::Alpha(p), Ident::Alpha(q)) => p.cmp(q),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> VersionKey {
        VersionKey::parse(s)
    }

    #[test]
    fn semver_order() {
        assert!(v("1.11.3") > v("1.5.0"));
        assert!(v("1.2.4-SNAPSHOT") < v("1.5.0"));
        assert!(v("1.2.4-SNAPSHOT") < v("1.2.4"));
        assert!(v("bad") > v("99.0.0"));
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-alpha.1") < v("1.0.0-beta"));
        assert_eq!(v("1.2.4"), v("1.2.4"));
    }
}
