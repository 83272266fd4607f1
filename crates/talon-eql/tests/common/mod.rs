//! Helpers shared by the parser test files: locating the corpus, clearing
//! spans, and the print/parse round-trip check.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use talon_eql::ast::*;
use talon_eql::parse;

/// The corpus at `$TALON_CORPORA`, or `../../../shared/corpora` relative to
/// the crate; `None` (after printing why) when it is absent.
pub fn corpus_root() -> Option<PathBuf> {
    let root = match std::env::var_os("TALON_CORPORA") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpora"),
    };
    if root.is_dir() {
        Some(root)
    } else {
        println!("skipped: corpus not found at {}", root.display());
        None
    }
}

/// Clears every span so that trees from different texts compare equal.
pub fn strip(q: &mut Query) {
    q.span = Span::default();
    for p in &mut q.pipes {
        match p {
            Pipe::Head(_, s) | Pipe::Tail(_, s) => *s = Span::default(),
        }
    }
    match &mut q.body {
        QueryBody::Event(e) => strip_event(e),
        QueryBody::Sequence(s) => {
            s.span = Span::default();
            s.by.iter_mut().for_each(strip_expr);
            if let Some(m) = &mut s.maxspan {
                m.span = Span::default();
            }
            s.terms
                .iter_mut()
                .chain(s.until.iter_mut())
                .for_each(strip_term);
        }
        QueryBody::Sample(s) => {
            s.span = Span::default();
            s.by.iter_mut().for_each(strip_expr);
            s.filters.iter_mut().for_each(strip_term);
        }
    }
}

fn strip_term(t: &mut SeqTerm) {
    t.span = Span::default();
    if let Some((_, s)) = &mut t.runs {
        *s = Span::default();
    }
    t.by.iter_mut().for_each(strip_expr);
    strip_event(&mut t.query);
}

fn strip_event(e: &mut EventQuery) {
    e.span = Span::default();
    e.category = match &e.category {
        Category::Any(_) => Category::Any(Span::default()),
        Category::Named(n, _) => Category::Named(n.clone(), Span::default()),
    };
    strip_expr(&mut e.condition);
}

fn strip_expr(e: &mut Expr) {
    e.span = Span::default();
    match &mut e.kind {
        ExprKind::Literal(_) | ExprKind::Field(_) => {}
        ExprKind::Not(a) | ExprKind::Neg(a) => strip_expr(a),
        ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Compare(_, a, b)
        | ExprKind::Arith(_, a, b) => {
            strip_expr(a);
            strip_expr(b);
        }
        ExprKind::Match {
            value, patterns, ..
        } => {
            strip_expr(value);
            patterns.iter_mut().for_each(strip_expr);
        }
        ExprKind::In { value, list, .. } => {
            strip_expr(value);
            list.iter_mut().for_each(strip_expr);
        }
        ExprKind::Call {
            name_span, args, ..
        } => {
            *name_span = Span::default();
            args.iter_mut().for_each(strip_expr);
        }
    }
}

/// Parses `text`, prints it, parses the print, and checks both trees agree.
pub fn round_trip(origin: &str, text: &str) -> Result<(), String> {
    let mut first = parse(text).map_err(|d| format!("{origin}: {}", d.render(origin, text)))?;
    let printed = first.to_string();
    let mut second = parse(&printed).map_err(|d| {
        format!(
            "{origin}: printed text does not parse:\n{}",
            d.render("printed", &printed)
        )
    })?;
    strip(&mut first);
    strip(&mut second);
    if first != second {
        return Err(format!(
            "{origin}: round trip changed the tree; printed:\n{printed}"
        ));
    }
    Ok(())
}
