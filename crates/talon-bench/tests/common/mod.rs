//! Where the tests find the shared corpora.

use std::path::PathBuf;

/// `rel` inside the shared corpora (`$TALON_CORPORA`, or beside the
/// checkout); `None`, having said "skipped", when it is not there.
pub fn corpus_path(rel: &str) -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("TALON_CORPORA").map(PathBuf::from),
        Some(manifest.join("../../../shared/corpora")),
        Some(PathBuf::from("/work/shared/corpora")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .map(|c| c.join(rel))
        .find(|p| p.exists());
    if found.is_none() {
        eprintln!("skipped: {rel} not found (set TALON_CORPORA to the shared corpora)");
    }
    found
}
