//! The detection engine.
