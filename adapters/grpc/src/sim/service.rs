//! `WalletNetworkService` as the reference partner serves it: each call takes its fault
//! (if a test injected one), checks the request strictly (INVALID_ARGUMENT with a
//! `google.rpc.BadRequest` naming the field), and asks the books.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kakehashi_adapter_core::simkit::Fault;
use kakehashi_adapter_core::{
    DeclineReason, MerchantQr, Money, PayOutcome, RefundOutcome, ReverseOutcome,
};
use kakehashi_proto::v1 as pb;
use pb::wallet_network_service_server::WalletNetworkService;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::books::{Charge, Refusal};
use super::garble::GARBLE_HEADER;
use super::{Operation, Partner};
use crate::translate::wire_decline_reason;

const ID_CHARS_MAX: usize = 32;
const TEXT_CHARS_MAX: usize = 128;

#[derive(Debug, Clone)]
pub struct Service {
    partner: Arc<Partner>,
}

/// What a fault leaves for the handler to do.
enum Act {
    Serve,
    /// Process, then never answer.
    HangAfter,
    /// Answer bytes that do not decode; process nothing.
    Garble,
    /// Refuse with this network code; process nothing.
    Decline(String),
}

// === impl Service ===

impl Service {
    pub fn new(partner: Arc<Partner>) -> Self {
        Self { partner }
    }

    async fn enter(&self, operation: Operation, metadata: &MetadataMap) -> Result<Act, Status> {
        let deadline = metadata
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.partner.saw_deadline(deadline);
        let faults = match operation {
            Operation::GetProfile => &self.partner.profile_faults,
            _ => &self.partner.faults,
        };
        match faults.take(operation) {
            None => Ok(Act::Serve),
            Some(Fault::Delay { ms }) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok(Act::Serve)
            }
            Some(Fault::Hang) => futures::future::pending().await,
            Some(Fault::HangAfterProcessing) => Ok(Act::HangAfter),
            Some(Fault::HttpStatus { status }) => Err(status_for_http(status)),
            Some(Fault::Garbled) => Ok(Act::Garble),
            Some(Fault::Decline { code }) => Ok(Act::Decline(code)),
        }
    }

    fn network(&self) -> &'static str {
        self.partner.network
    }
}

async fn leave<T>(act: Act, reply: T) -> Result<Response<T>, Status> {
    if let Act::HangAfter = act {
        return futures::future::pending().await;
    }
    Ok(Response::new(reply))
}

fn garbled<T: Default>() -> Result<Response<T>, Status> {
    let mut response = Response::new(T::default());
    response.metadata_mut().insert(
        GARBLE_HEADER,
        tonic::metadata::MetadataValue::from_static("1"),
    );
    Ok(response)
}

/// The gRPC code a proxy answering this HTTP status produces (gRPC's HTTP-to-gRPC table).
fn status_for_http(status: u16) -> Status {
    let code = match status {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    };
    Status::new(code, format!("injected HTTP {status}"))
}

/// INVALID_ARGUMENT with the field named, as wallet_network.proto asks of partners.
fn invalid(network: &str, field: &str, detail: &str) -> Status {
    let mut details = ErrorDetails::with_bad_request_violation(field, detail);
    details.set_error_info("FIELD_INVALID", network, HashMap::new());
    Status::with_error_details(Code::InvalidArgument, format!("{field}: {detail}"), details)
}

fn refusal(network: &str, refusal: Refusal) -> Status {
    match refusal {
        Refusal::Invalid { field, detail } => invalid(network, field, &detail),
        Refusal::AlreadyExists(detail) => {
            let mut details = ErrorDetails::new();
            details.set_error_info("IDEMPOTENCY_CONFLICT", network, HashMap::new());
            Status::with_error_details(Code::AlreadyExists, detail, details)
        }
        Refusal::Full(detail) => Status::resource_exhausted(detail),
    }
}

fn id(network: &str, field: &str, value: &str) -> Result<String, Status> {
    let ok = !value.is_empty()
        && value.len() <= ID_CHARS_MAX
        && value.bytes().all(|b| b.is_ascii_alphanumeric());
    if !ok {
        return Err(invalid(
            network,
            field,
            &format!("must be 1..={ID_CHARS_MAX} of [A-Za-z0-9]"),
        ));
    }
    Ok(value.to_owned())
}

fn money(network: &str, field: &str, value: Option<&pb::Money>) -> Result<Money, Status> {
    let m = value.ok_or_else(|| invalid(network, field, "is required"))?;
    Money::parse(&m.value, &m.currency).map_err(|e| invalid(network, field, &e.to_string()))
}

fn merchant_id(network: &str, merchant: Option<&pb::MerchantRef>) -> Result<String, Status> {
    let m = merchant.ok_or_else(|| invalid(network, "merchant", "is required"))?;
    if m.merchant_id.is_empty() || m.merchant_id.len() > 64 {
        return Err(invalid(
            network,
            "merchant.merchant_id",
            "must be 1..=64 characters",
        ));
    }
    Ok(m.merchant_id.clone())
}

fn text(network: &str, field: &str, value: &str) -> Result<(), Status> {
    if value.chars().count() > TEXT_CHARS_MAX || value.chars().any(char::is_control) {
        return Err(invalid(
            network,
            field,
            &format!("must be at most {TEXT_CHARS_MAX} characters without control characters"),
        ));
    }
    Ok(())
}

fn declined(code: String) -> PayOutcome {
    PayOutcome::Declined {
        reason: DeclineReason::parse(&code).unwrap_or(DeclineReason::Other),
        network_code: code,
    }
}

#[tonic::async_trait]
impl WalletNetworkService for Service {
    async fn get_profile(
        &self,
        request: Request<pb::GetProfileRequest>,
    ) -> Result<Response<pb::GetProfileResponse>, Status> {
        let act = self
            .enter(Operation::GetProfile, request.metadata())
            .await?;
        let reply = match act {
            Act::Garble => return garbled(),
            Act::Decline(code) => return Err(Status::failed_precondition(code)),
            _ => pb::GetProfileResponse {
                profile: Some(crate::profile::to_pb(self.partner.profile())),
            },
        };
        leave(act, reply).await
    }

    async fn pay(
        &self,
        request: Request<pb::WalletNetworkServicePayRequest>,
    ) -> Result<Response<pb::WalletNetworkServicePayResponse>, Status> {
        let act = self.enter(Operation::Pay, request.metadata()).await?;
        let n = self.network();
        let r = request.get_ref();
        let outcome = match act {
            Act::Garble => return garbled(),
            Act::Decline(ref code) => declined(code.clone()),
            _ => {
                let charge = Charge {
                    payment_id: id(n, "payment_id", &r.payment_id)?,
                    merchant_id: merchant_id(n, r.merchant.as_ref())?,
                    amount: money(n, "amount", r.amount.as_ref())?,
                    code: kakehashi_adapter_core::PaymentCode::parse(&r.code)
                        .map_err(|e| invalid(n, "code", &e.to_string()))?
                        .expose()
                        .to_owned(),
                };
                text(n, "description", &r.description)?;
                let now = self.partner.now_ms();
                self.partner
                    .books()
                    .pay(&charge, now)
                    .map_err(|e| refusal(n, e))?
            }
        };
        let reply = pb::WalletNetworkServicePayResponse {
            outcome: Some(wire_pay(outcome)),
        };
        leave(act, reply).await
    }

    async fn query(
        &self,
        request: Request<pb::QueryRequest>,
    ) -> Result<Response<pb::QueryResponse>, Status> {
        let act = self.enter(Operation::Query, request.metadata()).await?;
        let n = self.network();
        let r = request.get_ref();
        let outcome = match act {
            Act::Garble => return garbled(),
            Act::Decline(ref code) => declined(code.clone()),
            _ => {
                let payment_id = id(n, "payment_id", &r.payment_id)?;
                let amount = money(n, "amount", r.amount.as_ref())?;
                let now = self.partner.now_ms();
                self.partner
                    .books()
                    .query(&payment_id, &amount, now)
                    .map_err(|e| refusal(n, e))?
            }
        };
        leave(
            act,
            pb::QueryResponse {
                outcome: Some(wire_pay(outcome)),
            },
        )
        .await
    }

    async fn reverse(
        &self,
        request: Request<pb::ReverseRequest>,
    ) -> Result<Response<pb::ReverseResponse>, Status> {
        let act = self.enter(Operation::Reverse, request.metadata()).await?;
        let n = self.network();
        let r = request.get_ref();
        let outcome = match act {
            Act::Garble => return garbled(),
            Act::Decline(ref code) => ReverseOutcome::Refused {
                network_code: code.clone(),
                detail: "injected".into(),
            },
            _ => {
                let payment_id = id(n, "payment_id", &r.payment_id)?;
                let amount = money(n, "amount", r.amount.as_ref())?;
                let now = self.partner.now_ms();
                self.partner
                    .books()
                    .reverse(&payment_id, &amount, now)
                    .map_err(|e| refusal(n, e))?
            }
        };
        leave(
            act,
            pb::ReverseResponse {
                outcome: Some(wire_reverse(outcome)),
            },
        )
        .await
    }

    async fn refund(
        &self,
        request: Request<pb::RefundRequest>,
    ) -> Result<Response<pb::RefundResponse>, Status> {
        let act = self.enter(Operation::Refund, request.metadata()).await?;
        let n = self.network();
        let r = request.get_ref();
        let outcome = match act {
            Act::Garble => return garbled(),
            Act::Decline(ref code) => refund_declined(code.clone()),
            _ => {
                let payment_id = id(n, "payment_id", &r.payment_id)?;
                let refund_id = id(n, "refund_id", &r.refund_id)?;
                money(n, "payment_amount", r.payment_amount.as_ref())?;
                let amount = money(n, "amount", r.amount.as_ref())?;
                text(n, "reason", &r.reason)?;
                let now = self.partner.now_ms();
                self.partner
                    .books()
                    .refund(&payment_id, &refund_id, &amount, now)
                    .map_err(|e| refusal(n, e))?
            }
        };
        leave(
            act,
            pb::RefundResponse {
                outcome: Some(wire_refund(outcome)),
            },
        )
        .await
    }

    async fn query_refund(
        &self,
        request: Request<pb::QueryRefundRequest>,
    ) -> Result<Response<pb::QueryRefundResponse>, Status> {
        let act = self
            .enter(Operation::QueryRefund, request.metadata())
            .await?;
        let n = self.network();
        let r = request.get_ref();
        let outcome = match act {
            Act::Garble => return garbled(),
            Act::Decline(ref code) => refund_declined(code.clone()),
            _ => {
                let payment_id = id(n, "payment_id", &r.payment_id)?;
                let refund_id = id(n, "refund_id", &r.refund_id)?;
                self.partner
                    .books()
                    .query_refund(&payment_id, &refund_id)
                    .map_err(|e| refusal(n, e))?
            }
        };
        leave(
            act,
            pb::QueryRefundResponse {
                outcome: Some(wire_refund(outcome)),
            },
        )
        .await
    }

    async fn create_merchant_qr(
        &self,
        request: Request<pb::WalletNetworkServiceCreateMerchantQrRequest>,
    ) -> Result<Response<pb::WalletNetworkServiceCreateMerchantQrResponse>, Status> {
        let act = self
            .enter(Operation::CreateMerchantQr, request.metadata())
            .await?;
        let n = self.network();
        let r = request.get_ref();
        let qr: MerchantQr = match act {
            Act::Garble => return garbled(),
            Act::Decline(code) => return Err(Status::failed_precondition(code)),
            _ => {
                let payment_id = id(n, "payment_id", &r.payment_id)?;
                let merchant = merchant_id(n, r.merchant.as_ref())?;
                let amount = money(n, "amount", r.amount.as_ref())?;
                text(n, "description", &r.description)?;
                if r.expires_at_ms <= r.created_at_ms {
                    return Err(invalid(n, "expires_at_ms", "must be after created_at_ms"));
                }
                self.partner
                    .books()
                    .create_qr(&payment_id, &merchant, &amount, r.expires_at_ms, n)
                    .map_err(|e| refusal(n, e))?
            }
        };
        leave(
            act,
            pb::WalletNetworkServiceCreateMerchantQrResponse {
                qr_payload: qr.qr_payload,
                network_code_id: qr.network_code_id.unwrap_or_default(),
                expires_at_ms: qr.expires_at_ms.unwrap_or_default(),
            },
        )
        .await
    }
}

fn refund_declined(code: String) -> RefundOutcome {
    RefundOutcome::Declined {
        reason: DeclineReason::parse(&code).unwrap_or(DeclineReason::Other),
        network_code: code,
    }
}

fn wire_money(m: &Money) -> pb::Money {
    crate::translate::money(m)
}

fn wire_declined(reason: DeclineReason, network_code: String) -> pb::Declined {
    pb::Declined {
        reason: wire_decline_reason(reason) as i32,
        network_code,
    }
}

fn wire_pay(outcome: PayOutcome) -> pb::PayOutcome {
    use pb::pay_outcome::Outcome as W;
    let case = match outcome {
        PayOutcome::Succeeded(paid) => W::Succeeded(pb::Paid {
            network_txn_id: paid.network_txn_id,
            wallet_brand: paid.wallet_brand.unwrap_or_default(),
            wallet_amount: paid.wallet_amount.map(|w| pb::WalletAmount {
                amount: Some(wire_money(&w.amount)),
                rate: w
                    .rate
                    .map(|r| r.normalize().to_string())
                    .unwrap_or_default(),
            }),
            settlement_quote: None,
            settlement_quote_expires_at_ms: 0,
        }),
        PayOutcome::AwaitingCustomer { network_txn_id } => {
            W::AwaitingCustomer(pb::AwaitingCustomer {
                network_txn_id: network_txn_id.unwrap_or_default(),
            })
        }
        PayOutcome::Declined {
            reason,
            network_code,
        } => W::Declined(wire_declined(reason, network_code)),
        PayOutcome::Unknown { detail } => W::Unknown(pb::Unknown { detail }),
        PayOutcome::NotReceived { detail } => W::NotReceived(pb::NotReceived { detail }),
    };
    pb::PayOutcome {
        outcome: Some(case),
    }
}

fn wire_reverse(outcome: ReverseOutcome) -> pb::ReverseOutcome {
    use pb::reverse_outcome::Outcome as W;
    let case = match outcome {
        ReverseOutcome::Reversed => W::Reversed(pb::Reversed {}),
        ReverseOutcome::Retry { detail } => W::Retry(pb::RetryReverse { detail }),
        ReverseOutcome::TooEarly { not_before_ms } => W::TooEarly(pb::TooEarly { not_before_ms }),
        ReverseOutcome::Refused {
            network_code,
            detail,
        } => W::Refused(pb::Refused {
            network_code,
            detail,
        }),
    };
    pb::ReverseOutcome {
        outcome: Some(case),
    }
}

fn wire_refund(outcome: RefundOutcome) -> pb::RefundOutcome {
    use pb::refund_outcome::Outcome as W;
    let case = match outcome {
        RefundOutcome::Succeeded { network_refund_id } => {
            W::Succeeded(pb::RefundSucceeded { network_refund_id })
        }
        RefundOutcome::Pending { network_refund_id } => W::Pending(pb::RefundPending {
            network_refund_id: network_refund_id.unwrap_or_default(),
        }),
        RefundOutcome::Declined {
            reason,
            network_code,
        } => W::Declined(wire_declined(reason, network_code)),
        RefundOutcome::Unknown { detail } => W::Unknown(pb::Unknown { detail }),
        RefundOutcome::NotTaken { detail } => W::NotTaken(pb::NotTaken { detail }),
    };
    pb::RefundOutcome {
        outcome: Some(case),
    }
}
