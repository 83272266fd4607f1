//! A real Kafka-protocol broker for the tests: `nisshi`, started on a free
//! loopback port, stopped (SIGTERM, then SIGKILL) when dropped, plus the
//! few client calls the tests make against it.
//!
//! The binary is `$NISSHI`, else `.tools/bin/nisshi` at the top of the
//! checkout, else `bin/nisshi` under `$TALON_TOOLS` / `~/.cache/talon-tools`
//! (where `.ci/kafka.sh` installs it). Without it the tests say `skipped:`
//! and pass.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use talon_stream::rdkafka::config::ClientConfig;
use talon_stream::rdkafka::consumer::{BaseConsumer, Consumer};
use talon_stream::rdkafka::error::KafkaError;
use talon_stream::rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use talon_stream::rdkafka::{Message, Offset, TopicPartitionList};

/// The test reader asks for partition ends; they are not errors to log.
pub struct Quiet;

impl talon_stream::rdkafka::client::ClientContext for Quiet {
    fn error(&self, _error: KafkaError, _reason: &str) {}
}

impl talon_stream::rdkafka::consumer::ConsumerContext for Quiet {}

/// Where nisshi is, if anywhere.
pub fn nisshi_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NISSHI") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let top = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let local = top.join(".tools/bin/nisshi");
    // Where .ci/kafka.sh installs it once per machine.
    let cache = std::env::var_os("TALON_TOOLS")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME").map(|c| PathBuf::from(c).join("talon-tools"))
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/talon-tools")))
        .map(|d| d.join("bin/nisshi"));
    [Some(local), cache]
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
}

/// One broker test at a time per test binary: two brokers and their
/// workers on two cores would starve the group's heartbeats.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A running broker.
pub struct Broker {
    _turn: MutexGuard<'static, ()>,
    child: Child,
    bin: PathBuf,
    pub port: u16,
    log: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

impl Broker {
    /// Starts a broker, or returns `None` (after saying why) when nisshi is
    /// not installed.
    pub fn start(test: &str) -> Option<Broker> {
        let Some(bin) = nisshi_path() else {
            eprintln!(
                "skipped: {test}: nisshi not found (set $NISSHI or run .ci/kafka.sh to install \
                 it into ~/.cache/talon-tools)"
            );
            return None;
        };
        // A test that failed while holding the turn poisoned it; the next
        // one may still run.
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
        let port = free_port();
        assert_ne!(port, 0, "no free loopback port");
        let url = format!("tcp://127.0.0.1:{port}");
        let log = std::env::temp_dir().join(format!("nisshi-{test}-{port}.log"));
        let out = std::fs::File::create(&log).expect("broker log file");
        let err = out.try_clone().expect("broker log file");
        let child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://nisshi/"])
            .args(["--group-initial-rebalance-delay", "500ms"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("start nisshi");
        let broker = Broker {
            _turn: turn,
            child,
            bin,
            port,
            log,
        };
        broker.wait_ready();
        Some(broker)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "nisshi did not listen on {} within 20 s; log: {}",
            self.port,
            self.log.display()
        );
    }

    /// `127.0.0.1:PORT`, for clients.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn create_topic(&self, name: &str, partitions: u32, config: &[&str]) {
        let mut cmd = Command::new(&self.bin);
        cmd.args([
            "topic",
            "create",
            "--broker",
            &format!("tcp://127.0.0.1:{}", self.port),
            name,
        ]);
        cmd.args(["--partitions", &partitions.to_string()]);
        for c in config {
            cmd.args(["--config", c]);
        }
        let out = cmd.output().expect("nisshi topic create");
        assert!(
            out.status.success(),
            "topic create {name}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The topics a worker needs, with `partitions` partitions each (the
    /// dead-letter topic gets one).
    pub fn create_worker_topics(&self, events: &str, partitions: u32) {
        self.create_topic(events, partitions, &[]);
        self.create_topic("talon-alerts", partitions, &[]);
        self.create_topic("talon-dead-letters", 1, &[]);
        self.create_topic("talon-repartition", partitions, &[]);
        self.create_topic("talon-changelog", partitions, &["cleanup.policy=compact"]);
    }

    fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", self.addr());
        c
    }

    pub fn producer(&self) -> Producer_ {
        let p: BaseProducer = self
            .client()
            .set("linger.ms", "5")
            .create()
            .expect("test producer");
        Producer_(p)
    }

    /// Every record of a topic, by partition then offset: (partition,
    /// key, payload).
    pub fn read_all(&self, topic: &str) -> Vec<(i32, String, String)> {
        let c: BaseConsumer<Quiet> = self
            .client()
            .set("group.id", "talon-test-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create_with_context(Quiet)
            .expect("test reader");
        let highs = self.high_watermarks(&c, topic);
        let mut tpl = TopicPartitionList::new();
        let mut left = 0;
        for (&p, &high) in &highs {
            if high > 0 {
                tpl.add_partition_offset(topic, p, Offset::Beginning)
                    .expect("tpl");
                left += 1;
            }
        }
        let mut out = Vec::new();
        if left == 0 {
            return out;
        }
        c.assign(&tpl).expect("assign");
        let deadline = Instant::now() + Duration::from_secs(60);
        while left > 0 && Instant::now() < deadline {
            match c.poll(Duration::from_millis(200)) {
                None => {}
                Some(Err(KafkaError::PartitionEOF(_))) => left -= 1,
                Some(Err(e)) => panic!("reading {topic}: {e}"),
                Some(Ok(m)) => {
                    let key = m
                        .key()
                        .map(|k| String::from_utf8_lossy(k).into_owned())
                        .unwrap_or_default();
                    let val = m
                        .payload()
                        .map(|v| String::from_utf8_lossy(v).into_owned())
                        .unwrap_or_default();
                    out.push((m.partition(), key, val));
                }
            }
        }
        assert_eq!(left, 0, "reading {topic} timed out");
        out
    }

    fn high_watermarks<C: talon_stream::rdkafka::consumer::ConsumerContext>(
        &self,
        c: &BaseConsumer<C>,
        topic: &str,
    ) -> BTreeMap<i32, i64> {
        let meta = c
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        let parts: Vec<i32> = meta
            .topics()
            .iter()
            .filter(|t| t.name() == topic)
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        parts
            .into_iter()
            .map(|p| {
                let (_, high) = c
                    .fetch_watermarks(topic, p, Duration::from_secs(10))
                    .expect("watermarks");
                (p, high)
            })
            .collect()
    }

    /// Per partition of `topic`: its high watermark, and how many records
    /// a fresh reader gets from it. The two differ when the broker reports
    /// records it does not serve.
    pub fn readable(&self, topic: &str) -> String {
        let c: BaseConsumer = self.client().create().expect("client");
        let highs = self.high_watermarks(&c, topic);
        let mut read: BTreeMap<i32, i64> = BTreeMap::new();
        for (p, _, _) in self.read_all(topic) {
            *read.entry(p).or_default() += 1;
        }
        highs
            .iter()
            .map(|(p, high)| {
                let n = read.get(p).copied().unwrap_or(0);
                format!("{topic}/{p}: high {high}, {n} readable")
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Records in a topic, over all partitions.
    pub fn count(&self, topic: &str) -> i64 {
        let c: BaseConsumer = self.client().create().expect("client");
        self.high_watermarks(&c, topic).values().sum()
    }

    /// Whether `group` has committed every partition of `topic` up to its
    /// end.
    pub fn group_caught_up(&self, group: &str, topic: &str) -> bool {
        self.group_behind(group, topic).is_empty()
    }

    /// The partitions of `topic` whose committed position (for `group`) is
    /// short of the end, as `topic/partition committed<high` (or why the
    /// positions could not be read).
    pub fn group_behind(&self, group: &str, topic: &str) -> Vec<String> {
        let c: BaseConsumer = self
            .client()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .expect("client");
        let highs = self.high_watermarks(&c, topic);
        let mut tpl = TopicPartitionList::new();
        for &p in highs.keys() {
            tpl.add_partition(topic, p);
        }
        let committed = match c.committed_offsets(tpl, Duration::from_secs(10)) {
            Ok(c) => c,
            Err(e) => return vec![format!("{topic}: committed offsets unreadable: {e}")],
        };
        highs
            .iter()
            .filter_map(|(&p, &high)| {
                let pos = committed
                    .find_partition(topic, p)
                    .and_then(|e| match e.offset() {
                        Offset::Offset(o) => Some(o),
                        _ => None,
                    })
                    .unwrap_or(0);
                (pos < high).then(|| format!("{topic}/{p} {pos}<{high}"))
            })
            .collect()
    }

    /// The broker's log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_file(&self.log);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A producer for test events.
pub struct Producer_(BaseProducer);

impl Producer_ {
    /// Sends one record (to `partition` when given, else by key).
    pub fn send(&self, topic: &str, key: &str, payload: &[u8], partition: Option<i32>) {
        let mut rec = BaseRecord::to(topic).key(key).payload(payload);
        if let Some(p) = partition {
            rec = rec.partition(p);
        }
        let mut rec = rec;
        for _ in 0..1000 {
            match self.0.send(rec) {
                Ok(()) => return,
                Err((_, back)) => {
                    rec = back;
                    self.0.poll(Duration::from_millis(10));
                }
            }
        }
        panic!("producer queue stayed full");
    }

    /// Waits until everything sent is acknowledged.
    pub fn flush(&self) {
        self.0
            .flush(Duration::from_secs(30))
            .expect("flush test producer");
    }
}
