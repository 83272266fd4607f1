//! Background Windows activity as Elastic Defend records it: process
//! starts with signer and PE details, registry changes, file writes,
//! network connections and DNS lookups.

use crate::ecs::{document, write_user, EventMeta, Proc};
use crate::fleet::{event_id, Host};
use crate::linux::write_file;
use crate::rng::Rng;
use crate::template::{argv, fill, remote_ip};

/// Who usually starts a program, so parent-child pairs look like a normal
/// estate rather than tripping "unusual parent" rules at random.
#[derive(Clone, Copy)]
enum Parent {
    Explorer = 0,
    Services = 1,
    DcomLaunch = 2,
    Cmd = 3,
    PowerShell = 4,
    SearchIndexer = 5,
}

/// Parent, code-signing subject, executable, then argv; `{user}` is the
/// account the process runs as.
#[rustfmt::skip]
const COMMANDS: &[(Parent, &str, &[&str])] = &[
    (Parent::Services, MS_WINDOWS, &["C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe", "-k", "netsvcs", "-p", "-s", "{winsvc}"]),
    (Parent::DcomLaunch, MS_WINDOWS, &["C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", "powershell.exe", "-NoProfile", "-ExecutionPolicy", "RemoteSigned", "-File", "C:\\Scripts\\{ps1}.ps1"]),
    (Parent::Explorer, MS_WINDOWS, &["C:\\Windows\\System32\\cmd.exe", "C:\\Windows\\system32\\cmd.exe", "/c", "dir /s /b C:\\Users\\{user}\\Documents > NUL"]),
    (Parent::Cmd, MS_WINDOWS, &["C:\\Windows\\System32\\conhost.exe", "\\??\\C:\\Windows\\system32\\conhost.exe", "0xffffffff", "-ForceV1"]),
    (Parent::Explorer, MS_CORP, &["C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "\"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe\"", "--type=renderer", "--lang=en-US", "--renderer-client-id={n}"]),
    (Parent::Explorer, MS_CORP, &["C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "\"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE\""]),
    (Parent::DcomLaunch, MS_WINDOWS, &["C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe", "{hex}"]),
    (Parent::Cmd, MS_WINDOWS, &["C:\\Windows\\System32\\gpupdate.exe", "gpupdate.exe", "/target:computer"]),
    (Parent::Cmd, MS_WINDOWS, &["C:\\Windows\\System32\\sc.exe", "sc.exe", "query", "{winsvc}"]),
    (Parent::Cmd, MS_WINDOWS, &["C:\\Windows\\System32\\whoami.exe", "whoami.exe", "/groups"]),
    (Parent::Cmd, MS_WINDOWS, &["C:\\Windows\\System32\\ipconfig.exe", "ipconfig.exe", "/all"]),
    (Parent::Cmd, MS_WINDOWS, &["C:\\Windows\\System32\\net.exe", "net.exe", "use", "Z:", "\\\\SRV-FILE-01\\{app}"]),
    (Parent::PowerShell, "Johannes Schindelin", &["C:\\Program Files\\Git\\cmd\\git.exe", "git.exe", "fetch", "--prune", "origin"]),
    (Parent::Services, MS_WINDOWS, &["C:\\Windows\\System32\\msiexec.exe", "C:\\Windows\\system32\\msiexec.exe", "/V"]),
    (Parent::DcomLaunch, MS_WINDOWS, &["C:\\Windows\\System32\\wbem\\WmiPrvSE.exe", "C:\\Windows\\system32\\wbem\\wmiprvse.exe", "-secured", "-Embedding"]),
    (Parent::Explorer, "Google LLC", &["C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "\"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe\""]),
    (Parent::SearchIndexer, MS_WINDOWS, &["C:\\Windows\\System32\\SearchProtocolHost.exe", "SearchProtocolHost.exe", "Global\\UsGthrFltPipeMssGthrPipe{n}"]),
];

const MS_WINDOWS: &str = "Microsoft Windows";
const MS_CORP: &str = "Microsoft Corporation";

/// Indexed by [`Parent`].
#[rustfmt::skip]
const PARENTS: &[(&str, &[&str])] = &[
    ("C:\\Windows\\explorer.exe", &["C:\\Windows\\Explorer.EXE"]),
    ("C:\\Windows\\System32\\services.exe", &["C:\\Windows\\system32\\services.exe"]),
    ("C:\\Windows\\System32\\svchost.exe", &["C:\\Windows\\system32\\svchost.exe", "-k", "DcomLaunch", "-p"]),
    ("C:\\Windows\\System32\\cmd.exe", &["C:\\Windows\\system32\\cmd.exe"]),
    ("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", &["powershell.exe", "-NoLogo"]),
    ("C:\\Windows\\System32\\SearchIndexer.exe", &["C:\\Windows\\system32\\SearchIndexer.exe", "/Embedding"]),
];

/// A random parent, for the activity (files, registry, network) any of
/// them may cause.
fn parent(rng: &mut Rng, host: &mut Host, now: u64) -> Proc {
    let which = rng.below(PARENTS.len() as u64) as usize;
    parent_of(rng, host, now, which)
}

/// The long-lived process `which` (an index into [`PARENTS`]), reused for
/// a while so that siblings share it.
fn parent_of(rng: &mut Rng, host: &mut Host, now: u64, which: usize) -> Proc {
    if host.parents.len() < PARENTS.len() {
        host.parents.resize(PARENTS.len(), None);
    }
    if let Some(p) = &host.parents[which] {
        if !rng.percent(2) {
            return p.clone();
        }
    }
    let (exe, args) = PARENTS[which];
    let args = args.iter().map(|a| (*a).to_string()).collect();
    let started = now.saturating_sub(rng.range(10_000, 8 * 3_600_000));
    let p = Proc::new(host, exe, args, started, "C:\\Windows\\system32\\");
    host.parents[which] = Some(p.clone());
    p
}

pub fn background_process(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let (starter, signer, template) = rng.pick(COMMANDS);
    let parent = parent_of(rng, host, ts, starter as usize);
    let (exe, args) = argv(rng, template, &user.name);
    let proc = Proc::new(host, &exe, args, ts, "C:\\Windows\\system32\\");
    let end = rng.percent(20);
    let meta = EventMeta {
        dataset: "endpoint.events.process",
        action: if end { "end" } else { "start" },
        category: "process",
        types: if end { &["end"] } else { &["start"] },
        id: event_id(rng),
        sequence: seq,
    };
    document(out, host, ts, &meta, |o| {
        o.str("message", "Endpoint process event");
        o.obj("process", |p| {
            proc.write(p);
            p.obj("code_signature", |c| {
                c.str("subject_name", signer).bool("trusted", true);
            })
            .obj("parent", |pp| parent.write_parent(pp))
            .obj("pe", |pe| {
                pe.str("original_file_name", &proc.name.to_ascii_uppercase());
            });
        });
        write_user(o, &user);
    });
}

#[rustfmt::skip]
const REGISTRY_KEYS: &[(&str, &str, &str)] = &[
    ("HKLM", "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update", "LastOnlineScanTimeForAppCategory"),
    ("HKLM", "SYSTEM\\ControlSet001\\Services\\{winsvc}", "Start"),
    ("HKU", "{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs", "MRUListEx"),
    ("HKU", "{sid}\\Software\\Microsoft\\Office\\16.0\\Outlook\\Profiles\\Outlook", "Default"),
    ("HKLM", "SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates", "SignaturesLastUpdated"),
    ("HKLM", "SYSTEM\\ControlSet001\\Services\\bam\\State\\UserSettings\\{sid}", "\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe"),
];

pub fn background_registry(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let parent = parent(rng, host, ts);
    let (hive, key, value) = rng.pick(REGISTRY_KEYS);
    let key = fill(rng, &key.replace("{sid}", &user.id), &user.name);
    let full_hive = if hive == "HKLM" {
        "HKEY_LOCAL_MACHINE"
    } else {
        "HKEY_USERS"
    };
    let path = format!("{full_hive}\\{key}\\{value}");
    let data = rng.range(0, 4_000_000_000).to_string();
    let meta = EventMeta {
        dataset: "endpoint.events.registry",
        action: "modification",
        category: "registry",
        types: &["change"],
        id: event_id(rng),
        sequence: seq,
    };
    document(out, host, ts, &meta, |o| {
        o.str("message", "Endpoint registry event")
            .obj("process", |p| parent.write_brief(p))
            .obj("registry", |r| {
                r.obj("data", |d| {
                    d.strs("strings", &[&data]).str("type", "REG_DWORD");
                })
                .str("hive", hive)
                .str("key", &key)
                .str("path", &path)
                .str("value", value);
            });
        write_user(o, &user);
    });
}

#[rustfmt::skip]
const FILE_PATHS: &[&str] = &[
    "C:\\Users\\{user}\\AppData\\Local\\Temp\\{hex}.tmp",
    "C:\\Users\\{user}\\Downloads\\{app}-report-{n}.xlsx",
    "C:\\Windows\\Prefetch\\{app}.EXE-{hex}.pf",
    "C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\{hex}.log",
    "C:\\Users\\{user}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\{app}.lnk",
];

pub fn background_file(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let parent = parent(rng, host, ts);
    let template: &str = rng.pick(FILE_PATHS);
    let path = fill(rng, template, &user.name);
    let (action, ty) = rng.pick(&[
        ("creation", "creation"),
        ("overwrite", "change"),
        ("deletion", "deletion"),
    ]);
    let meta = EventMeta {
        dataset: "endpoint.events.file",
        action,
        category: "file",
        types: &[ty],
        id: event_id(rng),
        sequence: seq,
    };
    document(out, host, ts, &meta, |o| {
        write_file(o, &path, '\\');
        o.str("message", "Endpoint file event");
        o.obj("process", |p| parent.write_brief(p));
        write_user(o, &user);
    });
}

pub fn background_network(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let parent = parent(rng, host, ts);
    let local = host.ips[0].clone();
    let remote = remote_ip(rng);
    let port = rng.pick(&[443u64, 443, 443, 80, 445, 389, 135]);
    let meta = EventMeta {
        dataset: "endpoint.events.network",
        action: "connection_attempted",
        category: "network",
        types: &["start"],
        id: event_id(rng),
        sequence: seq,
    };
    let sport = rng.range(49_152, 65_535);
    document(out, host, ts, &meta, |o| {
        o.obj("destination", |d| {
            d.str("address", &remote)
                .str("ip", &remote)
                .num("port", port);
        })
        .str("message", "Endpoint network event")
        .obj("network", |n| {
            n.str("direction", "egress")
                .str("transport", "tcp")
                .str("type", "ipv4");
        })
        .obj("process", |p| parent.write_brief(p))
        .obj("source", |s| {
            s.str("address", &local)
                .str("ip", &local)
                .num("port", sport);
        });
        write_user(o, &user);
    });
}

pub fn background_dns(out: &mut Vec<u8>, rng: &mut Rng, host: &mut Host, ts: u64, seq: u64) {
    let user = rng.pick_ref(&host.users).clone();
    let parent = parent(rng, host, ts);
    let name = fill(rng, "{domain}", &user.name);
    let answers: Vec<String> = (0..rng.range(1, 3)).map(|_| remote_ip(rng)).collect();
    let meta = EventMeta {
        dataset: "endpoint.events.network",
        action: "lookup_result",
        category: "network",
        types: &["protocol", "info"],
        id: event_id(rng),
        sequence: seq,
    };
    document(out, host, ts, &meta, |o| {
        o.obj("dns", |d| {
            d.obj("question", |q| {
                q.str("name", &name).str("type", "A");
            })
            .strs("resolved_ip", &answers);
        })
        .str("message", "Endpoint DNS event")
        .obj("network", |n| {
            n.str("protocol", "dns");
        })
        .obj("process", |p| parent.write_brief(p));
        write_user(o, &user);
    });
}
