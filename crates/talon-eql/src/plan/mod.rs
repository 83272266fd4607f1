//! Compiled queries.
