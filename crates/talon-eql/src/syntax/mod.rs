//! Lexer and parser for EQL text.

pub mod ast;
pub mod span;

use crate::diag::Diagnostic;

/// Parses EQL text into a syntax tree.
pub fn parse(_text: &str) -> Result<ast::Query, Diagnostic> {
    // TODO: the lexer and parser (in progress).
    Err(Diagnostic::new("parser not implemented", span::Span::new(0, 0)))
}
