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
//!   and requests in flight finish (up to `drain_timeout`).
//!
//! The request deadline and body limit are layers of the router ([`crate::router`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};

/// The connection limits.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    pub max_connections: usize,
    /// Also the idle timeout of keep-alive connections.
    pub header_read_timeout: Duration,
    pub drain_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(30),
        }
    }
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
        let svc =
            hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(addr));
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
