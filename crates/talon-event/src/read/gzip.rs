//! Gzip as `gunzip` reads it: one member after another (`cat a.gz b.gz`),
//! and zero bytes after the last member ignored as padding (tape and
//! block devices, `dd` with a block size, some uploaders leave them).
//! Anything else after a member must start another one: that is an error,
//! as it is for `gunzip`.

use std::io::{self, BufRead, BufReader, Read};

use flate2::bufread::GzDecoder;

/// A multi-member gzip reader that stops at trailing zero padding.
pub struct GzMembers<R: Read> {
    /// `None` once the stream ended (at its end or in padding).
    member: Option<GzDecoder<BufReader<R>>>,
    /// Members read to their end.
    done: u64,
}

impl<R: Read> GzMembers<R> {
    pub fn new(stream: R) -> GzMembers<R> {
        GzMembers {
            member: Some(GzDecoder::new(BufReader::new(stream))),
            done: 0,
        }
    }
}

impl<R: Read> Read for GzMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let Some(member) = self.member.as_mut() else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            // The member ended: what follows is another member, padding,
            // or the end.
            let Some(member) = self.member.take() else {
                return Ok(0);
            };
            self.done += 1;
            let mut rest = member.into_inner();
            if skip_zeros(&mut rest)? {
                return Ok(0);
            }
            // A member starts with the magic bytes; anything else is what
            // `gunzip` calls trailing garbage, not a damaged member.
            let head = rest.fill_buf()?;
            if head[0] != MAGIC[0] || head.get(1).is_some_and(|b| *b != MAGIC[1]) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "data that is not gzip after {} complete member{} (trailing \
                         garbage; not read)",
                        self.done,
                        if self.done == 1 { "" } else { "s" }
                    ),
                ));
            }
            self.member = Some(GzDecoder::new(rest));
        }
    }
}

/// The first two bytes of every gzip member.
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Consumes zero bytes at the front of `r`; true when `r` then ends (it
/// held only padding, or nothing), false when another byte follows (a
/// next member, which must not start with a zero: its first byte is
/// 0x1f).
fn skip_zeros(r: &mut impl BufRead) -> io::Result<bool> {
    let mut skipped = 0u64;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            if skipped > 0 {
                tracing::debug!("gzip: {skipped} zero bytes after the last member ignored");
            }
            return Ok(true);
        }
        let zeros = buf.iter().take_while(|b| **b == 0).count();
        let all = zeros == buf.len();
        r.consume(zeros);
        skipped += zeros as u64;
        if !all {
            if skipped > 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("data after {skipped} zero bytes following a gzip member"),
                ));
            }
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(text: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzMembers::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn members_follow_one_another() {
        let mut bytes = gz(b"a\n");
        bytes.extend(gz(b""));
        bytes.extend(gz(b"b\n"));
        assert_eq!(read_all(&bytes).unwrap(), b"a\nb\n");
    }

    #[test]
    fn zero_padding_after_the_last_member_is_ignored() {
        let mut bytes = gz(b"a\n");
        bytes.extend(gz(b"b\n"));
        // More zeros than one buffer holds.
        bytes.extend(std::iter::repeat_n(0u8, 20_000));
        assert_eq!(read_all(&bytes).unwrap(), b"a\nb\n");
    }

    #[test]
    fn anything_else_after_a_member_is_an_error() {
        let mut bytes = gz(b"a\n");
        bytes.extend(b"garbage, not a gzip member");
        assert_eq!(
            read_all(&bytes).unwrap_err().to_string(),
            "data that is not gzip after 1 complete member (trailing garbage; not read)"
        );
        // Shorter than a member's header: it was \"unexpected end of file\".
        let mut bytes = gz(b"a\n");
        bytes.extend(gz(b"b\n"));
        bytes.extend(b"garbage\n");
        assert_eq!(
            read_all(&bytes).unwrap_err().to_string(),
            "data that is not gzip after 2 complete members (trailing garbage; not read)"
        );
        // A member cut inside its header is still a damaged member.
        let mut bytes = gz(b"a\n");
        bytes.extend(&gz(b"b\n")[..5]);
        assert_eq!(
            read_all(&bytes).unwrap_err().to_string(),
            "unexpected end of file"
        );
        // Data after padding is not padding.
        let mut bytes = gz(b"a\n");
        bytes.extend([0, 0, 0]);
        bytes.extend(gz(b"b\n"));
        let e = read_all(&bytes).unwrap_err();
        assert_eq!(
            e.to_string(),
            "data after 3 zero bytes following a gzip member"
        );
    }
}
