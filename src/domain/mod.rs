//! The switch's domain types: identifiers that validate at construction, the payment state
//! machine, and the records the store keeps.
pub mod ids;
pub mod payment;
pub mod state;

pub use ids::{ClientKey, ClientKeyError, new_id};
pub use payment::{PaymentKind, PaymentRecord, RefundRecord, RefundState, Transition};
pub use state::{Event, IllegalTransition, PaymentState};
