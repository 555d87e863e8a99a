//! One place where orchestrator errors become gRPC statuses. Internal faults tell the
//! client only that something went wrong; the detail goes to the log.
use tonic::Status;

use crate::payments::PayError;

impl From<PayError> for Status {
    fn from(e: PayError) -> Self {
        match &e {
            PayError::PaymentNotFound(_) => Status::not_found(e.to_string()),
            PayError::OrderIdReused(_) | PayError::RefundIdReused(_) => {
                Status::already_exists(e.to_string())
            }
            PayError::UnroutableCode(_) | PayError::UnknownNetwork(_) => {
                Status::invalid_argument(e.to_string())
            }
            PayError::NetworkNotEnabled(_) => Status::permission_denied(e.to_string()),
            PayError::CurrencyNotSupported { .. } | PayError::NotAllowed(_) => {
                Status::failed_precondition(e.to_string())
            }
            PayError::Busy => Status::unavailable(e.to_string()),
            PayError::Conflict => {
                Status::aborted("the payment changed concurrently; retry the request")
            }
            PayError::Store(detail) | PayError::Internal(detail) => {
                tracing::error!(error = %detail, "Request failed inside the switch");
                Status::internal(
                    "the switch failed to process the request; it is safe to retry with the same key",
                )
            }
        }
    }
}
