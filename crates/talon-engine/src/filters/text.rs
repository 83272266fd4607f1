//! The words a `text` field indexes: Elasticsearch's `standard` analyzer
//! (Lucene's standard tokenizer, then lower case), as a rule filter's
//! `match`, `match_phrase` and term-level queries on such a field read
//! them.
//!
//! The tokenizer follows the word rules of Unicode's UAX #29 that matter
//! for log text: letters, digits and `_` make words; `.`, `'` and `:`
//! (and their kin) join two letters (`example.com`, `don't`, `c:windows`
//! is `c` then `windows` only because `\` follows the colon); `.`, `,` and
//! `;` join two digits (`3.14`, `10.0.0.1`); anything else splits. Each
//! CJK ideograph and hiragana character is a word of its own. Words
//! longer than 255 characters are cut, as Lucene cuts them. Scripts with
//! rules of their own (Thai, Lao, Myanmar, emoji sequences) are split
//! more simply than Lucene splits them.

/// Lucene's `StandardAnalyzer` default `maxTokenLength`.
const MAX_TOKEN_CHARS: usize = 255;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Letter,
    Digit,
    /// `_` and its kin: part of any word.
    Joiner,
    /// Joins two letters (`:`, `·`).
    MidLetter,
    /// Joins two digits (`,`, `;`).
    MidNum,
    /// Joins two letters or two digits (`.`, `'`).
    MidNumLet,
    /// A word by itself (CJK ideographs, hiragana).
    Single,
    Other,
}

fn class(c: char) -> Class {
    match c {
        '_' | '\u{203F}' | '\u{2040}' | '\u{2054}' | '\u{FE33}' | '\u{FE34}' | '\u{FE4D}'
        | '\u{FE4E}' | '\u{FE4F}' | '\u{FF3F}' => Class::Joiner,
        ':' | '\u{00B7}' | '\u{0387}' | '\u{05F4}' | '\u{2027}' | '\u{FE13}' | '\u{FE55}'
        | '\u{FF1A}' => Class::MidLetter,
        ',' | ';' | '\u{037E}' | '\u{0589}' | '\u{060C}' | '\u{060D}' | '\u{066C}' | '\u{07F8}'
        | '\u{2044}' | '\u{FE10}' | '\u{FE14}' | '\u{FE50}' | '\u{FE54}' | '\u{FF0C}'
        | '\u{FF1B}' => Class::MidNum,
        '.' | '\'' | '\u{2018}' | '\u{2019}' | '\u{2024}' | '\u{FE52}' | '\u{FF07}'
        | '\u{FF0E}' => Class::MidNumLet,
        '\u{3040}'..='\u{309F}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}' => Class::Single,
        c if c.is_numeric() => Class::Digit,
        c if c.is_alphabetic() => Class::Letter,
        _ => Class::Other,
    }
}

/// The words of `s`, lower-cased, in order.
pub(crate) fn tokens(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<String>| {
        // A run of `_` alone is no word.
        if word.chars().any(char::is_alphanumeric) {
            let lower = word.to_lowercase();
            let cs: Vec<char> = lower.chars().collect();
            for chunk in cs.chunks(MAX_TOKEN_CHARS) {
                out.push(chunk.iter().collect());
            }
        }
        word.clear();
    };
    for (i, &c) in chars.iter().enumerate() {
        let joins = |letters: bool, digits: bool| {
            let (Some(&prev), Some(&next)) = (chars.get(i.wrapping_sub(1)), chars.get(i + 1))
            else {
                return false;
            };
            let (p, n) = (class(prev), class(next));
            (letters && p == Class::Letter && n == Class::Letter)
                || (digits && p == Class::Digit && n == Class::Digit)
        };
        match class(c) {
            Class::Letter | Class::Digit | Class::Joiner => word.push(c),
            Class::MidLetter if !word.is_empty() && joins(true, false) => word.push(c),
            Class::MidNum if !word.is_empty() && joins(false, true) => word.push(c),
            Class::MidNumLet if !word.is_empty() && joins(true, true) => word.push(c),
            Class::Single => {
                flush(&mut word, &mut out);
                word.push(c);
                flush(&mut word, &mut out);
            }
            _ => flush(&mut word, &mut out),
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Whether `phrase` stands word for word, in order and next to each other,
/// in `words`.
pub(crate) fn has_phrase(words: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty() && words.windows(phrase.len()).any(|w| w == phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<String> {
        tokens(s)
    }

    #[test]
    fn words_split_as_the_standard_analyzer_splits_them() {
        assert_eq!(t("The Quick-Brown fox"), ["the", "quick", "brown", "fox"]);
        assert_eq!(t("You're my 'favorite'."), ["you're", "my", "favorite"]);
        assert_eq!(
            t("www.example.com 3.14 10.0.0.1"),
            ["www.example.com", "3.14", "10.0.0.1"]
        );
        // A digit before a dot does not join a letter after it.
        assert_eq!(t("a9.com a9nine.com"), ["a9", "com", "a9nine.com"]);
        assert_eq!(
            t(r"C:\Windows\System32\cmd.exe"),
            ["c", "windows", "system32", "cmd.exe"]
        );
        assert_eq!(t("user:root"), ["user:root"]);
        assert_eq!(t("snake_case __ _x 1,000"), ["snake_case", "_x", "1,000"]);
        assert_eq!(t("日本語"), ["日", "本", "語"]);
        assert_eq!(t("ÉTÉ"), ["été"]);
        assert!(t(" -- ").is_empty());
        let long = "a".repeat(300);
        let cut = t(&long);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[0].len(), 255);
    }

    #[test]
    fn phrases_are_words_next_to_each_other() {
        let words = t("failed password for root from 10.0.0.1");
        assert!(has_phrase(&words, &t("Password for ROOT")));
        assert!(!has_phrase(&words, &t("password root")));
        assert!(!has_phrase(&words, &[]));
    }
}
