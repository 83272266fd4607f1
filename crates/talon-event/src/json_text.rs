//! JSON text read byte by byte, without parsing it: which bytes stand
//! inside strings, so that brackets and quotes there are not mistaken for
//! structure. Used where a document must be measured or cut before (or
//! instead of) being parsed: framing, depth limits, cut-short responses.

/// Where the bytes read so far leave the text: inside a string or not.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Strings {
    in_str: bool,
    escaped: bool,
}

/// What one byte is, given the bytes before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Byte {
    /// Structure or a bare value: outside every string.
    Outside,
    /// The quote that opens a string.
    Opens,
    /// A byte of a string's contents (escapes included).
    Inside,
    /// The quote that closes a string.
    Closes,
}

impl Strings {
    /// Whether the bytes read so far end inside a string.
    pub(crate) fn inside(&self) -> bool {
        self.in_str
    }

    #[inline]
    pub(crate) fn step(&mut self, b: u8) -> Byte {
        if !self.in_str {
            if b == b'"' {
                self.in_str = true;
                return Byte::Opens;
            }
            return Byte::Outside;
        }
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.in_str = false;
            return Byte::Closes;
        }
        Byte::Inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_brackets_inside_strings_are_contents() {
        let text = br#"{"a\"[":"}\\"}"#;
        let mut s = Strings::default();
        let kinds: Vec<Byte> = text.iter().map(|&b| s.step(b)).collect();
        use Byte::*;
        assert_eq!(
            kinds,
            [
                Outside, Opens, Inside, Inside, Inside, Inside, Closes, Outside, Opens, Inside,
                Inside, Inside, Closes, Outside
            ]
        );
    }
}
