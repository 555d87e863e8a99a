//! The two ceilings a payment is compared with, served by tonic like the switch and driven
//! by the same client at the same concurrency:
//! - **echo**: tonic-health's `Check`, a unary RPC that does nothing;
//! - **relay**: the same RPC, answered after one HTTP/1.1 GET to a trivial upstream through
//!   a keep-alive pool (reqwest, as the adapters use), storing nothing. It is the ceiling
//!   for a switch that calls a network once per payment.
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::transport::{Channel, Server};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use super::client::Outcome;

/// A baseline server on loopback; dropping it stops the server.
pub struct Baseline {
    pub addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Baseline {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn listen() -> Result<(TcpListener, SocketAddr), String> {
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| format!("baseline: cannot listen: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    Ok((listener, addr))
}

fn serve<S: Health>(listener: TcpListener, service: S) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = Server::builder()
            .add_service(HealthServer::new(service))
            .serve_with_incoming(crate::switch::incoming(listener))
            .await;
    })
}

/// The echo baseline.
pub async fn echo() -> Result<Baseline, String> {
    let (listener, addr) = listen().await?;
    Ok(Baseline {
        addr,
        tasks: vec![serve(listener, Echo)],
    })
}

/// The relay baseline and its upstream.
pub async fn relay() -> Result<Baseline, String> {
    let (up_listener, up_addr) = listen().await?;
    let upstream = tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let _ = axum::serve(up_listener, app).await;
    });
    let client = reqwest::Client::builder()
        .http1_only()
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| format!("relay client: {e}"))?;
    let (listener, addr) = listen().await?;
    let relay = Relay {
        client,
        url: format!("http://{up_addr}/"),
    };
    Ok(Baseline {
        addr,
        tasks: vec![upstream, serve(listener, relay)],
    })
}

struct Echo;

#[tonic::async_trait]
impl Health for Echo {
    async fn check(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        Ok(tonic::Response::new(serving()))
    }

    type WatchStream = futures::stream::Empty<Result<HealthCheckResponse, tonic::Status>>;

    async fn watch(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("bench echo has no watch"))
    }
}

struct Relay {
    client: reqwest::Client,
    url: String,
}

#[tonic::async_trait]
impl Health for Relay {
    async fn check(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<HealthCheckResponse>, tonic::Status> {
        let body = async { self.client.get(&self.url).send().await?.bytes().await };
        match body.await {
            Ok(_) => Ok(tonic::Response::new(serving())),
            Err(e) => Err(tonic::Status::unavailable(format!("upstream: {e}"))),
        }
    }

    type WatchStream = futures::stream::Empty<Result<HealthCheckResponse, tonic::Status>>;

    async fn watch(
        &self,
        _: tonic::Request<HealthCheckRequest>,
    ) -> Result<tonic::Response<Self::WatchStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("bench relay has no watch"))
    }
}

fn serving() -> HealthCheckResponse {
    HealthCheckResponse {
        status: ServingStatus::Serving as i32,
    }
}

/// One `Check` call, timed, as the load client's operation.
pub async fn check(channel: Channel) -> Outcome {
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    let started = std::time::Instant::now();
    let reply = client
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await;
    let latency = started.elapsed();
    match reply {
        Ok(r) if r.get_ref().status == ServingStatus::Serving as i32 => Outcome::ok(latency),
        Ok(_) => Outcome::failed(latency, "Check: not SERVING".into()),
        Err(s) => Outcome::failed(latency, format!("Check: {:?}", s.code())),
    }
}
