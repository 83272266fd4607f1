//! SentinelOne Cloud Funnel: ProcessCreation maps the way Elastic's
//! integration maps it (process ← tgt, parent ← src, `event.action:
//! ["start"]`, Windows-rule argv), checked field by field against the
//! integration's own expected output; the seed rule fires on a Linux
//! IP-forwarding creation.

mod common;

use common::{assert_fires, run_file, run_text, strs};
use talon_event::{Fields, Value};
use talon_sources::Source;

/// Written for this test in Cloud Funnel's raw layout (flat dotted keys):
/// bash on a Linux server creating `sysctl -w net.ipv4.ip_forward=1`,
/// then a file event (not mapped).
const RAW: &str = concat!(
    r#"{"timestamp":"16:00:07.877","event.category":"process","event.type":"ProcessCreation","meta.event.name":"PROCESSCREATION","event.time":1718035207877,"event.id":"01J01F8Z3K9Q2W6X7Y8Z9A0B1C_17","trace.id":"01J01F8Z3K9Q2W6X7Y8Z9A0B1C","dataSource.name":"SentinelOne","dataSource.category":"security","i.scheme":"edr","endpoint.name":"web-01","endpoint.os":"linux","endpoint.type":"server","os.name":"Linux","agent.uuid":"a1b2c3d4e5f60718293a4b5c6d7e8f90","agent.version":"24.1.2.6","site.id":"1900000000000000001","account.id":"1800000000000000001","group.id":"1900000000000000002","src.process.pid":4100,"src.process.name":"bash","src.process.displayName":"bash","src.process.image.path":"/usr/bin/bash","src.process.cmdline":"-bash","src.process.uid":"3F1A2B3C4D5E6F70","src.process.user":"root","src.process.startTime":1718035200120,"src.process.image.sha1":"5f1b3f9ec0d3b8e7f4ef4a1a94b7f0a0d3c9c2a1","src.process.signedStatus":"unsigned","src.process.storyline.id":"A1B2C3D4E5F60718","src.process.parent.pid":4001,"src.process.parent.name":"sshd","src.process.parent.image.path":"/usr/sbin/sshd","src.process.parent.user":"root","tgt.process.pid":4242,"tgt.process.name":"sysctl","tgt.process.displayName":"sysctl","tgt.process.image.path":"/usr/sbin/sysctl","tgt.process.cmdline":"sysctl -w net.ipv4.ip_forward=1","tgt.process.uid":"7E8F90A1B2C3D4E5","tgt.process.user":"root","tgt.process.startTime":1718035207870,"tgt.process.image.sha256":"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae","tgt.process.signedStatus":"unsigned","tgt.process.storyline.id":"A1B2C3D4E5F60718"}"#,
    "\n",
    r#"{"timestamp":"16:00:08.001","event.category":"file","event.type":"File Modification","meta.event.name":"FILEMODIFICATION","event.time":1718035208001,"endpoint.name":"web-01","endpoint.os":"linux","src.process.pid":4242,"src.process.name":"sysctl","tgt.file.path":"/proc/sys/net/ipv4/ip_forward"}"#,
    "\n",
);

#[test]
fn linux_process_creation_fires_the_seed_rule() {
    let run = run_text(RAW, None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.stats.events), (2, 1));
    assert_eq!(
        run.stats.ignored_kinds.get("sentinelone File Modification"),
        Some(&1)
    );
    let e = &run.events[0];
    assert_eq!(
        e.index.as_deref(),
        Some("logs-sentinel_one_cloud_funnel.event-default")
    );
    assert_eq!(
        e.first_str("data_stream.dataset"),
        Some("sentinel_one_cloud_funnel.event")
    );
    assert_eq!(
        e.first_str("event.dataset"),
        Some("sentinel_one_cloud_funnel.event")
    );
    assert_eq!(e.first_str("@timestamp"), Some("2024-06-10T16:00:07.877Z"));
    assert_eq!(strs(e, "event.action"), ["start"]);
    assert_eq!(strs(e, "event.type"), ["start"]);
    assert_eq!(e.first_str("host.os.type"), Some("linux"));
    assert_eq!(e.first_str("host.hostname"), Some("web-01"));
    assert_eq!(e.first_str("process.name"), Some("sysctl"));
    assert_eq!(e.first_str("process.executable"), Some("/usr/sbin/sysctl"));
    assert_eq!(
        strs(e, "process.args"),
        ["sysctl", "-w", "net.ipv4.ip_forward=1"]
    );
    assert_eq!(strs(e, "process.pid"), ["4242"]);
    assert_eq!(
        e.first_str("process.start"),
        Some("2024-06-10T16:00:07.870Z")
    );
    assert_eq!(
        e.first_str("process.parent.executable"),
        Some("/usr/bin/bash")
    );
    assert_eq!(e.first_str("process.parent.name"), Some("bash"));
    assert_eq!(strs(e, "process.parent.pid"), ["4100"]);
    assert_eq!(strs(e, "process.parent.args"), ["-bash"]);
    assert_eq!(strs(e, "process.parent.code_signature.exists"), ["false"]);
    assert_eq!(e.first_str("user.name"), Some("root"));
    assert!(e.values("talon.enriched").is_empty());
    assert_fires(e, true);
}

#[test]
fn an_unknown_os_is_not_taken_for_linux() {
    let text = RAW
        .lines()
        .next()
        .unwrap()
        .replace(r#""endpoint.os":"linux""#, r#""endpoint.os":"unknown""#);
    let run = run_text(&text, Some(Source::SentinelOne));
    let e = &run.events[0];
    assert!(e.values("host.os.type").is_empty());
    assert_eq!(e.first_str("host.os.platform"), Some("unknown"));
    assert_fires(e, false);
}

/// Flattened leaves of a JSON text.
fn leaves(text: &str) -> Vec<(String, Vec<Value>)> {
    let e = talon_event::flatten::flatten(text).unwrap();
    let mut out: Vec<(String, Vec<Value>)> =
        e.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn matches_the_integrations_expected_output() {
    let Some(root) = common::corpora() else {
        return;
    };
    let dir = root.join("events/sentinel_one_cloud_funnel");
    let run = run_file(&dir.join("test-process.log"), None);
    assert!(run.issues.is_empty(), "{:?}", run.issues);
    assert_eq!((run.stats.records, run.events.len()), (1, 1));
    let ours = &run.events[0];

    let text = std::fs::read_to_string(dir.join("test-process.log-expected.json")).unwrap();
    let expected: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = expected["expected"][0].to_string();
    let mut compared = 0;
    for (path, values) in leaves(&expected) {
        // The integration's copies of raw keys, its test-config tags and
        // the original text are not reproduced.
        if path.starts_with("sentinel_one_cloud_funnel.")
            || path == "tags"
            || path == "event.original"
        {
            continue;
        }
        assert_eq!(ours.values(&path), values.as_slice(), "{path}");
        compared += 1;
    }
    assert_eq!(compared, 48, "every ECS field of the expected document");
    // The Windows argv rules keep the backslashes a shell split would eat.
    assert_eq!(
        strs(ours, "process.parent.args"),
        [r"C:\ProgramFiles(x86)\Microsoft\important_stuff\stuff.EXE\"]
    );
    // A Windows host: the Linux rule must not fire.
    assert_fires(ours, false);
}
