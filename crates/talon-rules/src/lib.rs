//! Rule loading: detection-rules TOML, Kibana rule exports (NDJSON) and
//! Elastic rule documentation pages (Markdown), from files or whole folders.
//!
//! The entry points are [`load_paths`] (files and folders, one report) and
//! [`load_str`] (one text in a known format). Every loader keeps what it
//! does not type in `Rule::extra`, maps query bytes back to file bytes
//! (`RuleOrigin::query_offsets`) and reports problems as [`LoadError`]s with
//! file, line, column and a caret snippet; none of them panics on any input.

pub mod error;
mod fields;
pub mod filters;
mod frontmatter;
mod jsonspan;
mod kibana;
mod load;
mod markdown;
mod mitre;
pub mod overrides;
pub mod rule;
pub mod schedule;
mod strings;
mod threat;
mod toml;

pub use error::{LoadError, LoadErrorKind};
pub use fields::{joined_query_form, type_name, NAMESPACE_TYPES, QUERY_TYPES, RULE_TYPES};
pub use filters::Filters;
pub use load::{
    load_paths, load_paths_preferring, load_str, ExportedException, LoadReport, SkipCounts,
    SkippedFile,
};
pub use markdown::{page_rule_id, PAGE_RULE_ID_NAMESPACE};
pub use overrides::{Overrides, Severity, SeverityOverride};
pub use rule::{
    IndexSource, Rule, RuleFormat, RuleOrigin, Technique, Threat, ThreatRef, DEFAULT_INDEX_PATTERNS,
};
pub use toml::{
    array_elements as toml_array_elements, syntax_error as toml_syntax_error, unknown_table_keys,
    ArrayElement, UnknownKey,
};
