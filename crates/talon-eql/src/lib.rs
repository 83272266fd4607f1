//! The EQL language, in the Elasticsearch dialect.
//!
//! Text goes through the stages in this order, one module each:
//!
//! 1. [`syntax`]: lexer and parser, producing an [`ast::Query`] whose every
//!    node knows its byte span;
//! 2. [`plan`]: the checker, which resolves fields against a mapping, types
//!    every expression, folds null literals as Elasticsearch's optimizer does
//!    and produces a compiled [`plan::CompiledQuery`];
//! 3. [`eval`]: evaluation of a compiled query against one event, with
//!    Elasticsearch's null logic (two-valued field tests, null-propagating
//!    scripts) and any-value semantics for multi-valued fields.
//!
//! Errors at every stage are [`Diagnostic`]s pointing at a span.

pub mod diag;
pub mod eval;
pub mod plan;
pub mod syntax;

pub use diag::Diagnostic;
pub use plan::{
    compile, compile_str, CompileOptions, CompiledQuery, EventPlan, JoinKey, Limit, QueryKind,
    ResultPosition, SequencePlan, TermPlan,
};
pub use syntax::ast;
pub use syntax::parse;
