//! The fields a reader keeps, numbered: dotted paths interned as dense
//! [`FieldId`]s, and the key table the [`scan`](crate::scan) module walks
//! JSON keys with.
//!
//! Guarantees:
//! - ids are dense (`0..len()`) and given in first-insertion order, so
//!   per-field state can live in plain vectors indexed by id;
//! - the catalog keeps exactly what [`Projection::only`] over the same list
//!   keeps, and carries the equivalent [`Flattener`] for lines the scanner
//!   hands back;
//! - every way of writing a path lands on its one id: nested objects,
//!   dotted keys and any mixture (`{"process":{"parent.name":..}}`), because
//!   the key table holds one entry per (prefix, rest-of-path) pair rather
//!   than per segment, so a key with dots costs one probe like any other.

use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::{FxHashMap, FxHasher};

use crate::event::Binding;
use crate::flatten::{Flattener, Projection};
use crate::mapping::Mapping;
use crate::value::Value;

/// A kept field path, by number. Only a [`FieldCatalog`] hands them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub(crate) u32);

impl FieldId {
    /// The dense index of this id: `0..catalog.len()`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A node of the path trie: the root (path `""`), or a dotted prefix of a
/// kept path that ends at a segment boundary.
pub(crate) type NodeId = u32;

pub(crate) const ROOT: NodeId = 0;

#[derive(Clone, Debug)]
struct Node {
    /// The id of this exact path, when it is kept.
    field: Option<FieldId>,
    /// This path or one of its dotted prefixes is kept, so everything below
    /// it is kept too (a prefix entry such as `data_stream`).
    covered: bool,
}

/// One slot of the key table: from `from`, the JSON key whose first eight
/// bytes (zero-padded) are `head` and whose length is `len` leads to node
/// `to`, whose path is `from.path + "." + key` (`key` at the root). A key
/// of eight bytes or fewer (most keys) is compared without reading
/// anything else; the bytes after the eighth are in `FieldCatalog::rest`
/// at the same index. `hash` is the key's [`key_hash`], which the scanner
/// needs for every key and so need not compute for keys found here.
#[derive(Clone, Copy, Debug)]
struct Slot {
    hash: u64,
    head: u64,
    from: NodeId,
    to: NodeId,
    /// The field of `to`, or `NO_FIELD`.
    field: u32,
    len: u32,
}

const NO_FIELD: u32 = u32::MAX;

const EMPTY: Slot = Slot {
    hash: 0,
    head: 0,
    from: NodeId::MAX,
    to: NodeId::MAX,
    field: NO_FIELD,
    len: 0,
};

/// Where a key leads: a node whose values are read, and its field when
/// the node's path is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Child {
    pub node: NodeId,
    pub field: Option<FieldId>,
}

/// Interned field paths and everything the scanner needs to follow JSON
/// keys to them. Immutable once built; share it between threads.
#[derive(Clone, Debug)]
pub struct FieldCatalog {
    /// Tells this catalog (and its clones) from every other one built in
    /// the process, so a [`Binding`] is only ever read by its own catalog.
    tag: u64,
    paths: Vec<Box<str>>,
    by_path: FxHashMap<Box<str>, FieldId>,
    null_values: Vec<Option<Value>>,
    nodes: Vec<Node>,
    /// Open addressing, linear probing; `EMPTY` is an empty slot.
    slots: Vec<Slot>,
    /// The bytes after the eighth of each slot's key.
    rest: Vec<Box<[u8]>>,
    /// Whether a value under the empty key at the top level is looked into
    /// (the projection reaches path `""`): the one key whose path does not
    /// grow by a segment.
    root_visited: bool,
    /// The list held `*`: every field is kept, which a fixed catalog cannot
    /// number, so every line goes to the flattener.
    keeps_all: bool,
    flattener: Flattener,
}

impl FieldCatalog {
    /// The catalog of `paths`, read the way [`Projection::only`] reads them:
    /// a trailing `.*` is dropped, an entry keeps everything below it, and
    /// `*` keeps every field.
    ///
    /// An entry with fields below it in a document (`data_stream` when a
    /// document has `data_stream.type`) keeps those fields under paths the
    /// catalog has no id for: the scanner hands such lines back. List the
    /// leaves instead (`data_stream.type`, ...) to read them fast.
    pub fn new<I, S>(paths: I) -> FieldCatalog
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let listed: Vec<String> = paths.into_iter().map(|p| p.as_ref().to_string()).collect();
        let projection = Projection::only(&listed);
        static TAGS: AtomicU64 = AtomicU64::new(1);
        let mut catalog = FieldCatalog {
            tag: TAGS.fetch_add(1, Ordering::Relaxed),
            paths: Vec::new(),
            by_path: FxHashMap::default(),
            null_values: Vec::new(),
            nodes: Vec::new(),
            slots: Vec::new(),
            rest: Vec::new(),
            root_visited: projection.may_contain(""),
            keeps_all: projection.is_all(),
            flattener: Flattener::new().with_projection(projection),
        };
        for p in &listed {
            let p = p.strip_suffix(".*").unwrap_or(p);
            if p != "*" {
                catalog.intern(p);
            }
        }
        catalog.build_keys();
        catalog
    }

    /// Takes the `null_value` of every mapped field from `mapping`, as
    /// [`Flattener::with_mapping`] does.
    pub fn with_mapping(mut self, mapping: &Mapping) -> FieldCatalog {
        for (path, value) in mapping.null_values() {
            self = self.with_null_value(path, value.clone());
        }
        self
    }

    /// Indexes `value` in place of an explicit `null` at `path`, as
    /// [`Flattener::with_null_value`] does.
    pub fn with_null_value(mut self, path: &str, value: Value) -> FieldCatalog {
        if let Some(id) = self.lookup(path) {
            self.null_values[id.index()] = Some(value.clone());
        }
        self.flattener = self.flattener.with_null_value(path, value);
        self
    }

    fn intern(&mut self, path: &str) -> FieldId {
        if let Some(&id) = self.by_path.get(path) {
            return id;
        }
        let id = FieldId(self.paths.len() as u32);
        self.paths.push(Box::from(path));
        self.by_path.insert(Box::from(path), id);
        self.null_values.push(None);
        id
    }

    /// The id of a kept path.
    /// This catalog's tag (see [`Binding`]).
    pub fn tag(&self) -> u64 {
        self.tag
    }

    /// The binding of a path: its number here, or [`Binding::NONE`].
    pub fn bind(&self, path: &str) -> Binding {
        match self.lookup(path) {
            Some(id) => Binding {
                catalog: self.tag,
                id: id.0,
            },
            None => Binding::NONE,
        }
    }

    /// The id a binding of this catalog names.
    pub fn bound(&self, binding: Binding) -> Option<FieldId> {
        (binding.catalog == self.tag && (binding.id as usize) < self.paths.len())
            .then_some(FieldId(binding.id))
    }

    pub fn lookup(&self, path: &str) -> Option<FieldId> {
        self.by_path.get(path).copied()
    }

    /// The path of an id. Ids come from this catalog; another catalog's id
    /// that is out of range gives `""`.
    pub fn path(&self, id: FieldId) -> &str {
        self.paths.get(id.index()).map_or("", |p| p)
    }

    /// Number of kept paths.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Every id, in order.
    pub fn ids(&self) -> impl Iterator<Item = FieldId> {
        (0..self.paths.len() as u32).map(FieldId)
    }

    /// What an explicit `null` of this field indexes, if anything.
    pub fn null_value(&self, id: FieldId) -> Option<&Value> {
        self.null_values.get(id.index()).and_then(Option::as_ref)
    }

    /// The flattener that keeps exactly what this catalog keeps: the slow
    /// path for lines the scanner hands back, and the reference it is
    /// tested against.
    pub fn flattener(&self) -> &Flattener {
        &self.flattener
    }

    /// True when the list held `*`: the scanner hands every line back.
    pub fn keeps_all(&self) -> bool {
        self.keeps_all
    }

    pub(crate) fn root_visited(&self) -> bool {
        self.root_visited
    }

    /// The trie: one node per dotted prefix of a kept path (the root is
    /// `""`), and one key-table entry for every (node, descendant) pair.
    fn build_keys(&mut self) {
        let mut node_of: FxHashMap<String, NodeId> = FxHashMap::default();
        let mut node_paths: Vec<String> = vec![String::new()];
        node_of.insert(String::new(), ROOT);
        for path in &self.paths {
            let ends = path
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'.')
                .map(|(i, _)| i)
                .chain([path.len()]);
            for end in ends {
                let prefix = &path[..end];
                if !node_of.contains_key(prefix) {
                    node_of.insert(prefix.to_string(), node_paths.len() as NodeId);
                    node_paths.push(prefix.to_string());
                }
            }
        }

        self.nodes = node_paths
            .iter()
            .map(|p| Node {
                field: self.lookup(p),
                covered: self.flattener.projection().keeps(p),
            })
            .collect();

        let mut edges = Vec::new();
        for (to, path) in node_paths.iter().enumerate().skip(1) {
            // At the root a key is the whole path; below a node `a`, the
            // key of `a.b.c` is `b.c`. A leading dot is a segment boundary
            // of the path but not a node of its own.
            edges.push((ROOT, path.as_str(), to as NodeId));
            for (i, _) in path
                .bytes()
                .enumerate()
                .filter(|&(i, b)| b == b'.' && i > 0)
            {
                let from = node_of[&path[..i]];
                edges.push((from, &path[i + 1..], to as NodeId));
            }
        }
        // At most a third full: a key that is not in the table (most keys
        // of a document are not) is told so after one or two slots.
        let capacity = (edges.len() * 3).next_power_of_two().max(16);
        self.slots = vec![EMPTY; capacity];
        self.rest = vec![Box::default(); capacity];
        for (from, key, to) in edges {
            let key = key.as_bytes();
            let hash = key_hash(key);
            let (head, tail) = (key_head(key), key_tail(key));
            let mut i = slot_of(head, tail, key.len(), from, capacity);
            while self.slots[i].from != EMPTY.from {
                i = (i + 1) & (capacity - 1);
            }
            let field = self.nodes[to as usize].field.map_or(NO_FIELD, |f| f.0);
            self.slots[i] = Slot {
                hash,
                head,
                from,
                to,
                field,
                len: key.len() as u32,
            };
            self.rest[i] = Box::from(key.get(8..).unwrap_or(&[]));
        }
    }

    /// Where the JSON key `key` inside an object at `from` leads, and the
    /// key's [`key_hash`]; `head` and `tail` are [`key_head`] and
    /// [`key_tail`] of the key.
    #[inline(always)]
    pub(crate) fn child(
        &self,
        from: NodeId,
        key: &[u8],
        head: u64,
        tail: u64,
    ) -> Option<(Child, u64)> {
        let mask = self.slots.len().wrapping_sub(1);
        let mut i = slot_of(head, tail, key.len(), from, self.slots.len());
        loop {
            let slot = self.slots.get(i)?;
            if slot.head == head
                && slot.len as usize == key.len()
                && slot.from == from
                && (key.len() <= 8 || same_bytes(self.rest.get(i)?, key.get(8..)?))
            {
                let field = (slot.field != NO_FIELD).then_some(FieldId(slot.field));
                let child = Child {
                    node: slot.to,
                    field,
                };
                return Some((child, slot.hash));
            }
            if slot.from == EMPTY.from {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether `key` at `from`, which is not a node, still lands under a
    /// kept prefix: the flattener keeps such leaves under paths this catalog
    /// has no id for. `head` is [`key_head`] of the key.
    #[inline]
    pub(crate) fn kept_without_id(&self, from: NodeId, key: &[u8], head: u64) -> bool {
        let Some(node) = self.nodes.get(from as usize) else {
            return false;
        };
        if node.covered {
            return true;
        }
        // A key with a dot may reach a kept prefix part-way: `a.b` where
        // `a` is kept. Most keys have none, and most are short enough for
        // their head to tell.
        let dotted = match key.len() {
            0..=8 => {
                let x = head ^ 0x2e2e_2e2e_2e2e_2e2e;
                x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080 != 0
            }
            _ => key.contains(&b'.'),
        };
        if !dotted {
            return false;
        }
        key.iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'.' && (i > 0 || from != ROOT))
            .any(|(i, _)| {
                let part = &key[..i];
                self.child(from, part, key_head(part), key_tail(part))
                    .and_then(|(c, _)| self.nodes.get(c.node as usize))
                    .is_some_and(|n| n.covered)
            })
    }
}

/// The hash the flattener gives a key when it compares the keys of one
/// object (`FxHasher` over the key as `str`), computed from the key's
/// bytes. The scanner compares keys by it, and it must be the flattener's
/// so that two keys with one hash send a line back whenever they make the
/// flattener look closer (which then looks at the whole document).
#[inline]
pub(crate) fn key_hash(key: &[u8]) -> u64 {
    use std::hash::Hasher;
    // `str`'s `Hash` writes the bytes then 0xff (stable `Hasher::write_str`);
    // `key_hash_is_the_flatteners` pins that.
    let mut h = BuildHasherDefault::<FxHasher>::default().build_hasher();
    h.write(key);
    h.write_u8(0xff);
    h.finish()
}

/// The first eight bytes of a key, little-endian, zero-padded: the part
/// of a key the table compares without looking elsewhere.
#[inline]
pub(crate) fn key_head(key: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = key.len().min(8);
    word[..n].copy_from_slice(&key[..n]);
    u64::from_le_bytes(word)
}

/// The last eight bytes of a key longer than eight bytes, little-endian
/// (0 for a shorter key, which its head holds whole).
#[inline]
pub(crate) fn key_tail(key: &[u8]) -> u64 {
    match key.len().checked_sub(8) {
        Some(at) if at > 0 => key_head(&key[at..]),
        _ => 0,
    }
}

/// `a == b` for short keys, without a call to `memcmp` (which costs more
/// than the comparison itself at these lengths).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a, mut b) = (a, b);
    while let (Some(x), Some(y)) = (a.first_chunk::<8>(), b.first_chunk::<8>()) {
        if x != y {
            return false;
        }
        a = &a[8..];
        b = &b[8..];
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// The table slot to start probing at: a hash of the key's head, tail and
/// length and of the node, cheaper than hashing the key's bytes again.
#[inline(always)]
fn slot_of(head: u64, tail: u64, len: usize, from: NodeId, capacity: usize) -> usize {
    let mixed = (head.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ tail.rotate_left(23)
        ^ (u64::from(from) << 32 | len as u64))
        .wrapping_mul(0xff51_afd7_ed55_8ccd);
    (mixed >> 32) as usize & capacity.wrapping_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(c: &FieldCatalog, keys: &[&str]) -> Option<Child> {
        let mut at = Child {
            node: ROOT,
            field: None,
        };
        for k in keys {
            let k = k.as_bytes();
            at = c.child(at.node, k, key_head(k), key_tail(k))?.0;
        }
        Some(at)
    }

    #[test]
    fn ids_are_dense_in_first_insertion_order() {
        let c = FieldCatalog::new(["b", "a.x", "b", "c.*"]);
        assert_eq!(c.len(), 3);
        let ids: Vec<_> = ["b", "a.x", "c"].iter().map(|p| c.lookup(p)).collect();
        assert_eq!(ids, [Some(FieldId(0)), Some(FieldId(1)), Some(FieldId(2))]);
        assert_eq!(c.path(FieldId(1)), "a.x");
        assert_eq!(c.lookup("a"), None);
        assert_eq!(c.path(FieldId(9)), "");
    }

    #[test]
    fn every_spelling_of_a_path_reaches_its_id() {
        let c = FieldCatalog::new(["process.parent.name", "process.pid"]);
        let id = c.lookup("process.parent.name");
        for keys in [
            &["process", "parent", "name"][..],
            &["process.parent.name"],
            &["process", "parent.name"],
            &["process.parent", "name"],
        ] {
            let at = walk(&c, keys).expect("reaches a node");
            assert_eq!(at.field, id, "{keys:?}");
        }
        let parent = walk(&c, &["process", "parent"]).expect("a node");
        assert_eq!(parent.field, None);
        assert_eq!(walk(&c, &["process", "parent", "pid"]), None);
        assert_eq!(walk(&c, &["process.parent.name", "x"]), None);
    }

    #[test]
    fn prefix_entries_cover_what_lies_below() {
        let c = FieldCatalog::new(["data_stream", "event.action"]);
        let ds = walk(&c, &["data_stream"]).expect("node");
        assert!(c.kept_without_id(ds.node, b"type", key_head(b"type")));
        let long = b"data_stream.type";
        assert!(c.kept_without_id(ROOT, long, key_head(long)));
        let other = b"data_streams.type";
        assert!(!c.kept_without_id(ROOT, other, key_head(other)));
        let event = walk(&c, &["event"]).expect("node");
        assert!(!c.kept_without_id(event.node, b"kind", key_head(b"kind")));
        let dotted = b".data_stream";
        assert!(!c.kept_without_id(ROOT, dotted, key_head(dotted)));
        let c = FieldCatalog::new(["b", "a"]);
        assert!(c.kept_without_id(ROOT, b"a.", key_head(b"a.")));
        assert!(c.kept_without_id(ROOT, b"a.x", key_head(b"a.x")));
        assert!(!c.kept_without_id(ROOT, b"ab", key_head(b"ab")));
    }

    #[test]
    fn star_keeps_all_and_null_values_follow_their_field() {
        assert!(FieldCatalog::new(["a", "*"]).keeps_all());
        let c = FieldCatalog::new(["a", "b"]).with_null_value("b", Value::Int(-1));
        assert_eq!(c.null_value(FieldId(1)), Some(&Value::Int(-1)));
        assert_eq!(c.null_value(FieldId(0)), None);
    }

    #[test]
    fn key_hash_is_the_flatteners() {
        for key in [
            "",
            "a",
            "process",
            "a.much.longer.key.than_sixteen_bytes",
            "é",
        ] {
            let expected = BuildHasherDefault::<FxHasher>::default().hash_one(key);
            assert_eq!(key_hash(key.as_bytes()), expected, "{key}");
        }
    }
}
