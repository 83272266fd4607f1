//! Lexer and parser for EQL text, in the Elasticsearch dialect.
//!
//! [`parse`] is the entry point: text in, an [`ast::Query`] whose every node
//! carries its exact byte span out, or the first [`Diagnostic`] found. The
//! stages are [`lexer`] (tokens with spans, escapes resolved), `parser`
//! (query forms, pipes, the structural checks Elasticsearch makes while
//! parsing) and `expr` (expressions by precedence). `print` turns a tree
//! back into canonical EQL through `Display`.

pub mod ast;
mod expr;
pub mod lexer;
mod parser;
mod print;
pub mod span;

pub use expr::{MAX_NESTING, MAX_TREE_DEPTH};

use crate::diag::Diagnostic;

/// Parses EQL text into a syntax tree.
pub fn parse(text: &str) -> Result<ast::Query, Diagnostic> {
    let tokens = lexer::tokenize(text)?;
    parser::Parser::new(tokens).parse_query()
}
