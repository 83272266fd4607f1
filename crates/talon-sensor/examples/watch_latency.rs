//! Exec-to-alert latency and CPU cost of `talon watch`.
//!
//! Starts the real `talon watch` with the seed rule, runs N matching but
//! harmless commands one after another (`sh -c "echo
//! net.ipv4.ip_forward=1 > /dev/null"`: it only echoes), and for each one
//! measures the time from just before the spawn to the moment its alert
//! line is read from talon's stdout: an upper bound of exec-to-alert, as
//! it includes the fork and the exec themselves. The sensor's CPU cost is its
//! utime + stime (from `/proc/<pid>/stat`) over the run, divided by the
//! wall time. Needs root, like `talon watch`.
//!
//! ```text
//! cargo build --release -p talon-cli
//! cargo run --release -p talon-sensor --example watch_latency -- \
//!     [--talon target/release/talon] [--rules seed-rule.toml] [--execs 1000] [--priority boost] \
//!     [--source auto|proc-connector|audit]
//! ```

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const COMMAND: &str = "echo net.ipv4.ip_forward=1 > /dev/null";
/// How long one alert may take before it counts as missed (the slowest
/// seen under load is ~20 ms; a miss is an exec read too late, whose
/// alert never comes).
const ALERT_TIMEOUT: Duration = Duration::from_millis(500);

struct Options {
    talon: PathBuf,
    rules: PathBuf,
    execs: usize,
    priority: String,
    source: String,
}

fn parse_args() -> Result<Options, String> {
    let corpora = std::env::var_os("TALON_CORPORA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/corpora"));
    let mut o = Options {
        talon: PathBuf::from("target/release/talon"),
        rules: corpora.join("detection-rules/seed-rule.toml"),
        execs: 1000,
        priority: "boost".to_owned(),
        source: "auto".to_owned(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--talon" => o.talon = PathBuf::from(value()?),
            "--rules" => o.rules = PathBuf::from(value()?),
            "--execs" => o.execs = value()?.parse().map_err(|e| format!("--execs: {e}"))?,
            "--priority" => o.priority = value()?,
            "--source" => o.source = value()?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    // Fields 14 and 15 (1-based) are utime and stime; `rest` starts at 3.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn run(o: &Options) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("talon-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let ready = dir.join("ready");
    let mut talon = Command::new(&o.talon)
        .args([
            "watch",
            "--priority",
            &o.priority,
            "--source",
            &o.source,
            "--rules",
        ])
        .arg(&o.rules)
        .arg("--ready-file")
        .arg(&ready)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", o.talon.display()))?;
    let stdout = talon.stdout.take().ok_or("no stdout")?;
    let mut stderr = talon.stderr.take().ok_or("no stderr")?;

    // Alert lines are stamped the moment they are read, on their own thread.
    let (tx, rx) = mpsc::channel::<(u64, Instant)>();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let at = Instant::now();
            let pid = serde_json::from_str::<Value>(&line)
                .ok()
                .and_then(|v| v.get("process")?.get("pid")?.as_u64());
            if let Some(pid) = pid {
                if tx.send((pid, at)).is_err() {
                    break;
                }
            }
        }
    });

    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready.exists() {
        if let Ok(Some(status)) = talon.try_wait() {
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            return Err(format!("talon watch exited ({status}): {err}"));
        }
        if Instant::now() > deadline {
            let _ = talon.kill();
            return Err("talon watch was not ready within 30 s".into());
        }
        thread::sleep(Duration::from_millis(5));
    }

    let sensor = talon.id();
    let cpu_before = cpu_ticks(sensor).ok_or("cannot read the sensor's /proc stat")?;
    let wall = Instant::now();
    let mut latencies = Vec::with_capacity(o.execs);
    let mut missed = 0usize;
    for _ in 0..o.execs {
        let t0 = Instant::now();
        let mut sh = Command::new("sh")
            .arg("-c")
            .arg(COMMAND)
            .spawn()
            .map_err(|e| format!("sh: {e}"))?;
        let pid = u64::from(sh.id());
        let _ = sh.wait();
        let limit = t0 + ALERT_TIMEOUT;
        let mut got = None;
        while let Some(left) = limit.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok((p, at)) if p == pid => {
                    got = Some(at - t0);
                    break;
                }
                Ok(_) => continue,
                Err(_) => break,
            }
        }
        match got {
            Some(l) => latencies.push(l),
            None => missed += 1,
        }
    }
    let elapsed = wall.elapsed();
    let cpu_after = cpu_ticks(sensor).ok_or("cannot read the sensor's /proc stat")?;

    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(sensor.to_string())
        .status();
    let status = talon.wait().map_err(|e| format!("wait: {e}"))?;
    let mut summary = String::new();
    let _ = stderr.read_to_string(&mut summary);
    let _ = std::fs::remove_dir_all(&dir);

    latencies.sort();
    let ticks_per_sec = 100.0; // USER_HZ
    let cpu_secs = (cpu_after - cpu_before) as f64 / ticks_per_sec;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "execs: {}  alerts: {}  missed: {missed}",
        o.execs,
        latencies.len()
    );
    println!(
        "exec-to-alert latency (ms): min {:.3}  median {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
        ms(percentile(&latencies, 0.0)),
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 100.0)),
    );
    // Misses each waited the full timeout: leave that out of the time the
    // sensor was busy with the load.
    let active = elapsed.saturating_sub(ALERT_TIMEOUT * missed as u32);
    println!(
        "sensor CPU: {cpu_secs:.2} s over {:.2} s ({:.2} s without miss timeouts) = {:.1}% of one core; \
         {:.0} us per matching exec, every other event on the host included",
        elapsed.as_secs_f64(),
        active.as_secs_f64(),
        100.0 * cpu_secs / active.as_secs_f64().max(1e-9),
        1e6 * cpu_secs / o.execs.max(1) as f64,
    );
    println!("talon exit: {status}");
    print!("{summary}");
    Ok(())
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("watch_latency: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("watch_latency: {e}");
            ExitCode::FAILURE
        }
    }
}
