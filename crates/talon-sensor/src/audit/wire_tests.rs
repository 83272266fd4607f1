//! The audit wire format against layouts worked out by hand from
//! `<linux/audit.h>` and `<linux/netlink.h>`, and against records as a
//! 6.18 kernel multicast them.

use super::*;

/// A native-endian u32, as the kernel lays it out.
fn ne(v: u32) -> [u8; 4] {
    v.to_ne_bytes()
}

/// One message as the kernel sends it: header with the true length.
fn datagram(ty: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend_from_slice(&ne((NLMSG_HDRLEN + payload.len()) as u32));
    d.extend_from_slice(&ty.to_ne_bytes());
    d.extend_from_slice(&0u16.to_ne_bytes());
    d.extend_from_slice(&ne(seq));
    d.extend_from_slice(&ne(0));
    d.extend_from_slice(payload);
    d
}

const SYSCALL: &str = "audit(1796350699.337:37): arch=c000003e syscall=59 success=yes exit=0 \
    a0=7fa448b4c7c0 a1=7fa448588710 a2=7ffe3d5260d0 a3=8 items=2 ppid=16746 pid=16790 \
    auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) \
    ses=4294967295 comm=\"sh\" exe=\"/usr/bin/dash\" key=\"talon-watch-16746\"";

#[test]
fn struct_sizes_follow_the_header() {
    // flags, action, field_count: 3 words; mask[AUDIT_BITMASK_SIZE]: 64;
    // fields, values, fieldflags[AUDIT_MAX_FIELDS]: 3 x 64; buflen: 1.
    assert_eq!(RULE_DATA_LEN, (3 + 64 + 3 * 64 + 1) * 4);
    assert_eq!(RULE_DATA_LEN, 1040);
    // mask … backlog_wait_time_actual: 11 __u32.
    assert_eq!(STATUS_LEN, 44);
}

#[cfg(target_arch = "x86_64")]
#[test]
fn native_arch_is_audit_arch_x86_64() {
    // AUDIT_ARCH_X86_64 = EM_X86_64 (62) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
    let arch = Arch::native().unwrap();
    assert_eq!(arch.audit_arch, 62 | 0x8000_0000 | 0x4000_0000);
    assert_eq!(arch.audit_arch, 0xC000_003E);
    assert_eq!((arch.execve, arch.execveat), (59, 322));
}

#[cfg(target_arch = "aarch64")]
#[test]
fn native_arch_is_audit_arch_aarch64() {
    let arch = Arch::native().unwrap();
    assert_eq!(arch.audit_arch, 0xC000_00B7);
    assert_eq!((arch.execve, arch.execveat), (221, 281));
}

const X86_64: Arch = Arch {
    audit_arch: 0xC000_003E,
    execve: 59,
    execveat: 322,
};

#[test]
fn exec_rule_bytes_match_the_kernel_layout() {
    let key = "talon-watch-4242-was-off";
    let bytes = RuleData::exec_rule(X86_64, key).encode();

    // Worked out by hand from struct audit_rule_data.
    let mut expected = vec![0u8; 1040 + key.len()];
    let mut put = |at: usize, v: u32| expected[at..at + 4].copy_from_slice(&ne(v));
    put(0, 0x04); // flags: AUDIT_FILTER_EXIT
    put(4, 2); // action: AUDIT_ALWAYS
    put(8, 2); // field_count
               // mask starts at 12. execve 59: word 1, bit 27; execveat 322: word
               // 10, bit 2.
    put(12 + 4, 1 << 27);
    put(12 + 4 * 10, 1 << 2);
    // fields[] at 12 + 256 = 268, values[] at 524, fieldflags[] at 780.
    put(268, 11); // AUDIT_ARCH
    put(268 + 4, 210); // AUDIT_FILTERKEY
    put(524, 0xC000_003E);
    put(524 + 4, key.len() as u32);
    put(780, 0x4000_0000); // AUDIT_EQUAL
    put(780 + 4, 0x4000_0000);
    put(1036, key.len() as u32); // buflen
    expected[1040..].copy_from_slice(key.as_bytes());

    assert_eq!(bytes.len(), expected.len());
    for (i, (a, b)) in bytes.iter().zip(&expected).enumerate() {
        assert_eq!(a, b, "byte {i} differs");
    }
}

#[test]
fn rules_round_trip_and_keys_skip_other_strings() {
    let rule = RuleData::exec_rule(X86_64, "talon-watch-7");
    let back = RuleData::decode(&rule.encode()).unwrap();
    assert_eq!(back, rule);
    assert_eq!(back.key().as_deref(), Some("talon-watch-7"));
    assert!(back.has_syscall(59) && back.has_syscall(322) && !back.has_syscall(58));

    // -w /etc/passwd -p wa -k identity, as listed: a watch path (a
    // string field) before the key.
    let mut watch = RuleData {
        flags: AUDIT_FILTER_EXIT,
        action: AUDIT_ALWAYS,
        mask: [u32::MAX; AUDIT_BITMASK_SIZE],
        fields: vec![
            RuleField {
                field: 105,
                op: AUDIT_EQUAL,
                value: 11,
            },
            RuleField {
                field: 106,
                op: AUDIT_EQUAL,
                value: 0xa,
            },
            RuleField {
                field: AUDIT_FILTERKEY,
                op: AUDIT_EQUAL,
                value: 8,
            },
        ],
        buf: b"/etc/passwdidentity".to_vec(),
    };
    assert_eq!(watch.key().as_deref(), Some("identity"));
    // A listed rule may carry the prepend flag with its list.
    watch.flags |= AUDIT_FILTER_PREPEND;
    assert_eq!(watch.filter(), AUDIT_FILTER_EXIT);
    // Watches have conditions: they do not record every exec.
    assert!(!watch.records_every_exec(X86_64));
    // A key longer than its buffer is not read past it.
    watch.fields[2].value = 99;
    assert_eq!(watch.key(), None);
}

#[test]
fn which_rules_record_every_exec() {
    let ours = RuleData::exec_rule(X86_64, "k");
    assert!(ours.records_every_exec(X86_64));

    let mut with_uid = ours.clone();
    with_uid.fields.push(RuleField {
        field: 0, // AUDIT_PID: a condition on who execs
        op: AUDIT_EQUAL,
        value: 1000,
    });
    assert!(!with_uid.records_every_exec(X86_64));

    let mut never = ours.clone();
    never.action = 0;
    assert!(!never.records_every_exec(X86_64));

    let mut b32 = ours.clone();
    b32.fields[0].value = 0x4000_0003;
    assert!(!b32.records_every_exec(X86_64));

    let mut execve_only = ours.clone();
    execve_only.mask[10] = 0;
    assert!(!execve_only.records_every_exec(X86_64));

    // No arch field: the mask applies to every arch; no key at all.
    let mut bare = ours.clone();
    bare.fields.clear();
    bare.buf.clear();
    assert!(bare.records_every_exec(X86_64));
    assert_eq!(bare.key(), None);

    let mut entry = ours;
    entry.flags = 0x02; // AUDIT_FILTER_ENTRY (obsolete)
    assert!(!entry.records_every_exec(X86_64));
}

#[test]
fn decoding_rules_never_trusts_lengths() {
    let good = RuleData::exec_rule(X86_64, "abc").encode();
    assert!(matches!(
        RuleData::decode(&good[..1039]),
        Err(WireError::Truncated { .. })
    ));
    // buflen says more than follows.
    assert!(RuleData::decode(&good[..good.len() - 1]).is_err());
    let mut many = good.clone();
    many[8..12].copy_from_slice(&ne(65));
    assert_eq!(RuleData::decode(&many), Err(WireError::TooManyFields(65)));
    let mut huge = good;
    huge[1036..1040].copy_from_slice(&ne(u32::MAX));
    assert!(RuleData::decode(&huge).is_err());
}

#[test]
fn requests_are_framed_like_nlmsghdr() {
    let get = request(AUDIT_GET, NLM_F_REQUEST, 77, &[]);
    let mut expected = Vec::new();
    expected.extend_from_slice(&ne(16));
    expected.extend_from_slice(&1000u16.to_ne_bytes());
    expected.extend_from_slice(&1u16.to_ne_bytes());
    expected.extend_from_slice(&ne(77));
    expected.extend_from_slice(&ne(0));
    assert_eq!(get, expected);

    let rule = RuleData::exec_rule(X86_64, "talon-watch-1");
    let add = request(
        AUDIT_ADD_RULE,
        NLM_F_REQUEST | NLM_F_ACK,
        78,
        &rule.encode(),
    );
    assert_eq!(&add[0..4], &ne(16 + 1040 + 13));
    assert_eq!(&add[4..6], &1011u16.to_ne_bytes());
    assert_eq!(&add[6..8], &5u16.to_ne_bytes());
    assert_eq!(&add[16..], &rule.encode()[..]);

    // AUDIT_SET: only the enabled bit of the mask, and the value.
    let set = Status::set_enabled(1);
    assert_eq!(set.len(), 44);
    assert_eq!(&set[0..4], &ne(AUDIT_STATUS_ENABLED));
    assert_eq!(&set[4..8], &ne(1));
    assert!(set[8..].iter().all(|b| *b == 0));
}

#[test]
fn multicast_records_are_one_message_each() {
    let d = datagram(AUDIT_SYSCALL, 0, SYSCALL.as_bytes());
    let msgs = messages(&d).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].ty, 1300);
    assert_eq!(msgs[0].port, 0);
    assert_eq!(msgs[0].payload, SYSCALL.as_bytes());
    // An EOE record: header only, then the stamp.
    let eoe = datagram(AUDIT_EOE, 0, b"audit(1796350699.337:37): ");
    assert_eq!(messages(&eoe).unwrap()[0].payload.len(), 26);
}

#[test]
fn unicast_records_with_the_daemon_length_quirk() {
    // To a registered daemon the kernel writes nlmsg_len without the
    // header.
    let mut d = datagram(AUDIT_CWD, 0, b"audit(1.5:9): cwd=\"/\"");
    let payload_len = (d.len() - NLMSG_HDRLEN) as u32;
    d[0..4].copy_from_slice(&ne(payload_len));
    let msgs = messages(&d).unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].ty, AUDIT_CWD);
    assert_eq!(msgs[0].payload, b"audit(1.5:9): cwd=\"/\"");
}

#[test]
fn replies_in_one_datagram_are_split_on_aligned_lengths() {
    // A 3-byte payload, padded to 4, then NLMSG_DONE.
    let mut d = datagram(AUDIT_LIST_RULES, 5, b"abc");
    d.push(0);
    d.extend_from_slice(&datagram(NLMSG_DONE, 5, &ne(0)));
    let msgs = messages(&d).unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].payload, b"abc");
    assert_eq!(msgs[1].ty, NLMSG_DONE);
    assert_eq!(msgs[1].seq, 5);
}

#[test]
fn errors_and_acknowledgements() {
    // struct nlmsgerr: -EPERM, then the request's header (seq 78).
    let req = request(AUDIT_ADD_RULE, NLM_F_REQUEST | NLM_F_ACK, 78, &[]);
    let mut payload = (-1i32).to_ne_bytes().to_vec();
    payload.extend_from_slice(&req[..16]);
    let d = datagram(NLMSG_ERROR, 78, &payload);
    let msgs = messages(&d).unwrap();
    assert_eq!(msgs[0].error(), Some((libc::EPERM, 78)));
    let mut ok = 0i32.to_ne_bytes().to_vec();
    ok.extend_from_slice(&req[..16]);
    assert_eq!(
        messages(&datagram(NLMSG_ERROR, 78, &ok)).unwrap()[0].error(),
        Some((0, 78))
    );
    assert_eq!(
        messages(&datagram(AUDIT_GET, 1, &[])).unwrap()[0].error(),
        None
    );
}

#[test]
fn bad_datagrams_are_errors_not_panics() {
    assert!(matches!(
        messages(&[1, 2, 3]),
        Err(WireError::Truncated { .. })
    ));
    let mut d = datagram(AUDIT_SYSCALL, 0, b"audit(1.0:1): x=1");
    d[0..4].copy_from_slice(&ne(9999));
    assert_eq!(messages(&d), Err(WireError::BadLength(9999)));
    d[0..4].copy_from_slice(&ne(3));
    assert_eq!(messages(&d), Err(WireError::BadLength(3)));
    // Every prefix and a byte pattern of every value: no panic.
    let good = datagram(AUDIT_SYSCALL, 0, SYSCALL.as_bytes());
    for n in 0..good.len() {
        let _ = messages(&good[..n]);
    }
    for b in 0..=255u8 {
        let _ = messages(&[b; 40]);
        let _ = RuleData::decode(&[b; 1100]);
        let _ = Status::decode(&[b; 20]);
    }
}

#[test]
fn status_replies_decode_short_or_long() {
    // As this machine's 6.18 kernel answered: audit off, no daemon.
    let words = [0u32, 0, 1, 0, 0, 64, 0, 0, 127, 15000, 0];
    let payload: Vec<u8> = words.iter().flat_map(|w| ne(*w)).collect();
    let s = Status::decode(&payload).unwrap();
    assert_eq!(
        s,
        Status {
            mask: 0,
            enabled: 0,
            failure: 1,
            pid: 0,
            rate_limit: 0,
            backlog_limit: 64,
            lost: 0,
            backlog: 0,
        }
    );
    // An older kernel's 8-word status.
    assert_eq!(Status::decode(&payload[..32]).unwrap(), s);
    assert!(Status::decode(&payload[..28]).is_err());
}

#[test]
fn records_become_auditd_log_lines() {
    let mut out = Vec::new();
    record_line(AUDIT_SYSCALL, SYSCALL.as_bytes(), &mut out);
    record_line(AUDIT_EOE, b"audit(1796350699.337:37): \0", &mut out);
    record_line(1999, b"audit(1.0:2): a=1\nb=2\0\0", &mut out);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("type=SYSCALL msg={SYSCALL}"));
    assert_eq!(lines[1], "type=EOE msg=audit(1796350699.337:37):");
    assert_eq!(lines[2], "type=UNKNOWN[1999] msg=audit(1.0:2): a=1 b=2");
    assert_eq!(lines.len(), 3);
    assert_eq!(record_name(AUDIT_EXECVE), Some("EXECVE"));
    assert_eq!(record_name(AUDIT_PROCTITLE), Some("PROCTITLE"));
    assert_eq!(record_name(AUDIT_PATH), Some("PATH"));
    assert!(is_user_message(1112) && is_user_message(2300) && !is_user_message(1300));
}
