//! Event readers.
// TODO: implemented by the events work.
