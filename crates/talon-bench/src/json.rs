//! A minimal streaming JSON writer for one NDJSON line at a time.
//!
//! Events are written straight into a byte buffer, key by key, in the
//! order Elastic Defend documents usually have; no intermediate tree is
//! built, so generating a gigabyte takes seconds rather than minutes.
//! Strings are always escaped, so any template text yields valid JSON.

/// Writes one JSON object; nested objects are written through closures so
/// that braces always balance.
pub struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

/// Writes a whole object into `out` (no trailing newline).
pub fn object(out: &mut Vec<u8>, body: impl FnOnce(&mut Obj<'_>)) {
    out.push(b'{');
    let mut o = Obj { out, first: true };
    body(&mut o);
    o.out.push(b'}');
}

impl Obj<'_> {
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_str(self.out, k);
        self.out.push(b':');
    }

    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        write_str(self.out, v);
        self
    }

    pub fn num(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        self.out.extend_from_slice(v.to_string().as_bytes());
        self
    }

    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k);
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        self
    }

    /// An array of strings (ECS keyword arrays: `event.type`, `process.args`).
    pub fn strs<S: AsRef<str>>(&mut self, k: &str, vs: &[S]) -> &mut Self {
        self.key(k);
        self.out.push(b'[');
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_str(self.out, v.as_ref());
        }
        self.out.push(b']');
        self
    }

    pub fn obj(&mut self, k: &str, body: impl FnOnce(&mut Obj<'_>)) -> &mut Self {
        self.key(k);
        object(self.out, body);
        self
    }
}

/// A JSON string literal: quotes, backslashes and control characters
/// escaped (Windows paths and quoted command lines are full of them).
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_and_escaped() {
        let mut out = Vec::new();
        object(&mut out, |o| {
            o.str("path", "C:\\Windows\\\"x\"\u{1}")
                .num("pid", 42)
                .strs("args", &["a", "b"])
                .obj("parent", |p| {
                    p.bool("interactive", false);
                });
        });
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            r#"{"path":"C:\\Windows\\\"x\"\u0001","pid":42,"args":["a","b"],"parent":{"interactive":false}}"#
        );
    }
}
