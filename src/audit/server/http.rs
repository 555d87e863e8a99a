//! The log as c2sp.org/tlog-tiles over HTTP: `/checkpoint` and `/tile/...`, byte-exact,
//! for tiles within the latest checkpoint's tree. Tiles never change once written, so they
//! are served as immutable; the checkpoint is not cached.
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sqlx::AnyPool;

use crate::audit::tiles::TileId;
use crate::store::audit_sql;

#[derive(Debug, Clone)]
pub struct TilesState {
    pub pool: AnyPool,
}

pub fn router(state: TilesState) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .with_state(state)
}

async fn checkpoint(State(state): State<TilesState>) -> Response {
    match audit_sql::latest_checkpoint(&state.pool).await {
        Ok(Some(latest)) => bytes(
            latest.checkpoint.note,
            "text/plain; charset=utf-8",
            "no-cache",
        ),
        Ok(None) => (StatusCode::NOT_FOUND, "no checkpoint yet\n").into_response(),
        Err(e) => internal(e),
    }
}

async fn tile(State(state): State<TilesState>, Path(path): Path<String>) -> Response {
    let Ok(tile) = TileId::parse(&format!("tile/{path}")) else {
        return (StatusCode::NOT_FOUND, "not a tlog-tiles path\n").into_response();
    };
    let size = match audit_sql::latest_checkpoint(&state.pool).await {
        Ok(latest) => latest.map_or(0, |c| c.checkpoint.size),
        Err(e) => return internal(e),
    };
    if !tile.within(size) {
        return (StatusCode::NOT_FOUND, "beyond the latest checkpoint\n").into_response();
    }
    match audit_sql::tile_bytes(&state.pool, tile).await {
        Ok(data) => bytes(
            data,
            "application/octet-stream",
            "public, max-age=31536000, immutable",
        ),
        Err(e) => internal(e),
    }
}

fn bytes(body: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn internal(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "Audit tile request failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error\n").into_response()
}
