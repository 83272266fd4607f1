//! Index names and index patterns.
// TODO: implemented by the events work (pattern matching, data stream names).
