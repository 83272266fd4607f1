//! The witness index: never evaluate a rule that cannot match.
//!
//! Every *matcher* (an event rule's query, or one term of a sequence or
//! sample rule) has witnesses ([`talon_eql::plan::witness`]), up to one
//! per top-level conjunct of its query: probes on the string values of
//! single fields, one of which every event it matches passes; or none (it
//! must always be evaluated). The probes are inverted into per-field
//! tables (value → witnesses; fragments of values in one Aho-Corasick
//! automaton per field), so one look at the few fields rules test marks
//! the witnesses an event passes; a matcher is evaluated only when the
//! event passed all of its witnesses, and the others are skipped. Tables are built per routing class (the set of rules an
//! event's index and category reach), on first use, holding only the
//! probes of that class's matchers: an event reads only the fields its
//! own candidates test.
//!
//! Skipping never changes an answer, only what is evaluated; the
//! differential tests pin the index to evaluating every routed rule.

use std::cell::RefCell;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use talon_eql::eval::recall::ValueMemo;
use talon_eql::eval::text::with_ascii_lowercase;
use talon_eql::plan::witness::Probe;
use talon_event::catalog::FieldCatalog;
use talon_event::{Binding, EventView};

/// Witnesses served by one probe value.
type Served = SmallVec<[u32; 2]>;

/// The witnesses of every matcher, by matcher id.
///
/// A matcher may have several witnesses (one per top-level conjunct of
/// its query, [`talon_eql::EventPlan::witnesses`]); an event it matches
/// passes every one. Each witness has an id of its own, the tables mark
/// witnesses, and a matcher is a candidate when all of its witnesses are
/// marked: `host.os.type == "macos" and event.type == "start"` is then
/// skipped on Linux events, whichever of the two is more selective on
/// paper.
#[derive(Debug, Default)]
pub struct Witnesses {
    /// Per witness id: its probes (an event must pass one).
    probes: Vec<Vec<Probe>>,
    /// Per matcher: its witness ids (none: always evaluated).
    of: Vec<std::ops::Range<u32>>,
    /// Per witness id: its matcher when it is the matcher's first witness
    /// (its *lead*), else `NOT_LEAD`. Marking a lead names a matcher that
    /// may be a candidate, so candidates are found without looking at
    /// every routed matcher.
    lead_of: Vec<u32>,
}

const NOT_LEAD: u32 = u32::MAX;

/// Most witnesses kept per matcher: the most selective ones. Each one
/// kept is marked on every event that passes it, for every matcher that
/// has it, and the third and fourth are the weak ones (`host.os.type ==
/// "linux"`, `event.type == "start"`), which most events pass: with every
/// prebuilt rule over generated data (callgrind, 20 MB), two cost 1.419 G
/// instructions, three 1.448 G, four 1.477 G, and one 1.524 G (12 % more
/// evaluations than two, which evaluate 13 % more than four).
pub(crate) const MAX_WITNESSES: usize = 2;

impl Witnesses {
    /// Adds a matcher with its witnesses (most selective first; none:
    /// evaluated on every event routed to it); its id is the number of
    /// matchers added before it.
    pub fn push(&mut self, witnesses: Vec<Vec<Probe>>) -> u32 {
        let start = self.probes.len() as u32;
        self.probes
            .extend(witnesses.into_iter().take(MAX_WITNESSES));
        let m = self.of.len() as u32;
        self.of.push(start..self.probes.len() as u32);
        self.lead_of.resize(self.probes.len(), NOT_LEAD);
        if let Some(first) = self.lead_of.get_mut(start as usize) {
            *first = m;
        }
        m
    }

    /// Number of matchers.
    pub fn len(&self) -> usize {
        self.of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }

    /// Number of witnesses, of all matchers ([`Marks::reset`] takes it).
    pub fn witness_count(&self) -> usize {
        self.probes.len()
    }

    /// Whether matcher `m` has no witness (is evaluated on every event
    /// routed to it).
    pub fn always(&self, m: u32) -> bool {
        self.of.get(m as usize).is_none_or(|r| r.is_empty())
    }

    /// Whether the current event may satisfy matcher `m`: it has no
    /// witness, or the event passed all of them.
    pub fn admits(&self, m: u32, marks: &Marks) -> bool {
        self.of
            .get(m as usize)
            .is_none_or(|r| r.clone().all(|w| marks.marked(w)))
    }

    /// How many matchers (rules and sequence terms) have a witness, of
    /// how many.
    pub fn coverage(&self) -> (usize, usize) {
        let with = self.of.iter().filter(|r| !r.is_empty()).count();
        (with, self.of.len())
    }

    /// The probe tables of a set of matchers; fields are read by their
    /// number in `catalog`.
    pub fn tables(
        &self,
        matchers: impl IntoIterator<Item = u32>,
        catalog: &FieldCatalog,
    ) -> ProbeTables {
        let mut by_field: FxHashMap<Arc<str>, FieldBuild> = FxHashMap::default();
        let mut order: Vec<Arc<str>> = Vec::new();
        let mut always = Vec::new();
        for m in matchers {
            let Some(ids) = self.of.get(m as usize) else {
                continue;
            };
            if ids.is_empty() {
                always.push(m);
            }
            for w in ids.clone() {
                for p in &self.probes[w as usize] {
                    let path = p.path();
                    let b = by_field.entry(Arc::clone(path)).or_insert_with(|| {
                        order.push(Arc::clone(path));
                        FieldBuild::default()
                    });
                    b.add(p, w);
                }
            }
        }
        let fields = order
            .into_iter()
            .filter_map(|path| {
                let b = by_field.remove(&path)?;
                let binding = catalog.bind(&path);
                Some(b.build(path, binding))
            })
            .collect();
        always.sort_unstable();
        always.dedup();
        ProbeTables { fields, always }
    }
}

/// Probes of one field, gathered before the tables are built.
#[derive(Default)]
struct FieldBuild {
    exact: FxHashMap<Box<str>, Served>,
    folded: FxHashMap<Box<str>, Served>,
    /// Lowercased text → index into `fragments`.
    fragment_at: FxHashMap<Box<str>, usize>,
    fragments: Vec<Fragment>,
}

impl FieldBuild {
    fn add(&mut self, p: &Probe, m: u32) {
        let serve = |list: &mut Served| {
            if !list.contains(&m) {
                list.push(m);
            }
        };
        match p {
            Probe::Equals { value, .. } => {
                serve(self.exact.entry(Box::from(&**value)).or_default())
            }
            Probe::EqualsFolded { value, .. } => {
                serve(self.folded.entry(Box::from(&**value)).or_default())
            }
            Probe::Contains {
                text,
                ci,
                at_start,
                at_end,
                ..
            } => {
                let key: Box<str> = text.to_ascii_lowercase().into();
                let at = *self.fragment_at.entry(key.clone()).or_insert_with(|| {
                    self.fragments.push(Fragment {
                        text: key,
                        uses: Vec::new(),
                    });
                    self.fragments.len() - 1
                });
                let exact = (!ci).then(|| Box::<[u8]>::from(text.as_bytes()));
                let use_ = FragmentUse {
                    exact,
                    at_start: *at_start,
                    at_end: *at_end,
                    matchers: Served::new(),
                };
                let uses = &mut self.fragments[at].uses;
                let found = uses.iter().position(|u| {
                    u.exact == use_.exact && u.at_start == use_.at_start && u.at_end == use_.at_end
                });
                let i = found.unwrap_or_else(|| {
                    uses.push(use_);
                    uses.len() - 1
                });
                serve(&mut uses[i].matchers);
            }
        }
    }

    fn build(self, path: Arc<str>, binding: Binding) -> FieldTable {
        let contains = if self.fragments.is_empty() {
            None
        } else {
            let texts: Vec<&str> = self.fragments.iter().map(|f| &*f.text).collect();
            // A contiguous NFA rather than the DFA the crate picks for few
            // patterns: tables are built per routing class, on its first
            // event, and a DFA costs far more to build while it searches
            // no fewer instructions here (callgrind, every rule over
            // 20 MB: 146 M -> 106 M instructions building tables, the
            // same marking).
            match AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(&texts)
            {
                Ok(ac) => Some(Contains {
                    ac,
                    uses: self.fragments.into_iter().map(|f| f.uses).collect(),
                }),
                Err(e) => {
                    // The matchers keep their probes' place as "always": a
                    // table that cannot be built must not hide them.
                    tracing::warn!("witness: cannot index fragments of {path}: {e}");
                    return FieldTable {
                        path,
                        binding,
                        exact: self.exact,
                        folded: self.folded,
                        contains: None,
                        memo: RefCell::default(),
                        broken: self
                            .fragments
                            .iter()
                            .flat_map(|f| f.uses.iter().flat_map(|u| u.matchers.iter().copied()))
                            .collect(),
                    };
                }
            }
        };
        FieldTable {
            path,
            binding,
            exact: self.exact,
            folded: self.folded,
            contains,
            memo: RefCell::default(),
            broken: Vec::new(),
        }
    }
}

struct Fragment {
    /// Lowercased.
    text: Box<str>,
    uses: Vec<FragmentUse>,
}

/// One way a fragment is probed: in which case, anchored where.
#[derive(Debug)]
struct FragmentUse {
    /// The bytes a case-sensitive probe needs; `None`: any case.
    exact: Option<Box<[u8]>>,
    at_start: bool,
    at_end: bool,
    matchers: Served,
}

#[derive(Debug)]
struct Contains {
    ac: AhoCorasick,
    /// Per automaton pattern.
    uses: Vec<Vec<FragmentUse>>,
}

/// The probes of one field.
#[derive(Debug)]
struct FieldTable {
    path: Arc<str>,
    binding: Binding,
    exact: FxHashMap<Box<str>, Served>,
    /// Keys are lowercased ASCII.
    folded: FxHashMap<Box<str>, Served>,
    contains: Option<Contains>,
    /// What `contains` found in values met before.
    memo: RefCell<FoundMemo>,
    /// Witnesses whose fragments could not be indexed: always marked.
    broken: Vec<u32>,
}

/// What a field's fragments found in values met before. The automaton's
/// answer depends on the value alone, and values repeat from event to
/// event (a process name, a parent's command line), so a value met again
/// costs a hash lookup instead of a search ([`ValueMemo`], which also
/// stops remembering for a field whose values rarely repeat); past
/// `MEMO_BYTES` of values it starts afresh.
#[derive(Debug, Default)]
struct FoundMemo(ValueMemo<Box<[u32]>>);

/// Most bytes of values one field's memo holds.
const MEMO_BYTES: usize = 64 << 10;

impl FoundMemo {
    /// The witnesses `value` was found to serve, when remembered.
    fn get(&mut self, value: &str) -> Option<&[u32]> {
        self.0.get(value).map(|ids| &ids[..])
    }

    /// Whether `value`'s answer is worth remembering.
    fn wants(&self, value: &str) -> bool {
        self.0.wants(value)
    }

    fn remember(&mut self, value: &str, served: Vec<u32>) {
        if self.0.bytes() + value.len() > MEMO_BYTES {
            self.0.clear();
        }
        self.0.keep(value, served.into_boxed_slice());
    }
}

/// The probe tables of one routing class.
#[derive(Debug, Default)]
pub struct ProbeTables {
    fields: Vec<FieldTable>,
    /// The matchers without a witness, evaluated on every event.
    always: Vec<u32>,
}

/// Which witnesses the current event passed, reused from event to event:
/// a witness is passed when its stamp is the current one.
#[derive(Debug, Default)]
pub struct Marks {
    stamp: Vec<u32>,
    current: u32,
    /// A copy of [`Witnesses::lead_of`], taken at the first reset.
    lead_of: Vec<u32>,
    /// The matchers whose lead witness the current event passed.
    leads: Vec<u32>,
}

/// Stamps witnesses `served` (once per event), noting the matchers whose
/// lead they are.
fn stamp_all(
    served: &[u32],
    stamp: &mut [u32],
    current: u32,
    lead_of: &[u32],
    leads: &mut Vec<u32>,
) {
    for &w in served {
        if let Some(s) = stamp.get_mut(w as usize) {
            if *s != current {
                *s = current;
                match lead_of.get(w as usize) {
                    Some(&m) if m != NOT_LEAD => leads.push(m),
                    _ => {}
                }
            }
        }
    }
}

impl Marks {
    /// Starts a new event over the witnesses of `w`.
    pub fn reset(&mut self, w: &Witnesses) {
        if self.stamp.len() != w.witness_count() {
            self.stamp = vec![0; w.witness_count()];
            self.lead_of.clone_from(&w.lead_of);
            self.current = 0;
        }
        self.leads.clear();
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.stamp.iter_mut().for_each(|s| *s = 0);
            self.current = 1;
        }
    }

    fn mark(&mut self, served: &[u32]) {
        stamp_all(
            served,
            &mut self.stamp,
            self.current,
            &self.lead_of,
            &mut self.leads,
        );
    }

    /// Whether witness `m` was marked for the current event.
    pub fn marked(&self, m: u32) -> bool {
        self.stamp.get(m as usize) == Some(&self.current)
    }
}

impl ProbeTables {
    /// Marks every witness one of whose probes the event passes.
    pub fn mark(&self, event: &dyn EventView, marks: &mut Marks) {
        for t in &self.fields {
            if !t.broken.is_empty() {
                marks.mark(&t.broken);
            }
            event.for_each_str_bound(&t.path, t.binding, &mut |s| t.probe(s, marks));
        }
    }

    /// The matchers of these tables the current event may satisfy (see
    /// [`Witnesses::admits`]), in id order: those without a witness, and
    /// those whose lead witness it passed and then all the others.
    pub fn candidates(&self, w: &Witnesses, marks: &Marks, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.always);
        out.extend(marks.leads.iter().copied().filter(|&m| w.admits(m, marks)));
        out.sort_unstable();
    }

    /// Number of fields an event is probed on.
    pub fn fields(&self) -> usize {
        self.fields.len()
    }
}

impl FieldTable {
    fn probe(&self, value: &str, marks: &mut Marks) {
        let Marks {
            stamp,
            current,
            lead_of,
            leads,
        } = marks;
        let mut mark = |served: &[u32]| stamp_all(served, stamp, *current, lead_of, leads);
        if let Some(served) = self.exact.get(value) {
            mark(served);
        }
        // Folded keys are ASCII: a value with other bytes cannot equal one
        // (an ASCII letter only matches its two ASCII cases).
        if !self.folded.is_empty() && value.is_ascii() {
            if let Some(served) = with_ascii_lowercase(value, |key| self.folded.get(key)) {
                mark(served);
            }
        }
        if let Some(c) = &self.contains {
            let mut memo = self.memo.borrow_mut();
            if let Some(served) = memo.get(value) {
                mark(served);
                return;
            }
            let mut found = memo.wants(value).then(Vec::new);
            let bytes = value.as_bytes();
            for m in c.ac.find_overlapping_iter(value) {
                for u in &c.uses[m.pattern().as_usize()] {
                    let placed =
                        (!u.at_start || m.start() == 0) && (!u.at_end || m.end() == bytes.len());
                    let cased = u.exact.as_deref().is_none_or(|e| &bytes[m.range()] == e);
                    if placed && cased {
                        mark(&u.matchers);
                        if let Some(f) = &mut found {
                            f.extend_from_slice(&u.matchers);
                        }
                    }
                }
            }
            if let Some(f) = found {
                memo.remember(value, f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use talon_eql::eval::recall::{LONGEST as MEMO_LONGEST, TRIAL as MEMO_TRIAL};
    use talon_event::{Event, Value, Values};

    fn event(fields: &[(&str, &[&str])]) -> Event {
        let mut e = Event::default();
        for (k, vs) in fields {
            let vals: Values = vs.iter().map(|v| Value::str(v)).collect();
            e.set(k, vals);
        }
        e
    }

    fn probes(qs: &[&str]) -> Witnesses {
        let mut w = Witnesses::default();
        for q in qs {
            let c = talon_eql::compile_str(q, &Default::default()).expect(q);
            w.push(c.event_plan().map(|p| p.witnesses()).unwrap_or_default());
        }
        w
    }

    fn marked(w: &Witnesses, e: &Event) -> Vec<u32> {
        let tables = w.tables(0..w.len() as u32, &FieldCatalog::new(["x"]));
        let mut marks = Marks::default();
        marks.reset(w);
        tables.mark(e, &mut marks);
        let all: Vec<u32> = (0..w.len() as u32)
            .filter(|m| w.admits(*m, &marks))
            .collect();
        // The candidates found from the marked leads are the same.
        let mut found = Vec::new();
        tables.candidates(w, &marks, &mut found);
        assert_eq!(found, all);
        all
    }

    #[test]
    fn each_probe_kind_marks_only_its_matchers() {
        let w = probes(&[
            r#"process where process.name == "Sysctl""#,
            r#"process where process.name : "sysctl""#,
            r#"process where process.args like "*ip_forward*""#,
            r#"process where process.args : "/proc/sys/*""#,
            r#"process where process.executable like~ "*/SH""#,
            r#"process where process.pid > 3"#,
        ]);
        assert!(w.always(5));
        let e = event(&[("process.name", &["SYSCTL"]), ("process.args", &["x"])]);
        assert_eq!(marked(&w, &e), [1, 5]);
        let e = event(&[
            ("process.name", &["Sysctl"]),
            ("process.args", &["-w", "net.ipv4.ip_forward=1"]),
        ]);
        assert_eq!(marked(&w, &e), [0, 1, 2, 5]);
        let e = event(&[
            ("process.args", &["echo /PROC/SYS/x", "/Proc/sys/net"]),
            ("process.executable", &["/bin/sh"]),
        ]);
        assert_eq!(marked(&w, &e), [3, 4, 5]);
        // Case-sensitive fragments need their own bytes; anchors hold.
        let e = event(&[
            ("process.args", &["IP_FORWARD", "a/proc/sys/"]),
            ("process.executable", &["/bin/sh.x"]),
        ]);
        assert_eq!(marked(&w, &e), [5]);
    }

    #[test]
    fn a_matcher_needs_every_one_of_its_witnesses() {
        let w = probes(&[
            r#"process where host.os.type == "macos" and event.type == "start""#,
            r#"process where host.os.type == "linux" and process.name == "sh" and process.pid > 1"#,
            r#"process where host.os.type == "linux" or process.name == "sh""#,
        ]);
        let e = event(&[("host.os.type", &["linux"]), ("event.type", &["start"])]);
        assert_eq!(marked(&w, &e), [2]);
        let e = event(&[("host.os.type", &["linux"]), ("process.name", &["sh"])]);
        assert_eq!(marked(&w, &e), [1, 2]);
        let e = event(&[("host.os.type", &["macos"]), ("event.type", &["start"])]);
        assert_eq!(marked(&w, &e), [0]);
    }

    /// Marks of `e` through `tables`, which remember what they found.
    fn marked_with(w: &Witnesses, tables: &ProbeTables, e: &Event) -> Vec<u32> {
        let mut marks = Marks::default();
        marks.reset(w);
        tables.mark(e, &mut marks);
        (0..w.len() as u32)
            .filter(|m| w.admits(*m, &marks))
            .collect()
    }

    #[test]
    fn remembered_values_mark_what_a_fresh_search_marks() {
        let w = probes(&[
            r#"process where process.args like "*ip_forward*""#,
            r#"process where process.args : "/proc/sys/*""#,
            r#"process where process.args like~ "*/SH""#,
            r#"process where process.args == "x" or process.args like "-w*""#,
        ]);
        let tables = w.tables(0..w.len() as u32, &FieldCatalog::new(["x"]));
        let pool = [
            "net.ipv4.ip_forward=1",
            "/PROC/SYS/net",
            "/bin/sh",
            "/bin/SH.x",
            "-w",
            "x",
            "IP_FORWARD",
        ];
        // Repeated values (remembered), then more distinct values than
        // the memo holds or finds worth holding, then repeats again.
        let mut values: Vec<String> = Vec::new();
        for i in 0..3 * MEMO_TRIAL as usize {
            values.push(pool[i % pool.len()].to_string());
        }
        for i in 0..2 * MEMO_TRIAL as usize {
            values.push(format!("/proc/sys/{i}/{}", "y".repeat(i % 40)));
        }
        values.push("z".repeat(MEMO_LONGEST + 1) + "ip_forward");
        for v in pool {
            values.push(v.to_string());
        }
        for pair in values.chunks(2) {
            let args: Vec<&str> = pair.iter().map(String::as_str).collect();
            let e = event(&[("process.args", &args)]);
            assert_eq!(marked_with(&w, &tables, &e), marked(&w, &e), "{args:?}");
        }
        let memo = tables.fields[0].memo.borrow();
        assert!(memo.0.is_off(), "distinct values turn the memo off");
        assert!(memo.0.is_empty());
    }

    #[test]
    fn a_memo_starts_afresh_past_its_size() {
        let mut memo = FoundMemo::default();
        let fit = MEMO_BYTES / 256;
        for i in 0..fit {
            memo.remember(&format!("{i:0>256}"), vec![i as u32]);
        }
        assert_eq!((memo.0.len(), memo.0.bytes()), (fit, MEMO_BYTES));
        assert_eq!(memo.get(&format!("{:0>256}", 7)), Some(&[7u32][..]));
        memo.remember(&format!("{fit:0>256}"), vec![1]);
        assert_eq!(
            (memo.0.len(), memo.0.bytes()),
            (1, 256),
            "emptied, then one more"
        );
        assert_eq!(memo.get(&format!("{:0>256}", 7)), None);
    }

    #[test]
    fn only_the_two_most_selective_witnesses_are_required() {
        let w = probes(&[
            r#"process where host.os.type == "linux" and process.name == "sh" and process.args == "-c""#,
        ]);
        let e = |os: &str, name: &str| {
            event(&[
                ("host.os.type", &[os]),
                ("process.name", &[name]),
                ("process.args", &["-c"]),
            ])
        };
        assert_eq!(marked(&w, &e("linux", "sh")), [0]);
        // The weakest conjunct is left to evaluation.
        assert_eq!(marked(&w, &e("windows", "sh")), [0]);
        assert!(marked(&w, &e("linux", "bash")).is_empty());
    }

    #[test]
    fn marks_reset_between_events() {
        let w = probes(&[r#"process where process.name == "a1""#]);
        let tables = w.tables([0], &FieldCatalog::new(["x"]));
        let mut marks = Marks::default();
        marks.reset(&w);
        tables.mark(&event(&[("process.name", &["a1"])]), &mut marks);
        assert!(marks.marked(0));
        marks.reset(&w);
        tables.mark(&event(&[("process.name", &["b2"])]), &mut marks);
        assert!(!marks.marked(0));
    }
}
