//! Reading checkpoints back from a real broker's changelog topic.

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::broker::Broker;
use talon_stream::changelog::{RestoreContext, Restorer};
use talon_stream::offsets::Tp;
use talon_stream::rdkafka::config::ClientConfig;
use talon_stream::rdkafka::consumer::BaseConsumer;

fn tp(topic: &str, partition: i32) -> Tp {
    Tp {
        topic: Arc::from(topic),
        partition,
    }
}

fn through(r: &Restorer, tp: &Tp) -> Option<i64> {
    r.latest(tp)
        .unwrap_or_else(|e| panic!("restore {tp}: {e}"))
        .map(|cp| cp.through)
}

/// Two partitions whose checkpoints share one changelog partition (as
/// `ecs/2` and `talon-repartition/2` do) are restored one after the other
/// when a worker takes both over. The end of the first read must not end
/// the second before it starts.
#[test]
fn partitions_sharing_a_changelog_partition_restore_one_after_the_other() {
    let Some(broker) = Broker::start("changelog") else {
        return;
    };
    broker.create_topic("talon-changelog", 2, &["cleanup.policy=compact"]);
    let p = broker.producer();
    let checkpoint = |through: i64| format!("{{\"v\":1,\"through\":{through},\"rules\":{{}}}}");
    for (key, part, through) in [
        ("ecs/2", 0, 10),
        ("talon-repartition/2", 0, 20),
        ("ecs/2", 0, 11),
        ("ecs/3", 1, 30),
        ("talon-repartition/3", 1, 40),
    ] {
        p.send(
            "talon-changelog",
            key,
            checkpoint(through).as_bytes(),
            Some(part),
        );
    }
    p.flush();

    let consumer: BaseConsumer<RestoreContext> = ClientConfig::new()
        .set("bootstrap.servers", broker.addr())
        .set("group.id", "changelog-test.restore")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .create_with_context(RestoreContext)
        .expect("restore consumer");
    let r = Restorer::new(consumer, "talon-changelog").expect("restorer");
    // Rounds, as rebalances hand the same partitions over again; each
    // restore follows the last without a pause.
    let order = [
        (tp("ecs", 3), Some(30)),
        (tp("talon-repartition", 3), Some(40)),
        (tp("ecs", 2), Some(11)),
        (tp("ecs", 1), None),
        (tp("talon-repartition", 2), Some(20)),
        (tp("ecs", 0), None),
    ];
    for round in 0..3 {
        for (tp, want) in &order {
            assert_eq!(through(&r, tp), *want, "round {round}: {tp}");
        }
    }
    // Nothing is left to confuse a restore that comes much later.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(through(&r, &tp("talon-repartition", 2)), Some(20));
}
