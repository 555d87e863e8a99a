//! The gRPC edge: authenticate, validate, convert proto <-> domain, call `payments`, map
//! errors to statuses with their details. No business logic lives here.
pub mod acceptance;
pub mod auth;
pub(crate) mod convert;
pub mod edge;
pub mod reason;
pub mod settlement;
mod settlement_pb;
pub(crate) mod status;

pub use acceptance::AcceptanceApi;
pub use auth::{Authenticator, TerminalIdentity};
pub use edge::AcceptanceEdge;
