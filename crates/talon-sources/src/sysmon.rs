//! placeholder
use crate::norm::{DocNormalizer, LineNormalizer, Out};
use crate::source::Source;
use crate::stats::IgnoreReason;
pub(crate) struct SysmonLines;
impl LineNormalizer for SysmonLines {
    fn line(&mut self, _text: &str, line: u64, out: &mut Out) {
        out.ignore(line, IgnoreReason::UnsupportedKind, "x", "x");
    }
    fn end(&mut self, _out: &mut Out) {}
}
pub(crate) struct Unsupported(pub Source);
impl DocNormalizer for Unsupported {
    fn doc(&mut self, _doc: &serde_json::Value, line: u64, out: &mut Out) {
        out.ignore(
            line,
            IgnoreReason::UnsupportedKind,
            self.0.name(),
            "not yet",
        );
    }
}
