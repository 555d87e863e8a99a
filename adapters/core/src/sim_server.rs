//! The plain-HTTP server every simulator listens with: HTTP/1.1 and HTTP/2 in the clear
//! (h2c, by prior knowledge) on one port, so an adapter configured for either is served,
//! with a bound on connections and on streams per connection.
//!
//! `axum::serve` would do the same with hyper's defaults, among them 200 streams per HTTP/2
//! connection: a switch holding thousands of calls at a simulator would then queue most of
//! them in its own client instead of in the simulator, and a hold measurement would measure
//! the queue.
use std::sync::Arc;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

/// Most connections one simulator serves at once; HTTP/1.1 clients need one per call in
/// flight. Beyond it, accepting waits for a connection to close.
pub const CONNECTIONS_MAX: usize = 16_384;
/// Most HTTP/2 streams (calls in flight) on one connection.
pub const STREAMS_PER_CONNECTION_MAX: u32 = 16_384;

/// Serves `app` on `listener` until the task is dropped. Connections that fail (a client
/// gone mid-request, a malformed preface) end alone; accept errors (descriptor exhaustion)
/// are retried after a short pause.
pub async fn serve_simulator(listener: TcpListener, app: axum::Router) {
    let slots = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS_MAX));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            Err(e) => {
                tracing::warn!(error = %e, "simulator accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http2()
                .max_concurrent_streams(STREAMS_PER_CONNECTION_MAX);
            let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
        });
    }
}

/// Tells an adapter config printed by a simulator to speak HTTP/2 to it (`http.version =
/// "http2"`), keeping any other `http` settings already there: the simulator serves h2c, and
/// one multiplexed connection is what a production switch would hold to a network that
/// offers HTTP/2.
pub fn speak_http2(adapter_config: &mut toml::Table) {
    let http = adapter_config
        .entry("http")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(table) = http.as_table_mut() {
        table.insert("version".into(), "http2".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HttpSettings, HttpVersion};

    async fn spawn() -> String {
        let app = axum::Router::new().route(
            "/version",
            axum::routing::get(|request: axum::extract::Request| async move {
                format!("{:?}", request.version())
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(serve_simulator(listener, app));
        format!("http://{addr}/version")
    }

    async fn version_seen(url: &str, version: HttpVersion) -> (String, reqwest::Version) {
        let settings = HttpSettings {
            version,
            ..HttpSettings::default()
        };
        let client = settings.build_client("test").expect("client");
        let reply = client.get(url).send().await.expect("send");
        let wire = reply.version();
        (reply.text().await.expect("body"), wire)
    }

    #[tokio::test]
    async fn serves_http1_and_prior_knowledge_http2_on_one_port() {
        let url = spawn().await;
        assert_eq!(
            version_seen(&url, HttpVersion::Auto).await,
            ("HTTP/1.1".to_owned(), reqwest::Version::HTTP_11)
        );
        assert_eq!(
            version_seen(&url, HttpVersion::Http1).await,
            ("HTTP/1.1".to_owned(), reqwest::Version::HTTP_11)
        );
        assert_eq!(
            version_seen(&url, HttpVersion::Http2).await,
            ("HTTP/2.0".to_owned(), reqwest::Version::HTTP_2)
        );
    }

    #[tokio::test]
    async fn many_http2_calls_in_flight_share_one_connection() {
        // More concurrent calls than hyper's default stream limit (200): all must be in
        // flight at the server at once, over a single connection.
        const CALLS: usize = 300;
        let barrier = Arc::new(tokio::sync::Barrier::new(CALLS));
        // The simulator sits behind a TCP proxy that counts the connections the client opens.
        let counted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let upstream = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let upstream_addr = upstream.local_addr().expect("addr");
        let waiting = axum::Router::new().route(
            "/wait",
            axum::routing::get({
                let barrier = barrier.clone();
                move || {
                    let barrier = barrier.clone();
                    async move {
                        barrier.wait().await;
                        "ok"
                    }
                }
            }),
        );
        tokio::spawn(serve_simulator(upstream, waiting));
        tokio::spawn({
            let counted = counted.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::spawn(async move {
                        if let Ok(mut outbound) =
                            tokio::net::TcpStream::connect(upstream_addr).await
                        {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            }
        });
        let settings = HttpSettings {
            version: HttpVersion::Http2,
            ..HttpSettings::default()
        };
        let client = settings.build_client("test").expect("client");
        let url = format!("http://{addr}/wait");
        let calls = (0..CALLS).map(|_| {
            let client = client.clone();
            let url = url.clone();
            async move { client.get(&url).send().await.map(|r| r.status()) }
        });
        let replies = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            futures::future::join_all(calls),
        )
        .await
        .expect("every call was in flight at once, so the barrier opened");
        assert!(replies.iter().all(|r| matches!(r, Ok(s) if s.is_success())));
        assert_eq!(counted.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
