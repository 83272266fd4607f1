//! Merging the shards' findings back into one stream, in input order.
//!
//! Each shard sends its messages in (input position, rule slot) order; the
//! merger always takes the smallest head among the shards, so alerts come
//! out as a single engine would have written them: event by event, and
//! for one event in rule order (event rules, then sequence rules). A shard
//! with nothing to say still sends progress now and then, so the others
//! are never held back for long. With one shard this is a pass-through.

use std::sync::mpsc::Receiver;

use super::shard::Msg;

/// Calls `on_alerts(slot, alerts)` in merged order and returns how many
/// distinct events matched an event rule of some shard.
pub(super) fn merge(
    shards: Vec<Receiver<Msg>>,
    mut on_alerts: impl FnMut(usize, Vec<talon_alert::Alert>),
) -> u64 {
    let mut heads: Vec<Option<Msg>> = shards.iter().map(|_| None).collect();
    let mut done = vec![false; shards.len()];
    let mut matched = 0u64;
    let mut last_matched: Option<u64> = None;
    loop {
        // Every shard still running must show its next message before the
        // smallest can be known.
        for (i, rx) in shards.iter().enumerate() {
            if heads[i].is_none() && !done[i] {
                match rx.recv() {
                    Ok(m) => heads[i] = Some(m),
                    Err(_) => done[i] = true,
                }
            }
        }
        let next = heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|m| (m.key(), i)))
            .min();
        let Some((_, i)) = next else {
            return matched;
        };
        match heads[i].take() {
            Some(Msg::Alerts { slot, alerts, .. }) => on_alerts(slot, alerts),
            Some(Msg::Matched(at)) => {
                if last_matched != Some(at) {
                    matched += 1;
                    last_matched = Some(at);
                }
            }
            Some(Msg::Progress(_)) | None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::sync_channel;

    #[test]
    fn messages_come_out_in_input_then_slot_order() {
        let (a_tx, a_rx) = sync_channel(16);
        let (b_tx, b_rx) = sync_channel(16);
        let alert = |at, slot| Msg::Alerts {
            at,
            slot,
            alerts: Vec::new(),
        };
        for m in [
            alert(1, 0),
            Msg::Matched(1),
            alert(5, 2),
            Msg::Matched(5),
            alert(u64::MAX, 4),
        ] {
            a_tx.send(m).unwrap();
        }
        for m in [
            alert(1, 1),
            Msg::Matched(1),
            Msg::Progress(3),
            alert(5, 3),
            alert(7, 1),
        ] {
            b_tx.send(m).unwrap();
        }
        drop((a_tx, b_tx));
        let mut order = Vec::new();
        let matched = merge(vec![a_rx, b_rx], |slot, _| order.push(slot));
        assert_eq!(order, [0, 1, 2, 3, 1, 4]);
        // Event 1 matched in both shards: one event.
        assert_eq!(matched, 2);
    }
}
