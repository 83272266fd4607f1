//! Lexer and parser for EQL text, in the Elasticsearch dialect.
//!
//! [`parse`] is the entry point: text in, an [`ast::Query`] whose every node
//! carries its exact byte span out, or the first [`Diagnostic`] found. The
//! stages are [`lexer`] (tokens with spans, escapes resolved), `parser`
//! (query forms, pipes, the structural checks Elasticsearch makes while
//! parsing) and `expr` (expressions by precedence). `print` turns a tree
//! back into canonical EQL through `Display`.
//!
//! No input makes parsing panic or overflow the stack: nesting is capped at
//! [`MAX_NESTING`] levels and trees at [`MAX_TREE_DEPTH`], and deeply nested
//! text is parsed on a helper thread with a stack sized for the cap (an
//! unoptimized build needs several KiB per level, more than a 2 MiB test
//! thread has for 200 levels).

pub mod ast;
mod expr;
pub mod lexer;
mod parser;
mod print;
pub mod span;
mod strings;

pub use expr::{MAX_NESTING, MAX_TREE_DEPTH};

use crate::diag::Diagnostic;
use lexer::{Keyword, Token, TokenKind};

/// Inputs nested at most this deep are parsed on the caller's thread.
const INLINE_NESTING: usize = 32;

/// Stack for the helper thread: room for [`MAX_NESTING`] levels in an
/// unoptimized build, with a wide margin. Only touched pages are committed.
const DEEP_STACK: usize = 64 << 20;

/// Parses EQL text into a syntax tree.
pub fn parse(text: &str) -> Result<ast::Query, Diagnostic> {
    let tokens = lexer::tokenize(text)?;
    run(text, tokens, |p| p.parse_query())
}

/// Parses a lone expression (a condition without `<category> where`), for
/// tests and tools that build conditions directly.
pub fn parse_expression(text: &str) -> Result<ast::Expr, Diagnostic> {
    let tokens = lexer::tokenize(text)?;
    run(text, tokens, |p| p.parse_lone_expr())
}

fn run<T: Send>(
    text: &str,
    tokens: Vec<Token>,
    f: impl FnOnce(&mut parser::Parser<'_>) -> Result<T, Diagnostic> + Send,
) -> Result<T, Diagnostic> {
    if nesting_estimate(&tokens) <= INLINE_NESTING {
        return f(&mut parser::Parser::new(text, tokens));
    }
    let end = tokens.last().map_or(span::Span::default(), |t| t.span);
    let refused = || {
        Diagnostic::new(
            format!("expression nested too deeply (more than {MAX_NESTING} levels)"),
            end,
        )
    };
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("talon-eql-parse".to_string())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, move || f(&mut parser::Parser::new(text, tokens)));
        match worker {
            // A panic there is a parser bug; let it surface as one rather
            // than disguise it as a diagnostic.
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p)),
            // No thread to be had: refuse rather than risk the caller's stack.
            Err(_) => Err(refused()),
        }
    })
}

/// An upper bound on how deeply the parser will recurse for `tokens`:
/// bracket depth plus the longest run of prefix operators inside it.
fn nesting_estimate(tokens: &[Token]) -> usize {
    let (mut depth, mut run, mut max) = (0usize, 0usize, 0usize);
    for t in tokens {
        match t.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::MissingOpen => {
                depth += 1;
                run = 0;
            }
            TokenKind::RParen | TokenKind::RBracket => {
                depth = depth.saturating_sub(1);
                run = 0;
            }
            TokenKind::Kw(Keyword::Not) | TokenKind::Minus | TokenKind::Plus => run += 1,
            _ => run = 0,
        }
        max = max.max(depth + run);
    }
    max
}
