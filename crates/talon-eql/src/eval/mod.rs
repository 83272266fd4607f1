//! Evaluation of a compiled query against one event.
//!
//! The plan (`crate::plan::ir::Cond`) is a boolean tree over two-valued
//! leaves, so evaluating it is plain boolean logic with short-circuits; all
//! of Elasticsearch's null behaviour lives in how leaves read fields
//! ([`leaf`]) and in script expressions ([`script`]).
//!
//! Modules: [`value`] (runtime values and doc-value conversion), [`text`]
//! (Java string semantics and case folding), [`wildcard`], [`regex`],
//! [`ip`], [`version`], [`functions`] (the EQL functions), [`script`],
//! [`leaf`].

pub mod functions;
pub mod ip;
pub mod leaf;
pub mod regex;
pub mod script;
pub mod text;
pub mod value;
pub mod version;
pub mod wildcard;

use talon_event::Fields;

use crate::plan::ir::Cond;

/// Whether the condition holds for the event.
pub fn cond_matches(c: &Cond, ev: &dyn Fields) -> bool {
    match c {
        Cond::Const(b) => *b,
        Cond::And(items) => items.iter().all(|i| cond_matches(i, ev)),
        Cond::Or(items) => items.iter().any(|i| cond_matches(i, ev)),
        Cond::Not(x) => !cond_matches(x, ev),
        Cond::Leaf(l) => leaf::leaf_matches(l, ev),
    }
}
