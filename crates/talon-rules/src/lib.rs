//! Rule loading: detection-rules TOML, Kibana rule exports (NDJSON) and
//! Elastic rule documentation pages (Markdown), from files or whole folders.

pub mod rule;

pub use rule::{Rule, RuleFormat, RuleOrigin, Technique, Threat, ThreatRef};
