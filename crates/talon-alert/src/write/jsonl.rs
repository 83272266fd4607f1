//! JSON Lines: one compact alert document per line, keys in Kibana's order.
//!
//! The output can be bulk-indexed into an alerts index as is (each line is
//! a `_source`; `kibana.alert.uuid` is the `_id`).

use std::io::{self, BufWriter, Write};

use crate::alert::Alert;
use crate::write::AlertSink;

/// Writes each alert as one line of JSON.
pub struct JsonLinesSink<W: Write> {
    out: BufWriter<W>,
}

impl<W: Write> JsonLinesSink<W> {
    pub fn new(writer: W) -> JsonLinesSink<W> {
        JsonLinesSink {
            out: BufWriter::new(writer),
        }
    }
}

impl<W: Write> AlertSink for JsonLinesSink<W> {
    fn write(&mut self, alert: &Alert) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, alert.doc()).map_err(io::Error::from)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl<W: Write> Drop for JsonLinesSink<W> {
    /// Flushes what `finish` was not called for; the error has nowhere to
    /// go here, which is why `finish` exists.
    fn drop(&mut self) {
        let _ = self.out.flush();
    }
}
