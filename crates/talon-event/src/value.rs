//! Leaf values of a flattened event.
//!
//! An event is stored the way Elasticsearch indexes it: every leaf field is a
//! dotted path holding zero or more scalar values (a multi-valued field holds
//! several). JSON `null` is never a value here: a null is "no value", exactly
//! as Elasticsearch does not index it (unless a mapping gives a `null_value`).

use std::fmt;
use std::sync::Arc;

/// One scalar value of a field, or the result of evaluating an expression.
///
/// `Null` only appears as an evaluation result (a script that propagates
/// null, a literal `null`); flattened events never store it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The numeric value, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "long",
            Value::Float(_) => "double",
            Value::Str(_) => "keyword",
        }
    }
}

impl fmt::Display for Value {
    /// Renders the value the way Elasticsearch stringifies it
    /// (`42.5`, `true`, `7`), which is what `string()` and `concat()` use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => {
                if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 {
                    write!(f, "{x:.1}")
                } else {
                    write!(f, "{x}")
                }
            }
            Value::Str(s) => f.write_str(s),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
