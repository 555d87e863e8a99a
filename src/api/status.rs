//! One place where refusals become gRPC statuses, each with the `google.rpc` details clients
//! in every language read: always an `ErrorInfo` (reason, domain), a `BadRequest` with every
//! invalid field for INVALID_ARGUMENT, a `PreconditionFailure` for FAILED_PRECONDITION.
//! Internal faults tell the client only that something went wrong; the detail goes to the
//! log.
use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use super::convert::pb_state;
use super::reason::{DOMAIN, Reason, rule_reason};
use crate::payments::{PayError, QuoteRefusal};
use crate::routing::{IdentifyError, RuleId};

/// A refusal being built: the reason decides the code; details are added by kind.
#[derive(Debug)]
pub struct Refusal {
    reason: Reason,
    code: Code,
    message: String,
    metadata: HashMap<String, String>,
    details: ErrorDetails,
}

/// One invalid field of a request: its path ("amount.value"), why, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub reason: Reason,
    pub description: String,
}

/// Every invalid field of one request, in the request's field order, so a client learns of
/// all of them from one answer.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

// === impl Refusal ===

impl Refusal {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            code: reason.code(),
            message: message.into(),
            metadata: HashMap::new(),
            details: ErrorDetails::new(),
        }
    }

    /// Keeps the code the transport chose for a failure that is none of the API's
    /// (PROTOCOL_ERROR only).
    pub fn with_code(mut self, code: Code) -> Self {
        self.code = code;
        self
    }

    /// ErrorInfo metadata; keys are lowerCamelCase, as google.rpc.ErrorInfo asks.
    pub fn meta(mut self, key: &str, value: impl Into<String>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }

    /// A PreconditionFailure violation: its type is the reason, `subject` what it concerns.
    pub fn precondition(mut self, subject: &str, description: impl Into<String>) -> Self {
        self.details
            .add_precondition_failure_violation(self.reason.as_str(), subject, description);
        self
    }

    pub fn into_status(mut self) -> Status {
        self.details
            .set_error_info(self.reason.as_str(), DOMAIN, self.metadata);
        Status::with_error_details(self.code, self.message, self.details)
    }
}

impl From<Refusal> for Status {
    fn from(refusal: Refusal) -> Self {
        refusal.into_status()
    }
}

// === impl Violation ===

impl Violation {
    pub fn new(field: &str, reason: Reason, description: impl std::fmt::Display) -> Self {
        debug_assert_eq!(reason.code(), Code::InvalidArgument);
        Self {
            field: field.to_owned(),
            reason,
            description: description.to_string(),
        }
    }

    pub fn into_status(self) -> Status {
        let mut violations = Violations::default();
        violations.push(self);
        violations.into_status()
    }
}

// === impl Violations ===

impl Violations {
    pub fn push(&mut self, violation: Violation) {
        self.0.push(violation);
    }

    /// Keeps an `Ok` value; records an `Err` and gives `None`.
    pub fn check<T>(&mut self, result: Result<T, Violation>) -> Option<T> {
        result.map_err(|violation| self.push(violation)).ok()
    }

    /// The violations recorded, in order (for another API's own status builder).
    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }

    /// INVALID_ARGUMENT naming every field; ErrorInfo carries the first field's reason.
    pub fn into_status(self) -> Status {
        let Some(first) = self.0.first() else {
            // A caller reports violations only after recording one.
            return Refusal::new(Reason::InternalError, INTERNAL_MESSAGE).into_status();
        };
        let message = self
            .0
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        let mut refusal = Refusal::new(first.reason, message).meta("field", &first.field);
        refusal.details.set_bad_request(
            self.0
                .iter()
                .map(|v| FieldViolation {
                    field: v.field.clone(),
                    description: v.description.clone(),
                    reason: v.reason.as_str().to_owned(),
                    localized_message: None,
                })
                .collect::<Vec<_>>(),
        );
        refusal.into_status()
    }
}

/// What the client hears of a fault inside the switch.
const INTERNAL_MESSAGE: &str =
    "the switch failed to process the request; it is safe to retry with the same key";

impl From<PayError> for Status {
    fn from(e: PayError) -> Self {
        use Reason as R;
        let message = e.to_string();
        let refusal = match e {
            PayError::PaymentNotFound(_) => Refusal::new(R::PaymentNotFound, message),
            PayError::OrderIdReused(_) => {
                Refusal::new(R::IdempotencyConflict, message).meta("field", "merchant_order_id")
            }
            PayError::RefundIdReused(_) => {
                Refusal::new(R::IdempotencyConflict, message).meta("field", "refund_id")
            }
            PayError::QuoteKeyReused(_) => {
                Refusal::new(R::IdempotencyConflict, message).meta("field", "idempotency_key")
            }
            PayError::UnroutableCode(why) => {
                let reason = match why {
                    IdentifyError::Unknown => R::CodeUnroutable,
                    IdentifyError::Ambiguous(_) => R::CodeAmbiguous,
                };
                return Violation::new("code", reason, why).into_status();
            }
            PayError::UnknownNetwork(_) => {
                return Violation::new("network", R::NetworkUnknown, message).into_status();
            }
            PayError::NetworkNotEnabled(network) => {
                Refusal::new(R::NetworkNotEnabled, message).meta("network", network)
            }
            PayError::CurrencyNotSupported { network, currency } => {
                Refusal::new(R::CurrencyNotSupported, &message)
                    .precondition(&network, &message)
                    .meta("network", network)
                    .meta("currency", currency)
            }
            PayError::NotSupported { network, operation } => {
                Refusal::new(R::OperationNotSupported, &message)
                    .precondition(&network, &message)
                    .meta("network", network)
                    .meta("operation", operation.as_str())
            }
            PayError::WrongState { state, .. } => Refusal::new(R::PaymentState, &message)
                .precondition("payment", &message)
                .meta("state", pb_state(state).as_str_name()),
            PayError::NotAllowed(_) => {
                Refusal::new(R::PaymentState, &message).precondition("payment", &message)
            }
            PayError::RefundExceeds(_) => {
                Refusal::new(R::RefundExceeds, &message).precondition("payment", &message)
            }
            PayError::RefundCurrency { refund, .. } => {
                Refusal::new(R::RefundCurrencyMismatch, &message)
                    .precondition("payment", &message)
                    .meta("currency", refund)
            }
            PayError::RuleRefused {
                rule, payment_id, ..
            } => rule_refusal(rule, &message).meta("payment_id", payment_id),
            PayError::Quote(refusal) => match refusal {
                QuoteRefusal::Unknown(_) => {
                    return Violation::new("quote_id", R::QuoteUnknown, message).into_status();
                }
                QuoteRefusal::Expired { quote_id, .. } => {
                    Refusal::new(R::QuoteExpired, &message).precondition(&quote_id, &message)
                }
                QuoteRefusal::Mismatch { quote_id, .. } => {
                    Refusal::new(R::QuoteMismatch, &message).precondition(&quote_id, &message)
                }
            },
            PayError::RateUnavailable(_) => {
                Refusal::new(R::RateUnavailable, &message).precondition("rate", &message)
            }
            PayError::Busy => Refusal::new(R::SwitchBusy, message),
            PayError::Conflict => Refusal::new(
                R::ConcurrentUpdate,
                "the payment changed concurrently; retry the request",
            ),
            PayError::Store(detail) | PayError::Internal(detail) => {
                tracing::error!(error = %detail, "Request failed inside the switch");
                Refusal::new(R::InternalError, INTERNAL_MESSAGE)
            }
        };
        refusal.into_status()
    }
}

/// A compliance refusal: the reason names the rule, ErrorInfo metadata `rule` gives its
/// decision-record name, and the message says what the integrator can do.
fn rule_refusal(rule: RuleId, message: &str) -> Refusal {
    let advice = match rule {
        RuleId::MerchantBlocked => "the switch operator has blocked this merchant; contact them",
        RuleId::TerminalBlocked => "the switch operator has blocked this terminal; contact them",
        RuleId::MerchantNetwork => "ask the customer for a wallet this merchant accepts",
        RuleId::Currency => "charge in a currency the network is allowed to take",
        RuleId::NetworkLimit => {
            "charge a smaller amount, or take the rest with another payment method"
        }
        RuleId::Mcc => "this network may not serve the merchant's category; ask for another wallet",
        RuleId::VelocityCode => {
            "ask the customer to show a fresh code, or wait before trying this one again"
        }
        RuleId::VelocityTerminal => {
            "wait before taking more payments at this terminal, or contact the switch operator"
        }
    };
    let reason = rule_reason(rule);
    let text = format!("{message}; {advice}");
    let refusal = Refusal::new(reason, &text).meta("rule", rule.as_str());
    if reason.code() == Code::FailedPrecondition {
        refusal.precondition("payment", text)
    } else {
        refusal
    }
}
