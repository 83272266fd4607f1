//! The per-input progress logs: each input's start and end at info, each
//! issue at debug.
//!
//! Alone in its own test binary: tracing caches, per log callsite, whether
//! anyone listens, and a test on another thread that reaches a callsite
//! first with no subscriber can cache "nobody" while this test's scoped
//! subscriber is set (it made this test fail one run in three).

mod common;

use std::fs;
use std::path::PathBuf;

use common::gzip;
use talon_event::read::{EventReader, InputSpec, ReadOptions};

fn write(dir: &std::path::Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    fs::write(&p, bytes).unwrap();
    p
}

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[test]
fn each_input_logs_its_start_and_end_and_each_issue_at_debug() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.ndjson", b"{\"n\":1}\n{\"n\":2}\nbad\n");
    let gz = gzip(b"[{\"n\":3}]");
    let b = write(dir.path(), "b.json.gz", &gz);
    let c = dir.path().join("gone.ndjson");
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_target(false)
        .with_ansi(false)
        .without_time()
        .finish();
    let stats = tracing::subscriber::with_default(subscriber, || {
        let specs = vec![
            InputSpec::Path(a.clone()),
            InputSpec::Path(b.clone()),
            InputSpec::Path(c.clone()),
        ];
        EventReader::new(specs, ReadOptions::default()).read_all().1
    });
    assert_eq!((stats.events, stats.issue_count()), (3, 2));
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let got: Vec<&str> = text.lines().map(str::trim).collect();
    let (a, b, c) = (a.display(), b.display(), c.display());
    assert_eq!(
        got,
        [
            format!("INFO reading {a} (ndjson, plain)"),
            format!("DEBUG {a}:3:1: not-json: not JSON: bad"),
            format!("INFO {a}: 2 events, 1 skipped, 20 bytes"),
            format!("INFO reading {b} (json array, gzip)"),
            format!(
                "INFO {b}: 1 event, 0 skipped, {} bytes (9 decoded)",
                gz.len()
            ),
            format!("DEBUG {c}: unreadable: cannot open: No such file or directory (os error 2)"),
        ]
    );
}
