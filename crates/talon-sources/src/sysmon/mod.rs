//! Sysmon for Linux: its XML events as they land in syslog
//! (`… sysmon: <Event><System>…</System><EventData><Data Name="Image">…`),
//! and the pre-parsed `winlog.*` JSON shape Elastic's integration produces.
//!
//! Both are read into one [`SysmonRecord`] (EventID, computer, time and the
//! `EventData` name/value pairs) and mapped by [`map`]. The XML is parsed
//! with quick-xml (entities such as `&amp;` and `&quot;` in command lines
//! are unescaped there); a line without a Sysmon `<Event>` or with broken
//! XML is a "not a record" issue, never a panic.

mod map;

use quick_xml::events::Event as Xml;
use quick_xml::Reader;
use serde_json::Value;

use crate::doc::ValueAt;
use crate::input::Columns;
use crate::norm::{get, get_str, DocNormalizer, LineNormalizer, Out};
use crate::stats::IgnoreReason;

/// One Sysmon event, whichever form it came in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SysmonRecord {
    pub event_id: Option<u32>,
    pub computer: Option<String>,
    /// `System/TimeCreated/@SystemTime` (the event's `UtcTime` is preferred
    /// when present).
    pub time_created: Option<String>,
    pub data: Vec<Datum>,
    /// Where the XML of an event read from a text log is, which places its
    /// values; `None` for the winlog JSON, whose values are placed by their
    /// path.
    pub xml_at: Option<XmlAt>,
}

/// Where an event's XML is in a text log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct XmlAt {
    pub line: u64,
    /// The bytes of the line's text where the XML starts, and just past
    /// its end.
    pub start: usize,
    pub end: usize,
    pub columns: Columns,
}

/// One `EventData` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Datum {
    pub name: String,
    pub value: String,
    /// The byte of the event's XML where the value starts (0 in the winlog
    /// JSON).
    pub at: u64,
}

impl SysmonRecord {
    /// An `EventData` value by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.datum(name).map(|d| d.value.as_str())
    }

    /// An `EventData` value by name, with where it is written.
    pub fn datum(&self, name: &str) -> Option<&Datum> {
        self.data.iter().find(|d| d.name == name)
    }

    /// Where a value of this record is written: its line and column in a
    /// text log, its path in the winlog JSON.
    pub fn value_at(&self, datum: &Datum) -> ValueAt {
        match &self.xml_at {
            Some(xml) => {
                let column = (xml.start as u64).saturating_add(datum.at + 1);
                ValueAt::Column(xml.line, xml.columns.file(column))
            }
            None => ValueAt::Path(format!("winlog.event_data.{}", datum.name)),
        }
    }

    /// The first bytes of the event's XML that are not UTF-8 (read as
    /// U+FFFD): where they are, and as written.
    pub fn not_utf8(&self) -> Option<(ValueAt, String)> {
        let xml = self.xml_at.as_ref()?;
        let (column, bytes) = xml.columns.not_utf8(xml.start..xml.end)?;
        Some((ValueAt::Column(xml.line, column), bytes))
    }
}

/// Why an event's XML could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct XmlError {
    /// Byte offset in the XML of the problem (of the end, for XML cut
    /// short; of the text holding it, for a bad entity).
    pub at: usize,
    pub message: String,
}

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn xml_error(at: u64, message: String) -> XmlError {
    XmlError {
        at: usize::try_from(at).unwrap_or(usize::MAX),
        message,
    }
}

/// Parses the `<Event>…</Event>` XML of one event.
#[cfg(test)]
pub(crate) fn parse_xml(xml: &str) -> Result<SysmonRecord, XmlError> {
    parse_event(xml).map(|(rec, _)| rec)
}

/// As [`parse_xml`], and where the event's XML ends (the byte after its
/// `</Event>`), so that whatever follows it on the line can be read too.
fn parse_event(xml: &str) -> Result<(SysmonRecord, usize), XmlError> {
    // Text is kept as written: a value's own spaces are part of it (as
    // they are to Elasticsearch), and a CDATA section joins the text
    // around it unchanged. Whitespace between elements reaches no field.
    let mut reader = Reader::from_str(xml);
    let mut rec = SysmonRecord::default();
    // The element whose text is being read, and the `Data` name if any.
    let mut current: Vec<u8> = Vec::new();
    let mut data_name: Option<String> = None;
    let mut depth = 0usize;
    loop {
        let before = reader.buffer_position();
        match reader.read_event() {
            Err(e) => {
                return Err(xml_error(
                    reader.error_position(),
                    format!("broken XML: {e}"),
                ))
            }
            // A record cut short (a truncated line, a file cut mid-write)
            // would give an event with the values it happened to hold.
            Ok(Xml::Eof) if depth > 0 => {
                return Err(xml_error(
                    reader.buffer_position(),
                    format!("XML cut short: {depth} element(s) never closed"),
                ))
            }
            Ok(Xml::Eof) => break,
            Ok(Xml::Start(e)) => {
                depth += 1;
                current = e.local_name().as_ref().to_vec();
                data_name = None;
                if current == b"Data" {
                    data_name = attr(&e, b"Name");
                    if let Some(n) = &data_name {
                        // `<Data Name="X"></Data>` has no text event: an
                        // empty value until text arrives, right after the
                        // start tag.
                        rec.data.push(Datum {
                            name: n.clone(),
                            value: String::new(),
                            at: reader.buffer_position(),
                        });
                    }
                }
            }
            Ok(Xml::Empty(e)) => match e.local_name().as_ref() {
                b"TimeCreated" => rec.time_created = attr(&e, b"SystemTime"),
                b"Data" => {
                    if let Some(n) = attr(&e, b"Name") {
                        rec.data.push(Datum {
                            name: n,
                            value: String::new(),
                            at: before,
                        });
                    }
                }
                _ => {}
            },
            Ok(Xml::Text(t)) => {
                let text = t.unescape().map_err(|e| text_error(before, e))?;
                take_text(&mut rec, &current, data_name.is_some(), &text);
            }
            // `<![CDATA[...]]>`: the text as written.
            Ok(Xml::CData(t)) => {
                take_text(
                    &mut rec,
                    &current,
                    data_name.is_some(),
                    &String::from_utf8_lossy(&t),
                );
            }
            Ok(Xml::End(_)) => {
                depth = depth.saturating_sub(1);
                current.clear();
                data_name = None;
                if depth == 0 {
                    break;
                }
            }
            Ok(_) => {}
        }
    }
    if rec.event_id.is_none() {
        return Err(xml_error(0, "no <EventID> in the Sysmon event".to_string()));
    }
    let end = usize::try_from(reader.buffer_position()).map_or(xml.len(), |e| e.min(xml.len()));
    Ok((rec, end))
}

/// A text's entity that does not decode, placed at the entity when the
/// error says where it is in the text, which starts at `text_at`.
fn text_error(text_at: u64, e: quick_xml::Error) -> XmlError {
    use quick_xml::escape::EscapeError;
    // quick-xml counts an unknown entity's range from just after its `&`,
    // an unterminated one's from the `&`: both are placed at the `&`.
    let (offset, message) = match &e {
        quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(r, name)) => (
            r.start.saturating_sub(1),
            format!("unknown XML entity `&{name};`"),
        ),
        quick_xml::Error::Escape(EscapeError::UnterminatedEntity(r)) => {
            (r.start, "an XML entity `&` without its `;`".to_string())
        }
        _ => (0, format!("bad XML text: {e}")),
    };
    xml_error(text_at + offset as u64, message)
}

/// Text read inside the element `current` (a named `Data` when `named`):
/// the field it belongs to, if any, gets it; a `Data` value gathers every
/// piece (text and CDATA) in order.
fn take_text(rec: &mut SysmonRecord, current: &[u8], named: bool, text: &str) {
    match current {
        b"EventID" => rec.event_id = text.trim().parse().ok(),
        b"Computer" => rec.computer = Some(text.trim().to_string()),
        b"Data" if named => {
            if let Some(last) = rec.data.last_mut() {
                last.value.push_str(text);
            }
        }
        _ => {}
    }
}

fn attr(e: &quick_xml::events::BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// The `winlog.*` JSON shape (Elastic's `sysmon_linux` integration).
pub(crate) fn from_winlog(doc: &Value) -> Option<SysmonRecord> {
    let winlog = get(doc, "winlog")?;
    let event_id = get_str(winlog, "event_id").and_then(|s| s.trim().parse().ok());
    let mut data = Vec::new();
    if let Some(Value::Object(fields)) = get(winlog, "event_data") {
        for (k, v) in fields {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            data.push(Datum {
                name: k.clone(),
                value: v,
                at: 0,
            });
        }
    }
    Some(SysmonRecord {
        event_id,
        computer: get_str(winlog, "computer_name").or_else(|| get_str(doc, "log.syslog.hostname")),
        time_created: get_str(winlog, "time_created").or_else(|| get_str(doc, "@timestamp")),
        data,
        xml_at: None,
    })
}

/// Sysmon XML in text lines (syslog, journal exports).
pub(crate) struct SysmonLines;

/// Where the first `<Event>` or `<Event xmlns=...>` element of `text`
/// starts (not `<EventID>` or `<Events>`).
fn event_start(text: &str) -> Option<usize> {
    text.match_indices("<Event").map(|(at, _)| at).find(|at| {
        text.as_bytes()
            .get(at + "<Event".len())
            .is_some_and(|&b| b == b'>' || b.is_ascii_whitespace())
    })
}

impl LineNormalizer for SysmonLines {
    fn line(&mut self, text: &str, line: u64, columns: &Columns, out: &mut Out) {
        let Some(mut start) = event_start(text) else {
            let detail = format!(
                "no Sysmon <Event> on this line: {}",
                crate::auditd::preview(text)
            );
            out.ignore(line, IgnoreReason::NotARecord, "not a Sysmon event", detail);
            return;
        };
        // A line may hold several events (a forwarder that joined them,
        // a writer that lost a newline): each is a record of its own, so
        // none after the first is dropped unseen.
        loop {
            let end = match parse_event(&text[start..]) {
                Ok((mut rec, len)) => {
                    rec.xml_at = Some(XmlAt {
                        line,
                        start,
                        end: start + len,
                        columns: columns.clone(),
                    });
                    map::answer(&rec, line, out);
                    start + len
                }
                Err(why) => {
                    let column = start.saturating_add(why.at).min(text.len()) + 1;
                    out.ignore_at(
                        line,
                        columns.file(column as u64),
                        IgnoreReason::NotARecord,
                        "broken Sysmon XML",
                        why.message,
                    );
                    return;
                }
            };
            match event_start(&text[end..]) {
                Some(next) => {
                    out.more_records(1);
                    start = end + next;
                }
                None => return,
            }
        }
    }

    fn end(&mut self, _out: &mut Out) {}
}

/// Sysmon events already parsed into `winlog.*` JSON.
pub(crate) struct SysmonDocs;

impl DocNormalizer for SysmonDocs {
    fn doc(&mut self, doc: &Value, line: u64, out: &mut Out) {
        match from_winlog(doc) {
            Some(rec) if rec.event_id.is_some() => map::answer(&rec, line, out),
            _ => out.ignore(
                line,
                IgnoreReason::NotARecord,
                "not a Sysmon event",
                "JSON document without winlog.event_id",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_with_entities_and_empty_data() {
        let rec = parse_xml(
            r#"<Event><System><EventID>1</EventID><TimeCreated SystemTime="2024-06-10T16:00:07.877Z"/><Computer>web-01</Computer></System><EventData><Data Name="CommandLine">sh -c "echo 1 &gt; /x" &amp;&amp; true</Data><Data Name="RuleName"/><Data Name="Empty"></Data></EventData></Event>"#,
        )
        .unwrap();
        assert_eq!(rec.event_id, Some(1));
        assert_eq!(rec.computer.as_deref(), Some("web-01"));
        assert_eq!(
            rec.time_created.as_deref(),
            Some("2024-06-10T16:00:07.877Z")
        );
        assert_eq!(
            rec.get("CommandLine"),
            Some(r#"sh -c "echo 1 > /x" && true"#)
        );
        assert_eq!(rec.get("RuleName"), Some(""));
        assert_eq!(rec.get("Empty"), Some(""));
    }

    /// A record cut short is refused, not read with the values it happened
    /// to hold; CDATA text is a value as written.
    #[test]
    fn a_cut_record_is_refused_and_cdata_is_text() {
        let whole = r#"<Event><System><EventID>1</EventID></System><EventData><Data Name="Image">/usr/bin/curl</Data><Data Name="CommandLine"><![CDATA[curl <x> & y]]></Data></EventData></Event>"#;
        let rec = parse_xml(whole).unwrap();
        assert_eq!(rec.get("Image"), Some("/usr/bin/curl"));
        assert_eq!(rec.get("CommandLine"), Some("curl <x> & y"));
        // Around CDATA, and at a value's ends, spaces are the value's own.
        let spaced = whole.replace(
            "<![CDATA[curl <x> & y]]>",
            " sysctl  <![CDATA[-w]]>  net.ipv4.ip_forward=1 ",
        );
        let rec = parse_xml(&spaced).unwrap();
        assert_eq!(
            rec.get("CommandLine"),
            Some(" sysctl  -w  net.ipv4.ip_forward=1 ")
        );
        let cut = &whole[..whole.find("/curl<").unwrap()];
        let err = parse_xml(cut).unwrap_err();
        assert_eq!(err.message, "XML cut short: 3 element(s) never closed");
        assert_eq!(err.at, cut.len());
        assert!(parse_xml(&whole[..whole.len() - "</Event>".len()]).is_err());
    }

    #[test]
    fn xml_errors_say_where_in_the_xml() {
        let entity = r#"<Event><System><EventID>1</EventID></System><EventData><Data Name="a">x &bogus; y</Data></EventData></Event>"#;
        let err = parse_xml(entity).unwrap_err();
        assert_eq!(err.message, "unknown XML entity `&bogus;`");
        assert_eq!(err.at, entity.find("&bogus").unwrap());
        let open = r#"<Event><System><EventID>1</EventID></System><EventData><Data Name="a">x &amp y</Data></EventData></Event>"#;
        let err = parse_xml(open).unwrap_err();
        assert_eq!(err.at, open.find("&amp").unwrap(), "{err}");
        let mismatched = r#"<Event><System><EventID>1</EventID></Sys></Event>"#;
        let err = parse_xml(mismatched).unwrap_err();
        assert!(err.message.starts_with("broken XML: "), "{err}");
        assert_eq!(err.at, mismatched.find("</Sys>").unwrap(), "{err}");
    }

    /// The reader's issue names the line's column, counted from the line's
    /// start (the syslog prefix included), not from the XML's.
    #[test]
    fn a_broken_line_is_ignored_at_its_column() {
        let prefix = "Jan  1 00:00:00 host sysmon: ";
        let xml = r#"<Event><System><EventID>1</EventID></System><EventData><Data Name="a">&bogus;</Data></EventData></Event>"#;
        let line = format!("{prefix}{xml}");
        let mut out = Out::default();
        SysmonLines.line(&line, 7, &Columns::default(), &mut out);
        let column = line.find("&bogus").unwrap() as u64 + 1;
        match out.pop() {
            Some(crate::norm::Outcome::Ignored {
                line: 7,
                column: c,
                detail,
                ..
            }) => {
                assert_eq!(c, column);
                assert_eq!(detail, "unknown XML entity `&bogus;`");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(parse_xml("<Event><System><EventID>1</EventID></Sys").is_err());
        assert!(parse_xml("<Event></Event>").is_err());
        assert!(parse_xml("<Event><Data Name=\"a\">&bogus;</Data></Event>").is_err());
        assert!(parse_xml("").is_err());
    }
}
