//! String primitives with the exact semantics Elasticsearch has: Java's
//! UTF-16 indexing for the string functions, and the two kinds of case
//! folding in play.
//!
//! - Query-side case-insensitive matching (`:`, `in~`, `like~` on a field)
//!   builds, per pattern character, the set {c, the other case of c}; a
//!   value character matches when it is in that set ([`alt_case`]). As in
//!   Elasticsearch's automata (`AutomatonQueries.toCaseInsensitiveChar`),
//!   only ASCII letters have another case: `"ÄBC"` matches `ÄbC`, not
//!   `äbc`, and the Kelvin sign is not a `k`.
//! - Script-side functions with `~` lower both strings with
//!   `toLowerCase(Locale.ROOT)`; we lower per character with one-to-one
//!   mappings only, so positions stay aligned with the original text
//!   (Java's rare one-to-many mappings such as `İ` are not reproduced).
//!
//! Positions and lengths are counted in UTF-16 code units, as Java does:
//! `length("😀")` is 2. Slicing in the middle of a surrogate pair yields
//! U+FFFD rather than a broken string.

/// The other case of a character under the query-side rule: an ASCII
/// letter's other ASCII case; any other character is its own (see the
/// module doc).
pub fn alt_case(c: char) -> char {
    if c.is_ascii_lowercase() {
        c.to_ascii_uppercase()
    } else {
        c.to_ascii_lowercase()
    }
}

fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let first = it.next()?;
    if it.next().is_some() {
        None
    } else {
        Some(first)
    }
}

/// Lowercase of one character when it maps to exactly one character.
pub fn lower_char(c: char) -> char {
    single(c.to_lowercase()).unwrap_or(c)
}

/// Uppercase of one character when it maps to exactly one character.
pub fn upper_char(c: char) -> char {
    single(c.to_uppercase()).unwrap_or(c)
}

/// Lowercases per character, keeping the character count.
pub fn lower_str(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars().map(lower_char).collect()
}

/// Calls `f` with `text` (ASCII) lowercased, without allocating for the
/// common cases: text already lowercase is passed as it is, short text is
/// folded on the stack.
pub fn with_ascii_lowercase<R>(text: &str, f: impl FnOnce(&str) -> R) -> R {
    if !text.bytes().any(|b| b.is_ascii_uppercase()) {
        return f(text);
    }
    let mut buf = [0u8; 256];
    match buf.get_mut(..text.len()) {
        Some(folded) => {
            folded.copy_from_slice(text.as_bytes());
            folded.make_ascii_lowercase();
            // ASCII stays valid UTF-8 when its letters are lowercased.
            f(std::str::from_utf8(folded).unwrap_or(""))
        }
        None => f(&text.to_ascii_lowercase()),
    }
}

/// The longest run of ASCII characters in `s`: what of a case-insensitive
/// literal a byte search ignoring ASCII case can look for, as an ASCII
/// pattern letter matches only its two ASCII cases (see [`ci_term_eq`]).
pub fn longest_ascii_run(s: &str) -> &str {
    s.split(|c: char| !c.is_ascii())
        .max_by_key(|run| run.len())
        .unwrap_or("")
}

/// Whether value character `v` matches pattern character `p` under the
/// query-side case-insensitive rule.
pub fn ci_char_match(p: char, v: char) -> bool {
    v == p || v == alt_case(p)
}

/// Case-insensitive equality as a case-insensitive term query decides it.
pub fn ci_term_eq(pattern: &str, value: &str) -> bool {
    if pattern.is_ascii() {
        // An ASCII pattern character only ever matches its ASCII cases.
        return pattern.len() == value.len() && pattern.eq_ignore_ascii_case(value);
    }
    let mut p = pattern.chars();
    let mut v = value.chars();
    loop {
        match (p.next(), v.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if ci_char_match(a, b) => {}
            _ => return false,
        }
    }
}

/// `String.equalsIgnoreCase`, used by case-insensitive script comparisons.
pub fn java_equals_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    let x: Vec<u16> = a.encode_utf16().collect();
    let y: Vec<u16> = b.encode_utf16().collect();
    if x.len() != y.len() {
        return false;
    }
    // Compare per code point; equal lengths keep the pairs aligned.
    let mut i = a.chars();
    let mut j = b.chars();
    loop {
        match (i.next(), j.next()) {
            (None, None) => return true,
            (Some(c), Some(d)) => {
                if c != d {
                    let (uc, ud) = (upper_char(c), upper_char(d));
                    if uc != ud && lower_char(uc) != lower_char(ud) {
                        return false;
                    }
                }
            }
            _ => return false,
        }
    }
}

/// A string as Java sees it: UTF-16 code units.
pub fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

/// Back from UTF-16, replacing lone surrogates.
pub fn from_utf16(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

/// Java `String.length()`.
pub fn java_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Java `indexOf(needle, from)` over UTF-16 units: `from` below zero counts
/// as zero; from the end onwards only an empty needle is found, at `len`.
pub fn java_index_of(hay: &[u16], needle: &[u16], from: i64) -> Option<usize> {
    let len = hay.len();
    let start = if from < 0 {
        0
    } else {
        usize::try_from(from).unwrap_or(usize::MAX)
    };
    if start >= len {
        return if needle.is_empty() { Some(len) } else { None };
    }
    if needle.is_empty() {
        return Some(start);
    }
    if needle.len() > len {
        return None;
    }
    (start..=len - needle.len()).find(|&i| hay[i..i + needle.len()] == *needle)
}

/// Java `lastIndexOf(needle)` over UTF-16 units.
pub fn java_last_index_of(hay: &[u16], needle: &[u16]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len())
        .rev()
        .find(|&i| hay[i..i + needle.len()] == *needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_rules() {
        assert!(ci_term_eq("BASH", "bash"));
        assert!(!ci_term_eq("bash", "bas"));
        assert!(ci_term_eq("Straße", "STRAßE"));
        assert!(java_equals_ignore_case("ÉCOLE", "école"));
    }

    #[test]
    fn query_side_folding_is_ascii_only_as_in_elasticsearch() {
        assert!(ci_term_eq("ÄBC", "Äbc"));
        assert!(!ci_term_eq("ÄBC", "äbc"));
        assert!(!ci_term_eq("ǅ", "ǆ"));
        assert!(!ci_term_eq("ı", "I"));
        // The Kelvin sign (U+212A) lowercases to `k` in Unicode.
        assert!(!ci_term_eq("\u{212A}", "k"));
        assert!(!ci_term_eq("k", "\u{212A}"));
        assert!(ci_char_match('k', 'K'));
        assert!(!ci_char_match('é', 'É'));
        assert_eq!(java_len("😀a"), 3);
    }

    #[test]
    fn index_of_like_java() {
        let h = utf16("subdomain.example.com");
        assert_eq!(java_index_of(&h, &utf16("."), 10), Some(17));
        assert_eq!(java_index_of(&h, &utf16(""), 100), Some(21));
        assert_eq!(java_index_of(&h, &utf16("x"), -5), Some(11));
        assert_eq!(java_last_index_of(&h, &utf16(".")), Some(17));
    }
}
