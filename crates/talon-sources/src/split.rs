//! Command-line strings → argument vectors.
//!
//! Falco (`proc.cmdline`), Tetragon (`arguments`), Sysmon (`CommandLine`) and
//! osquery (`cmdline`) give a process's arguments as ONE string, while the
//! rules test `process.args` element by element. [`split_shell`] rebuilds an
//! argv with POSIX shell quoting rules and nothing else: no variable,
//! glob, tilde or command expansion, no operators (`|`, `;`, `>` stay
//! ordinary characters inside words).
//!
//! This is lossy by nature: the sensor joined the real argv with spaces, so
//! an argument that contained a space and was not quoted by the sensor comes
//! back as two. Splitting never fails: an unterminated quote takes the rest
//! of the string literally, and an empty string gives no arguments.
//!
//! [`split_windows`] follows the Windows `CommandLineToArgvW` conventions; it
//! exists only because the Elastic SentinelOne Cloud Funnel integration
//! splits command lines that way on every OS, and events normalized here
//! must match what Elasticsearch would hold for the same record.

/// Splits a command line the way a POSIX shell tokenizes words, without
/// any expansion.
///
/// - unquoted whitespace separates words;
/// - `'...'` is literal up to the next `'`;
/// - `"..."` is literal except that `\` escapes `"`, `\`, `$` and `` ` ``
///   (before any other character the backslash is kept);
/// - an unquoted `\` makes the next character literal (`\<newline>` is a
///   line continuation and vanishes);
/// - `""` and `''` make an empty argument.
///
/// ```
/// use talon_sources::split_shell;
/// assert_eq!(
///     split_shell(r#"sh -c "echo 1 > /proc/sys/net/ipv4/ip_forward""#),
///     ["sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]
/// );
/// assert_eq!(split_shell(r"a\ b 'c d' e"), ["a b", "c d", "e"]);
/// ```
pub fn split_shell(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut cur = String::new();
    // True once the current word has begun, so `""` yields an empty word.
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    args.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.peek() {
                            Some(&n @ ('"' | '\\' | '$' | '`')) => {
                                cur.push(n);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => cur.push('\\'),
                        },
                        q => cur.push(q),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(n) => {
                    in_word = true;
                    cur.push(n);
                }
                // A trailing backslash has nothing to escape: keep it.
                None => {
                    in_word = true;
                    cur.push('\\');
                }
            },
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        args.push(cur);
    }
    args
}

/// Splits a command line with the Windows C runtime conventions
/// (`CommandLineToArgvW`, with the pre-2008 rule for `""` inside quotes).
///
/// - unquoted spaces and tabs separate arguments;
/// - `"` toggles quoting; inside quotes `""` is one literal quote;
/// - 2n backslashes before a `"` give n backslashes (the quote still
///   toggles); 2n+1 give n backslashes and a literal `"`;
/// - backslashes not followed by a quote are literal.
pub fn split_windows(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        let mut arg = String::new();
        let mut quoted = false;
        let mut slashes = 0usize;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '\\' => slashes += 1,
                '"' => {
                    push_n(&mut arg, '\\', slashes / 2);
                    if slashes % 2 == 1 {
                        arg.push('"');
                    } else if quoted && chars.get(i + 1) == Some(&'"') {
                        arg.push('"');
                        i += 1;
                    } else {
                        quoted = !quoted;
                    }
                    slashes = 0;
                }
                ' ' | '\t' if !quoted => break,
                c => {
                    push_n(&mut arg, '\\', slashes);
                    slashes = 0;
                    arg.push(c);
                }
            }
            i += 1;
        }
        push_n(&mut arg, '\\', slashes);
        args.push(arg);
    }
    args
}

fn push_n(s: &mut String, c: char, n: usize) {
    for _ in 0..n {
        s.push(c);
    }
}

/// Joins arguments with single spaces, the way Elastic Defend and Auditbeat
/// build `process.command_line` from an argv (no quoting is added).
pub fn join_args(args: &[String]) -> String {
    args.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_rules() {
        assert_eq!(split_shell(""), Vec::<String>::new());
        assert_eq!(split_shell("   "), Vec::<String>::new());
        assert_eq!(
            split_shell("sysctl -w net.ipv4.ip_forward=1"),
            ["sysctl", "-w", "net.ipv4.ip_forward=1"]
        );
        assert_eq!(split_shell(r#"a "" b"#), ["a", "", "b"]);
        assert_eq!(split_shell(r#"x"y z"w"#), ["xy zw"]);
        assert_eq!(split_shell(r#""a\"b\$c\d""#), [r#"a"b$c\d"#]);
        assert_eq!(split_shell(r"'a\b'"), [r"a\b"]);
        assert_eq!(split_shell("a\\\nb"), ["ab"]);
        assert_eq!(split_shell("a\\"), ["a\\"]);
        // Unterminated quotes take the rest literally instead of failing.
        assert_eq!(split_shell("sh -c 'echo 1"), ["sh", "-c", "echo 1"]);
        assert_eq!(split_shell("sh -c \"echo 1"), ["sh", "-c", "echo 1"]);
        // No expansion and no operators.
        assert_eq!(split_shell("echo $HOME *|x"), ["echo", "$HOME", "*|x"]);
        assert_eq!(split_shell("a\tb\n c"), ["a", "b", "c"]);
        assert_eq!(split_shell("é 'ü'"), ["é", "ü"]);
    }

    #[test]
    fn windows_rules() {
        assert_eq!(
            split_windows(r"C:\ProgramFiles(x86)\Microsoft\important_stuff\stuff.EXE\"),
            [r"C:\ProgramFiles(x86)\Microsoft\important_stuff\stuff.EXE\"]
        );
        assert_eq!(
            split_windows(r#""C:\a b\c.exe" -x"#),
            [r"C:\a b\c.exe", "-x"]
        );
        assert_eq!(split_windows(r#"a\\\"b"#), [r#"a\"b"#]);
        assert_eq!(split_windows(r#"a\\"b c""#), [r"a\b c"]);
        assert_eq!(split_windows(r#""a""b""#), [r#"a"b"#]);
        assert_eq!(split_windows("  x \t y "), ["x", "y"]);
        assert_eq!(split_windows(r#""""#), [""]);
        assert_eq!(split_windows(""), Vec::<String>::new());
    }
}
