//! The HTTP/1.1 server loop: hyper with the limits a public identity provider needs, which
//! `axum::serve` does not set (it runs hyper without a timer, so no header timeout applies).
//!
//! - **Connection cap**: at most `max_connections` open at once; past it, new connections
//!   wait in the kernel's backlog until one closes.
//! - **Header read timeout**: a client must send a request's whole head within
//!   `header_read_timeout` (slowloris), or its connection is closed. hyper starts this timer
//!   whenever it waits for a request head, so it is also the idle timeout of a keep-alive
//!   connection: behind a load balancer, set it above the balancer's own idle timeout.
//! - **Graceful shutdown**: on the signal, the listener closes, idle connections close at once
//!   and requests in flight finish (up to `drain_timeout`). The caller decides when the signal
//!   fires: `tessera serve` first answers `/readyz` with 503 for `drain_seconds`, so that a load
//!   balancer stops sending new requests before the listener closes.
//! - **Trusted proxies**: the client's address (for the brute-force brakes and the audit log)
//!   is the TCP peer's, unless the peer is one of `trusted_proxies`: then it is the nearest
//!   address of `X-Forwarded-For` that is not a trusted proxy. Without trusted proxies the
//!   header is ignored, so that no client can choose its own address.
//!
//! The request deadline and body limit are layers of the router ([`crate::router`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};

/// The connection limits, and the proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone)]
pub struct ServerLimits {
    pub max_connections: usize,
    /// Also the idle timeout of keep-alive connections.
    pub header_read_timeout: Duration,
    pub drain_timeout: Duration,
    /// Reverse proxies and load balancers in front of Tessera.
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(30),
            trusted_proxies: Arc::from(Vec::new()),
        }
    }
}

/// The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address
/// of `X-Forwarded-For` (read from the right, the end the proxies appended to) that is not a
/// trusted proxy itself. A malformed entry stops the walk at the last good address.
pub fn client_address(
    peer: std::net::IpAddr,
    forwarded_for: &[&str],
    trusted: &[ipnet::IpNet],
) -> std::net::IpAddr {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    let hops = forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.into_iter().rev() {
        match hop.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

/// Serves `app` on `listener` with `limits` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the cap, new connections wait in the backlog.
        let permit = tokio::select! {
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, as hyper's own
                    // servers do, instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let trusted = Arc::clone(&limits.trusted_proxies);
        let svc =
            hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                let client = if trusted.is_empty() {
                    addr
                } else {
                    let hops: Vec<&str> = req
                        .headers()
                        .get_all("x-forwarded-for")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .collect();
                    SocketAddr::new(client_address(addr.ip(), &hops, &trusted), addr.port())
                };
                req.extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(client));
                tower::ServiceExt::oneshot(app.clone(), req.map(axum::body::Body::new))
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), svc));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the drain timeout were abandoned");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<ipnet::IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "127.0.0.1/32".parse().unwrap(),
        ];
        // Not configured, or not from a proxy: the peer, whatever the header says.
        assert_eq!(
            client_address(ip("10.0.0.5"), &["203.0.113.9"], &[]),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("198.51.100.7"), &["203.0.113.9"], &trusted),
            ip("198.51.100.7")
        );
        // From a proxy: the nearest untrusted hop; what a client put in front is ignored.
        assert_eq!(
            client_address(ip("10.0.0.5"), &["203.0.113.9"], &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(
                ip("10.0.0.5"),
                &["1.2.3.4, 203.0.113.9, 10.0.0.9"],
                &trusted
            ),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("127.0.0.1"), &["1.2.3.4", "203.0.113.9"], &trusted),
            ip("203.0.113.9"),
            "several headers read as one list"
        );
        // No header, or garbage: the last good address.
        assert_eq!(
            client_address(ip("10.0.0.5"), &[], &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), &["nonsense"], &trusted),
            ip("10.0.0.5")
        );
        assert_eq!(
            client_address(ip("10.0.0.5"), &["nonsense, 10.0.0.7"], &trusted),
            ip("10.0.0.7")
        );
    }
}
