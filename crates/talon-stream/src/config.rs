//! Stream settings: the `[stream]` section of `talon.toml`, overridden by
//! command-line flags, resolved into [`Settings`] with defaults filled in
//! and every value checked before a client is created.
//!
//! ```toml
//! [stream]
//! brokers = "127.0.0.1:9092"
//! group = "talon"
//! topics = ["ecs-events"]
//! alerts_topic = "talon-alerts"
//! alerts_file = "alerts.jsonl"
//! metrics = "127.0.0.1:9464"
//!
//! [stream.security]
//! protocol = "sasl_ssl"
//! sasl_mechanism = "SCRAM-SHA-512"
//! sasl_username = "talon"
//! sasl_password_env = "TALON_KAFKA_PASSWORD"
//! ssl_ca_location = "/etc/ssl/kafka-ca.pem"
//!
//! [stream.librdkafka]
//! "fetch.max.bytes" = "52428800"
//! ```
//!
//! Secrets are best given by environment variable name
//! (`sasl_password_env`), so `talon.toml` can be checked in.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::StreamError;

/// The librdkafka properties the worker's delivery guarantee rests on; the
/// `[stream.librdkafka]` pass-through may not set them.
const RESERVED_PROPERTIES: &[&str] = &[
    "bootstrap.servers",
    "group.id",
    "enable.auto.commit",
    "enable.auto.offset.store",
    "enable.partition.eof",
];

/// What `talon.toml`'s `[stream]` section or the flags may say. Every
/// field is optional here; [`StreamConfig::resolve`] supplies defaults.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    /// Bootstrap brokers, `host:port[,host:port]`.
    pub brokers: Option<String>,
    /// The consumer group every worker joins.
    pub group: Option<String>,
    /// Topics of ECS events, one JSON document per message.
    #[serde(default)]
    pub topics: Vec<String>,
    pub alerts_topic: Option<String>,
    pub dead_letter_topic: Option<String>,
    pub repartition_topic: Option<String>,
    pub changelog_topic: Option<String>,
    /// The field the producers key events by (default `host.id`).
    pub partition_key: Option<String>,
    /// Also append every alert to this JSON Lines file.
    pub alerts_file: Option<PathBuf>,
    /// `127.0.0.1:PORT` for the Prometheus endpoint; none when absent.
    pub metrics: Option<String>,
    /// Give every event this index name (as `talon hunt --index`).
    pub index: Option<String>,
    pub commit_interval_ms: Option<u64>,
    pub checkpoint_interval_ms: Option<u64>,
    /// How far (event time) sequence events may arrive out of order and
    /// still be matched in order; a sequence alert waits this long in
    /// event time (default 60 000, the engine's default for files).
    pub reorder_window_ms: Option<u64>,
    #[serde(default)]
    pub security: SecurityConfig,
    /// Extra librdkafka properties, passed as they are.
    #[serde(default)]
    pub librdkafka: BTreeMap<String, String>,
}

/// SASL and TLS settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    /// `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl`.
    pub protocol: Option<String>,
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub sasl_mechanism: Option<String>,
    pub sasl_username: Option<String>,
    pub sasl_password: Option<String>,
    /// The name of an environment variable holding the SASL password.
    pub sasl_password_env: Option<String>,
    pub ssl_ca_location: Option<PathBuf>,
    pub ssl_certificate_location: Option<PathBuf>,
    pub ssl_key_location: Option<PathBuf>,
    pub ssl_key_password: Option<String>,
}

/// Resolved settings: what a worker runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub brokers: String,
    pub group: String,
    pub topics: Vec<String>,
    pub alerts_topic: String,
    pub dead_letter_topic: String,
    pub repartition_topic: String,
    pub changelog_topic: String,
    pub partition_key: String,
    pub alerts_file: Option<PathBuf>,
    pub metrics: Option<SocketAddr>,
    pub index: Option<String>,
    pub commit_interval: Duration,
    pub checkpoint_interval: Duration,
    pub reorder_window: Duration,
    /// Every librdkafka property for the clients: security settings and
    /// the pass-through, in a stable order.
    pub client_properties: Vec<(String, String)>,
}

impl StreamConfig {
    /// Reads the `[stream]` section of a `talon.toml`; other sections are
    /// left to the commands that own them.
    pub fn from_file(path: &Path) -> Result<StreamConfig, StreamError> {
        let text = std::fs::read_to_string(path).map_err(|source| StreamError::ReadConfig {
            path: path.to_owned(),
            source,
        })?;
        StreamConfig::from_toml(&text, path)
    }

    /// Parses `talon.toml` text; `path` only names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<StreamConfig, StreamError> {
        let parse_err = |message: String| StreamError::ParseConfig {
            path: path.to_owned(),
            message,
        };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| parse_err(e.to_string()))?;
        let Some(section) = table.remove("stream") else {
            return Ok(StreamConfig::default());
        };
        section
            .try_into()
            .map_err(|e: toml::de::Error| parse_err(format!("[stream]: {}", e.message())))
    }

    /// `self` with every setting that `over` gives replaced by it (flags
    /// over the file).
    pub fn overridden_by(mut self, over: StreamConfig) -> StreamConfig {
        fn take<T>(slot: &mut Option<T>, v: Option<T>) {
            if v.is_some() {
                *slot = v;
            }
        }
        take(&mut self.brokers, over.brokers);
        take(&mut self.group, over.group);
        if !over.topics.is_empty() {
            self.topics = over.topics;
        }
        take(&mut self.alerts_topic, over.alerts_topic);
        take(&mut self.dead_letter_topic, over.dead_letter_topic);
        take(&mut self.repartition_topic, over.repartition_topic);
        take(&mut self.changelog_topic, over.changelog_topic);
        take(&mut self.partition_key, over.partition_key);
        take(&mut self.alerts_file, over.alerts_file);
        take(&mut self.metrics, over.metrics);
        take(&mut self.index, over.index);
        take(&mut self.commit_interval_ms, over.commit_interval_ms);
        take(
            &mut self.checkpoint_interval_ms,
            over.checkpoint_interval_ms,
        );
        take(&mut self.reorder_window_ms, over.reorder_window_ms);
        let (s, o) = (&mut self.security, over.security);
        take(&mut s.protocol, o.protocol);
        take(&mut s.sasl_mechanism, o.sasl_mechanism);
        take(&mut s.sasl_username, o.sasl_username);
        take(&mut s.sasl_password, o.sasl_password);
        take(&mut s.sasl_password_env, o.sasl_password_env);
        take(&mut s.ssl_ca_location, o.ssl_ca_location);
        take(&mut s.ssl_certificate_location, o.ssl_certificate_location);
        take(&mut s.ssl_key_location, o.ssl_key_location);
        take(&mut s.ssl_key_password, o.ssl_key_password);
        self.librdkafka.extend(over.librdkafka);
        self
    }

    /// Fills in defaults and checks every value.
    pub fn resolve(self) -> Result<Settings, StreamError> {
        let bad = |m: String| StreamError::Config(m);
        let brokers = nonempty(self.brokers)
            .ok_or_else(|| bad("no brokers (`--brokers` or `brokers` in [stream])".into()))?;
        if self.topics.is_empty() || self.topics.iter().any(|t| t.trim().is_empty()) {
            return Err(bad(
                "no event topics (`--topic` or `topics` in [stream])".into()
            ));
        }
        let metrics = match self.metrics.as_deref() {
            None | Some("") => None,
            Some(text) => Some(loopback_addr(text)?),
        };
        let commit_ms = self.commit_interval_ms.unwrap_or(500);
        let checkpoint_ms = self.checkpoint_interval_ms.unwrap_or(1000);
        if commit_ms == 0 || checkpoint_ms == 0 {
            return Err(bad(
                "commit and checkpoint intervals must be above 0 ms".into()
            ));
        }
        let mut client_properties = security_properties(&self.security)?;
        for (k, v) in self.librdkafka {
            if RESERVED_PROPERTIES.contains(&k.as_str()) {
                return Err(bad(format!(
                    "[stream.librdkafka] may not set `{k}`: the worker sets it to keep \
                     its delivery guarantee"
                )));
            }
            client_properties.push((k, v));
        }
        let settings = Settings {
            brokers,
            group: nonempty(self.group).unwrap_or_else(|| "talon".into()),
            topics: self.topics,
            alerts_topic: nonempty(self.alerts_topic).unwrap_or_else(|| "talon-alerts".into()),
            dead_letter_topic: nonempty(self.dead_letter_topic)
                .unwrap_or_else(|| "talon-dead-letters".into()),
            repartition_topic: nonempty(self.repartition_topic)
                .unwrap_or_else(|| "talon-repartition".into()),
            changelog_topic: nonempty(self.changelog_topic)
                .unwrap_or_else(|| "talon-changelog".into()),
            partition_key: nonempty(self.partition_key).unwrap_or_else(|| "host.id".into()),
            alerts_file: self.alerts_file,
            metrics,
            index: nonempty(self.index),
            commit_interval: Duration::from_millis(commit_ms),
            checkpoint_interval: Duration::from_millis(checkpoint_ms),
            reorder_window: Duration::from_millis(self.reorder_window_ms.unwrap_or(60_000)),
            client_properties,
        };
        settings.check_topics()?;
        Ok(settings)
    }
}

impl Settings {
    /// The worker reads its own output topics back only through the
    /// repartition topic; reading alerts as events would loop forever.
    fn check_topics(&self) -> Result<(), StreamError> {
        let internal = [
            &self.alerts_topic,
            &self.dead_letter_topic,
            &self.repartition_topic,
            &self.changelog_topic,
        ];
        for t in &self.topics {
            if internal.contains(&t) {
                return Err(StreamError::Config(format!(
                    "`{t}` is both an event topic and one the worker writes to"
                )));
            }
        }
        for (i, a) in internal.iter().enumerate() {
            if internal[..i].contains(a) {
                return Err(StreamError::Config(format!(
                    "`{a}` is given for two different purposes (alerts, dead letters, \
                     repartition, changelog must differ)"
                )));
            }
        }
        Ok(())
    }
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// The metrics endpoint serves only this machine: anything else should sit
/// behind a proxy that the operator controls.
fn loopback_addr(text: &str) -> Result<SocketAddr, StreamError> {
    let addr: SocketAddr = text.parse().map_err(|_| {
        StreamError::Config(format!(
            "metrics address `{text}` is not IP:PORT (e.g. 127.0.0.1:9464)"
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(StreamError::Config(format!(
            "metrics address `{text}` is not a loopback address; the endpoint binds to \
             127.0.0.1 or [::1] only"
        )));
    }
    Ok(addr)
}

/// librdkafka's names for the security settings, checked for the mistakes
/// that would otherwise surface as an opaque broker disconnect.
fn security_properties(s: &SecurityConfig) -> Result<Vec<(String, String)>, StreamError> {
    let bad = |m: String| StreamError::Config(m);
    let mut out = Vec::new();
    let mut put = |k: &str, v: String| out.push((k.to_owned(), v));
    let protocol = s.protocol.as_deref().map(str::to_ascii_lowercase);
    let (sasl, ssl) = match protocol.as_deref() {
        None | Some("plaintext") => (false, false),
        Some("ssl") => (false, true),
        Some("sasl_plaintext") => (true, false),
        Some("sasl_ssl") => (true, true),
        Some(other) => {
            return Err(bad(format!(
                "security protocol `{other}`: expected plaintext, ssl, sasl_plaintext or sasl_ssl"
            )))
        }
    };
    if let Some(p) = protocol {
        put("security.protocol", p);
    }
    let sasl_given = s.sasl_mechanism.is_some()
        || s.sasl_username.is_some()
        || s.sasl_password.is_some()
        || s.sasl_password_env.is_some();
    if sasl_given && !sasl {
        return Err(bad(
            "SASL settings need protocol sasl_plaintext or sasl_ssl".into(),
        ));
    }
    if sasl {
        let mechanism = s.sasl_mechanism.clone().unwrap_or_else(|| "PLAIN".into());
        let known = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
        if !known.contains(&mechanism.as_str()) {
            return Err(bad(format!(
                "SASL mechanism `{mechanism}`: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 \
                 (GSSAPI is not built in)"
            )));
        }
        let user = s
            .sasl_username
            .clone()
            .ok_or_else(|| bad("SASL needs sasl_username".into()))?;
        let password = match (&s.sasl_password, &s.sasl_password_env) {
            (Some(p), None) => p.clone(),
            (None, Some(var)) => std::env::var(var).map_err(|_| {
                bad(format!(
                    "sasl_password_env: environment variable `{var}` is not set"
                ))
            })?,
            (Some(_), Some(_)) => {
                return Err(bad(
                    "give sasl_password or sasl_password_env, not both".into()
                ))
            }
            (None, None) => {
                return Err(bad("SASL needs sasl_password or sasl_password_env".into()))
            }
        };
        put("sasl.mechanism", mechanism);
        put("sasl.username", user);
        put("sasl.password", password);
    }
    let tls_files = [
        ("ssl.ca.location", &s.ssl_ca_location),
        ("ssl.certificate.location", &s.ssl_certificate_location),
        ("ssl.key.location", &s.ssl_key_location),
    ];
    for (key, path) in tls_files {
        let Some(path) = path else { continue };
        if !ssl {
            return Err(bad(format!("`{key}` needs protocol ssl or sasl_ssl")));
        }
        if !path.is_file() {
            return Err(bad(format!("`{key}`: {} is not a file", path.display())));
        }
        put(key, path.display().to_string());
    }
    if let Some(p) = &s.ssl_key_password {
        put("ssl.key.password", p.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<StreamConfig, StreamError> {
        StreamConfig::from_toml(text, Path::new("talon.toml"))
    }

    #[test]
    fn defaults_fill_in_and_flags_override_the_file() {
        let text = "[other]\nx = 1\n[stream]\nbrokers = \"127.0.0.1:1\"\ntopics = [\"a\"]\ngroup = \"g\"\n";
        let file = match parse(text) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(file.group.as_deref(), Some("g"));
        let flags = StreamConfig {
            group: Some("h".into()),
            topics: vec!["b".into(), "c".into()],
            ..StreamConfig::default()
        };
        let s = match file.overridden_by(flags).resolve() {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(s.brokers, "127.0.0.1:1");
        assert_eq!(s.group, "h");
        assert_eq!(s.topics, vec!["b".to_string(), "c".to_string()]);
        assert_eq!(s.alerts_topic, "talon-alerts");
        assert_eq!(s.partition_key, "host.id");
        assert_eq!(s.commit_interval, Duration::from_millis(500));
        assert_eq!(s.reorder_window, Duration::from_secs(60));
        assert!(s.metrics.is_none());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported() {
        let e = parse("[stream]\nbroker = \"x\"\n")
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            matches!(&e, Err(m) if m.contains("unknown field `broker`")),
            "{e:?}"
        );

        let base = || StreamConfig {
            brokers: Some("127.0.0.1:1".into()),
            topics: vec!["ev".into()],
            ..StreamConfig::default()
        };
        let msg = |c: StreamConfig| c.resolve().map(|_| ()).map_err(|e| e.to_string());
        let e = msg(StreamConfig {
            metrics: Some("0.0.0.0:9464".into()),
            ..base()
        });
        assert!(
            matches!(&e, Err(m) if m.contains("not a loopback address")),
            "{e:?}"
        );
        let e = msg(StreamConfig {
            alerts_topic: Some("ev".into()),
            ..base()
        });
        assert!(
            matches!(&e, Err(m) if m.contains("both an event topic")),
            "{e:?}"
        );
        let mut c = base();
        c.librdkafka
            .insert("enable.auto.commit".into(), "true".into());
        let e = msg(c);
        assert!(
            matches!(&e, Err(m) if m.contains("may not set `enable.auto.commit`")),
            "{e:?}"
        );
        let mut c = base();
        c.security.sasl_username = Some("u".into());
        let e = msg(c);
        assert!(
            matches!(&e, Err(m) if m.contains("need protocol sasl")),
            "{e:?}"
        );
        let e = msg(StreamConfig {
            topics: vec![],
            ..base()
        });
        assert!(
            matches!(&e, Err(m) if m.contains("no event topics")),
            "{e:?}"
        );
    }

    #[test]
    fn sasl_scram_maps_to_librdkafka_names() {
        let mut c = StreamConfig {
            brokers: Some("127.0.0.1:1".into()),
            topics: vec!["ev".into()],
            ..StreamConfig::default()
        };
        c.security = SecurityConfig {
            protocol: Some("SASL_PLAINTEXT".into()),
            sasl_mechanism: Some("SCRAM-SHA-512".into()),
            sasl_username: Some("talon".into()),
            sasl_password: Some("secret".into()),
            ..SecurityConfig::default()
        };
        let props = c
            .resolve()
            .map(|s| s.client_properties)
            .map_err(|e| e.to_string());
        let want: Vec<(String, String)> = [
            ("security.protocol", "sasl_plaintext"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "talon"),
            ("sasl.password", "secret"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(props, Ok(want));
    }
}
