//! The worker's counters and gauges, and their Prometheus text rendering.
//!
//! Counters are atomics, so the metrics endpoint's thread reads them
//! without stopping the worker; the per-partition lag table is the only
//! lock, taken once per librdkafka statistics report and once per scrape.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Everything `/metrics` shows.
#[derive(Debug)]
pub struct Metrics {
    pub events: AtomicU64,
    pub alerts_produced: AtomicU64,
    pub alerts_acked: AtomicU64,
    pub dead_letters: AtomicU64,
    pub repartitioned: AtomicU64,
    pub checkpoints: AtomicU64,
    pub restored_partitions: AtomicU64,
    pub commits: AtomicU64,
    pub errors: AtomicU64,
    /// Sequences waiting for their next event, over all owned partitions.
    pub pending_sequences: AtomicI64,
    /// Over the sequence states this worker holds: events kept to rebuild
    /// them, events that came too late to be matched, events dropped at a
    /// cap (matcher in-flight cap, or the checkpoint's size).
    pub sequence_events_kept: AtomicI64,
    pub sequence_late_events: AtomicI64,
    pub sequence_evicted: AtomicI64,
    /// Partitions this worker owns (event and repartition topics).
    pub assigned_partitions: AtomicI64,
    /// Records sent (alerts, dead letters, forwarded events, checkpoints)
    /// and not yet acknowledged by the broker.
    pub records_in_flight: AtomicI64,
    /// Events per second over the last tick, in thousandths.
    events_per_second_milli: AtomicU64,
    lag: Mutex<BTreeMap<(String, i32), i64>>,
    rate: Mutex<(Instant, u64)>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            events: AtomicU64::new(0),
            alerts_produced: AtomicU64::new(0),
            alerts_acked: AtomicU64::new(0),
            dead_letters: AtomicU64::new(0),
            repartitioned: AtomicU64::new(0),
            checkpoints: AtomicU64::new(0),
            restored_partitions: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            pending_sequences: AtomicI64::new(0),
            sequence_events_kept: AtomicI64::new(0),
            sequence_late_events: AtomicI64::new(0),
            sequence_evicted: AtomicI64::new(0),
            assigned_partitions: AtomicI64::new(0),
            records_in_flight: AtomicI64::new(0),
            events_per_second_milli: AtomicU64::new(0),
            lag: Mutex::new(BTreeMap::new()),
            rate: Mutex::new((Instant::now(), 0)),
        }
    }
}

/// Adds one to a counter.
pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// Recomputes events/s from the events counted since the last tick.
    pub fn tick(&self) {
        let now = Instant::now();
        let events = self.events.load(Ordering::Relaxed);
        let Ok(mut last) = self.rate.lock() else {
            return;
        };
        let secs = now.duration_since(last.0).as_secs_f64();
        if secs < 0.5 {
            return;
        }
        let rate = events.saturating_sub(last.1) as f64 / secs;
        self.events_per_second_milli
            .store((rate * 1000.0) as u64, Ordering::Relaxed);
        *last = (now, events);
    }

    /// Replaces the lag of the partitions this worker owns.
    pub fn set_lag(&self, lag: BTreeMap<(String, i32), i64>) {
        if let Ok(mut table) = self.lag.lock() {
            *table = lag;
        }
    }

    pub fn lag(&self) -> BTreeMap<(String, i32), i64> {
        self.lag.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let counters: [(&str, &str, &AtomicU64); 9] = [
            (
                "events",
                "Events consumed (event topics and repartition topic).",
                &self.events,
            ),
            (
                "alerts_produced",
                "Alerts handed to the producer.",
                &self.alerts_produced,
            ),
            (
                "alerts_acked",
                "Alerts the broker acknowledged.",
                &self.alerts_acked,
            ),
            (
                "dead_letters",
                "Malformed messages sent to the dead-letter topic.",
                &self.dead_letters,
            ),
            (
                "repartitioned",
                "Events forwarded to the repartition topic.",
                &self.repartitioned,
            ),
            (
                "checkpoints",
                "Sequence-state checkpoints acknowledged.",
                &self.checkpoints,
            ),
            (
                "restored_partitions",
                "Partitions whose sequence state was restored.",
                &self.restored_partitions,
            ),
            ("commits", "Offset commits sent.", &self.commits),
            (
                "errors",
                "Errors: failed deliveries, failed commits, client errors.",
                &self.errors,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP talon_stream_{name}_total {help}");
            let _ = writeln!(out, "# TYPE talon_stream_{name}_total counter");
            let _ = writeln!(
                out,
                "talon_stream_{name}_total {}",
                value.load(Ordering::Relaxed)
            );
        }
        let rate = self.events_per_second_milli.load(Ordering::Relaxed) as f64 / 1000.0;
        let _ = writeln!(
            out,
            "# HELP talon_stream_events_per_second Events per second, last interval."
        );
        let _ = writeln!(out, "# TYPE talon_stream_events_per_second gauge");
        let _ = writeln!(out, "talon_stream_events_per_second {rate:.3}");
        let pending = self.pending_sequences.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP talon_stream_pending_sequences Sequences waiting for their next event."
        );
        let _ = writeln!(out, "# TYPE talon_stream_pending_sequences gauge");
        let _ = writeln!(out, "talon_stream_pending_sequences {pending}");
        let gauges: [(&str, &str, &AtomicI64); 4] = [
            (
                "sequence_events_kept",
                "Events kept to rebuild the sequence state of owned partitions.",
                &self.sequence_events_kept,
            ),
            (
                "sequence_late_events",
                "Events that came later than the re-ordering window and were not matched.",
                &self.sequence_late_events,
            ),
            (
                "sequence_evicted",
                "Sequence events dropped at a cap (in-flight sequences, checkpoint size).",
                &self.sequence_evicted,
            ),
            (
                "records_in_flight",
                "Records sent and not yet acknowledged by the broker.",
                &self.records_in_flight,
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(out, "# HELP talon_stream_{name} {help}");
            let _ = writeln!(out, "# TYPE talon_stream_{name} gauge");
            let _ = writeln!(out, "talon_stream_{name} {}", value.load(Ordering::Relaxed));
        }
        let assigned = self.assigned_partitions.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP talon_stream_assigned_partitions Partitions this worker owns."
        );
        let _ = writeln!(out, "# TYPE talon_stream_assigned_partitions gauge");
        let _ = writeln!(out, "talon_stream_assigned_partitions {assigned}");
        let _ = writeln!(
            out,
            "# HELP talon_stream_consumer_lag Messages not yet consumed, per owned partition."
        );
        let _ = writeln!(out, "# TYPE talon_stream_consumer_lag gauge");
        for ((topic, partition), lag) in self.lag() {
            let topic = topic.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                out,
                "talon_stream_consumer_lag{{topic=\"{topic}\",partition=\"{partition}\"}} {lag}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_lag_in_prometheus_text() {
        let m = Metrics::default();
        inc(&m.events);
        inc(&m.events);
        inc(&m.dead_letters);
        m.set_lag(BTreeMap::from([(("ev\"x".to_string(), 3), 42)]));
        let text = m.render();
        assert!(text.contains("\ntalon_stream_events_total 2\n"), "{text}");
        assert!(
            text.contains("\ntalon_stream_dead_letters_total 1\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE talon_stream_alerts_acked_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("talon_stream_consumer_lag{topic=\"ev\\\"x\",partition=\"3\"} 42\n"),
            "{text}"
        );
    }
}
