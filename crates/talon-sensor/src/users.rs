//! User and group names from `/etc/passwd` and `/etc/group`.
//!
//! Both files are parsed once and kept; an id not found triggers a reload
//! only when the file changed since (a user added while the sensor runs),
//! so a lookup is a hash probe and never re-reads the file on its own.
//! Users from NSS sources other than the files (LDAP, sssd) are not
//! resolved: their events carry the id without a name.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustc_hash::FxHashMap;

/// One of the two id → name tables.
#[derive(Debug)]
struct Table {
    path: PathBuf,
    names: FxHashMap<u32, String>,
    /// Modification time when last read; `None` if it could not be read.
    mtime: Option<SystemTime>,
}

impl Table {
    fn load(path: PathBuf) -> Table {
        let mut t = Table {
            path,
            names: FxHashMap::default(),
            mtime: None,
        };
        t.reload();
        t
    }

    fn reload(&mut self) {
        self.mtime = fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        self.names = match fs::read(&self.path) {
            Ok(bytes) => parse_id_file(&String::from_utf8_lossy(&bytes)),
            Err(_) => FxHashMap::default(),
        };
    }

    fn name(&mut self, id: u32) -> Option<&str> {
        if !self.names.contains_key(&id) {
            let now = fs::metadata(&self.path).and_then(|m| m.modified()).ok();
            if now != self.mtime {
                self.reload();
            }
        }
        self.names.get(&id).map(String::as_str)
    }
}

/// Cached user and group names.
#[derive(Debug)]
pub struct Users {
    users: Table,
    groups: Table,
}

impl Users {
    /// Tables read from `<etc>/passwd` and `<etc>/group`. Missing files
    /// give empty tables: ids are still reported, without names.
    pub fn load(etc: &Path) -> Users {
        Users {
            users: Table::load(etc.join("passwd")),
            groups: Table::load(etc.join("group")),
        }
    }

    pub fn user_name(&mut self, uid: u32) -> Option<&str> {
        self.users.name(uid)
    }

    pub fn group_name(&mut self, gid: u32) -> Option<&str> {
        self.groups.name(gid)
    }
}

/// `name:password:id:...` lines (the shape both files share) into
/// id → name. The first name for an id wins, as getpwuid(3) returns it;
/// comments, blank and malformed lines, and NIS `+`/`-` entries are
/// skipped.
fn parse_id_file(text: &str) -> FxHashMap<u32, String> {
    let mut names = FxHashMap::default();
    for line in text.lines() {
        if line.starts_with('#') || line.starts_with('+') || line.starts_with('-') {
            continue;
        }
        let mut parts = line.split(':');
        let (Some(name), Some(_), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(id) = id.trim().parse::<u32>() else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        names.entry(id).or_insert_with(|| name.to_owned());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
                          # a comment\n\
                          daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
                          toor:x:0:0:second root:/root:/bin/sh\n\
                          broken line\n\
                          nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
                          +nisuser::::::\n";

    #[test]
    fn parses_passwd_lines() {
        let names = parse_id_file(PASSWD);
        assert_eq!(names.get(&0).map(String::as_str), Some("root"));
        assert_eq!(names.get(&1).map(String::as_str), Some("daemon"));
        assert_eq!(names.get(&65534).map(String::as_str), Some("nobody"));
        assert_eq!(names.len(), 3);
    }

    #[test]
    fn looks_up_and_reloads_when_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("passwd"), PASSWD).unwrap();
        fs::write(
            dir.path().join("group"),
            "root:x:0:\nusers:x:100:alice,bob\n",
        )
        .unwrap();
        let mut users = Users::load(dir.path());
        assert_eq!(users.user_name(0), Some("root"));
        assert_eq!(users.group_name(100), Some("users"));
        assert_eq!(users.user_name(1000), None);

        // A user added later is found once the file's mtime moves.
        let passwd = dir.path().join("passwd");
        fs::write(
            &passwd,
            format!("{PASSWD}alice:x:1000:100::/home/alice:/bin/sh\n"),
        )
        .unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        fs::File::options()
            .write(true)
            .open(&passwd)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(users.user_name(1000), Some("alice"));
    }

    #[test]
    fn missing_files_give_no_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut users = Users::load(dir.path());
        assert_eq!(users.user_name(0), None);
        assert_eq!(users.group_name(0), None);
    }
}
