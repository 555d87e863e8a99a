//! The `garbled` fault on the wire: a handler marks its reply, and this layer replaces the
//! body with a gRPC frame whose bytes are not a protobuf message (wire type 7 does not
//! exist), under an OK status, as a broken partner or a mangling proxy would send.
use std::convert::Infallible;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http_body::Frame;
use http_body_util::StreamBody;
use tonic::body::Body;
use tonic::codegen::Bytes;
use tonic::codegen::http::{HeaderMap, HeaderValue, Request, Response};
use tower::{Layer, Service};

/// The response header a handler sets to ask for a garbled body; never sent.
pub const GARBLE_HEADER: &str = "x-kakehashi-sim-garble";

#[derive(Debug, Clone, Copy)]
pub struct GarbleLayer;

#[derive(Debug, Clone)]
pub struct Garble<S> {
    inner: S,
}

impl<S> Layer<S> for GarbleLayer {
    type Service = Garble<S>;

    fn layer(&self, inner: S) -> Garble<S> {
        Garble { inner }
    }
}

impl<S, B> Service<Request<B>> for Garble<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Send,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let reply = self.inner.call(request);
        Box::pin(async move {
            let mut response = reply.await?;
            if response.headers_mut().remove(GARBLE_HEADER).is_some() {
                *response.body_mut() = garbled_body();
            }
            Ok(response)
        })
    }
}

fn garbled_body() -> Body {
    // Uncompressed flag, length 3, then field 15 with wire type 7.
    let frame = Bytes::from_static(&[0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let frames = tokio_stream::iter([
        Ok::<_, Infallible>(Frame::data(frame)),
        Ok(Frame::trailers(trailers)),
    ]);
    Body::new(StreamBody::new(frames))
}
