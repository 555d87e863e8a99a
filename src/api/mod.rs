//! The gRPC edge: authenticate, validate, convert proto <-> domain, call `payments`, map
//! errors to statuses. No business logic lives here.
pub mod acceptance;
pub mod auth;
mod convert;
mod status;

pub use acceptance::AcceptanceApi;
pub use auth::{Authenticator, TerminalIdentity};
