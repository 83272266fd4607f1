//! The event side of talon: what an event is, how its fields are typed, and
//! how events are read from the files people have.
//!
//! - [`value`]: leaf values ([`Value`]);
//! - [`event`]: a flattened event ([`Event`]) and the [`Fields`] trait the
//!   evaluator reads through;
//! - [`flatten`]: JSON document → [`Event`], the way Elasticsearch indexes it;
//! - [`catalog`], [`scan`], [`record`]: the fast path beside [`flatten`]:
//!   kept fields numbered, lines scanned for where their values are, and
//!   values decoded only when read;
//! - [`mapping`]: Elasticsearch index mappings and ECS field types;
//! - [`index`]: index names and index-pattern matching;
//! - [`read`]: readers for NDJSON, JSON arrays, search responses, gzip/zstd,
//!   folders and stdin, with a count of everything read or skipped;
//! - [`view`]: [`EventView`], an event as the engine reads it;
//! - [`terminal`]: input text made safe to show on a terminal;
//! - [`untimed`]: why an event's date field gave no time, and where the
//!   first such event was.

pub mod catalog;
pub mod event;
pub mod flatten;
pub mod index;
pub mod json_span;
mod json_text;
pub mod mapping;
pub mod read;
pub mod record;
pub mod scan;
pub mod terminal;
pub mod time;
pub mod untimed;
pub mod value;
pub mod view;

pub use event::{Binding, Event, Fields, Origin, Values};
pub use json_text::lone_surrogates_replaced;
pub use value::Value;
pub use view::EventView;
