//! A minimal HTTP/1.0 responder for `GET /metrics`, on a loopback address.
//!
//! One thread, one connection at a time: a scrape every few seconds needs
//! no more. Reads are bounded (request head at most 8 KiB, 2 s timeout) so
//! a stuck client cannot hold the endpoint. The thread stops when the
//! [`MetricsServer`] is dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::StreamError;
use crate::metrics::Metrics;

const MAX_HEAD: usize = 8 * 1024;

/// The running endpoint; dropping it stops the thread.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` (already checked to be loopback) and serves `metrics`.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<MetricsServer, StreamError> {
        let err = |source| StreamError::Metrics {
            addr: addr.to_string(),
            source,
        };
        let listener = TcpListener::bind(addr).map_err(err)?;
        let bound = listener.local_addr().map_err(err)?;
        // Non-blocking accept lets the loop notice `stop` within one nap.
        listener.set_nonblocking(true).map_err(err)?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("talon-metrics".into())
            .spawn(move || serve(listener, &metrics, &flag))
            .map_err(err)?;
        Ok(MetricsServer {
            addr: bound,
            stop,
            thread: Some(thread),
        })
    }

    /// The address actually bound (port 0 picks a free one).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(listener: TcpListener, metrics: &Metrics, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(e) = respond(stream, metrics) {
                    tracing::debug!("metrics request failed: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                tracing::warn!("metrics endpoint: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

fn respond(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let head = read_head(&mut stream)?;
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next(), parts.next());
    let path = target.map(|t| t.split('?').next().unwrap_or(t));
    let (status, body, kind) = match (method, path) {
        (Some("GET"), Some("/metrics")) => (
            "200 OK",
            metrics.render(),
            "text/plain; version=0.0.4; charset=utf-8",
        ),
        (Some("GET"), _) => (
            "404 Not Found",
            "only /metrics is served\n".into(),
            "text/plain",
        ),
        _ => (
            "405 Method Not Allowed",
            "only GET is served\n".into(),
            "text/plain",
        ),
    };
    let reply = format!(
        "HTTP/1.0 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(reply.as_bytes())?;
    stream.flush()
}

/// The request up to the blank line, or what arrived before the cap.
fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    while buf.len() < MAX_HEAD {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n") {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::inc;

    fn get(addr: SocketAddr, path: &str) -> String {
        let mut s = TcpStream::connect(addr).map_err(|e| e.to_string());
        let Ok(s) = s.as_mut() else {
            return format!("connect: {s:?}");
        };
        let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn serves_metrics_and_nothing_else() {
        let metrics = Arc::new(Metrics::default());
        inc(&metrics.alerts_acked);
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!());
        let server = MetricsServer::start(addr, metrics.clone());
        let server = match server {
            Ok(s) => s,
            Err(e) => panic!("cannot start: {e}"),
        };
        let page = get(server.addr(), "/metrics");
        assert!(page.starts_with("HTTP/1.0 200 OK\r\n"), "{page}");
        assert!(
            page.contains("\ntalon_stream_alerts_acked_total 1\n"),
            "{page}"
        );
        let page = get(server.addr(), "/other");
        assert!(page.starts_with("HTTP/1.0 404"), "{page}");
        drop(server);
    }
}
