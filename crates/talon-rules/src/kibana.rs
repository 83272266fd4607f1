//! Kibana rule exports (NDJSON): not implemented yet.

use std::path::Path;
use std::sync::Arc;

use crate::error::{LoadError, LoadErrorKind};
use crate::load::FileOutcome;

pub(crate) fn load_kibana(_text: Arc<str>, path: &Path) -> FileOutcome {
    FileOutcome {
        errors: vec![LoadError::file(
            path,
            LoadErrorKind::UnknownFormat,
            "Kibana exports are not supported yet",
        )],
        ..FileOutcome::default()
    }
}
