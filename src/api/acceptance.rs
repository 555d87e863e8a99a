//! `kakehashi.v1.AcceptanceService`: each handler takes the caller from the request
//! extensions, parses the request into a command, and hands it to `payments`. The edge
//! (`api/edge.rs`) in front of it authenticates, opens the request's span and logs refusals.
use std::pin::Pin;
use std::time::Duration;

use futures::Stream;
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::acceptance_service_server::AcceptanceService;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::auth::TerminalIdentity;
use super::convert::{order_id, pb_payment, pb_quote, pb_refund};
use super::reason::Reason;
use super::status::Refusal;
use crate::gateway::codes::MerchantCodes;
use crate::payments::{Caller, Payments};
use std::sync::Arc;

/// Longest a WatchPayment stream stays open.
const WATCH_DURATION_MAX: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct AcceptanceApi {
    payments: Payments,
    /// Our merchants' codes, for CreateMerchantQr `switch_code`; without them it is refused.
    codes: Option<Arc<MerchantCodes>>,
}

impl AcceptanceApi {
    pub fn new(payments: Payments) -> Self {
        Self {
            payments,
            codes: None,
        }
    }

    pub fn with_codes(mut self, codes: Arc<MerchantCodes>) -> Self {
        self.codes = Some(codes);
        self
    }

    /// CreateMerchantQr with `switch_code`: only for a network a partner of the gateway
    /// speaks for, and a merchant with `qr` settings.
    async fn create_switch_code(
        &self,
        caller: &Caller,
        command: crate::payments::MerchantQrCommand,
    ) -> Result<crate::payments::PaymentView, Status> {
        let codes = self
            .codes
            .as_ref()
            .filter(|c| c.has_partner(&command.network))
            .ok_or_else(|| {
                super::status::Violation::new(
                    "network",
                    Reason::NetworkUnknown,
                    "no partner of the partner gateway speaks for this network",
                )
                .into_status()
            })?;
        if !codes.merchant_has_codes(&caller.merchant_id) {
            let message = "the merchant has no `qr` settings, so the switch issues it no codes";
            return Err(Refusal::new(Reason::OperationNotSupported, message)
                .precondition("merchant", message)
                .into_status());
        }
        let issue = |merchant: &str,
                     terminal: &str,
                     amount: &kakehashi_adapter_core::Money,
                     reference: &str| {
            codes.issue_dynamic(merchant, terminal, amount, reference)
        };
        Ok(self
            .payments
            .create_switch_code(caller, command, &issue)
            .await?)
    }
}

/// The terminal the edge authenticated; a request that reached a handler without one came
/// past the edge, and is refused as unauthenticated.
#[allow(clippy::result_large_err)]
fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    let identity = request
        .extensions()
        .get::<TerminalIdentity>()
        .ok_or_else(|| {
            Refusal::new(Reason::ApiKeyMissing, "missing terminal identity").into_status()
        })?;
    Ok(Caller {
        merchant_id: identity.merchant_id.clone(),
        terminal_id: identity.terminal_id.clone(),
    })
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchPaymentResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AcceptanceService for AcceptanceApi {
    async fn pay(
        &self,
        request: Request<pb::PayRequest>,
    ) -> Result<Response<pb::PayResponse>, Status> {
        let caller = caller(&request)?;
        let command = request.into_inner().try_into()?;
        let view = self.payments.pay(&caller, command).await?;
        Ok(Response::new(pb::PayResponse {
            payment: Some(pb_payment(&view)),
        }))
    }

    async fn create_merchant_qr(
        &self,
        request: Request<pb::CreateMerchantQrRequest>,
    ) -> Result<Response<pb::CreateMerchantQrResponse>, Status> {
        let caller = caller(&request)?;
        let command: crate::payments::MerchantQrCommand = request.into_inner().try_into()?;
        let view = if command.switch_code {
            self.create_switch_code(&caller, command).await?
        } else {
            self.payments.create_merchant_qr(&caller, command).await?
        };
        Ok(Response::new(pb::CreateMerchantQrResponse {
            payment: Some(pb_payment(&view)),
        }))
    }

    async fn get_payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<Response<pb::GetPaymentResponse>, Status> {
        let caller = caller(&request)?;
        let id = order_id(&request.get_ref().merchant_order_id)?;
        let view = self.payments.get(&caller, id.as_str()).await?;
        Ok(Response::new(pb::GetPaymentResponse {
            payment: Some(pb_payment(&view)),
        }))
    }

    type WatchPaymentStream = WatchStream;

    async fn watch_payment(
        &self,
        request: Request<pb::WatchPaymentRequest>,
    ) -> Result<Response<Self::WatchPaymentStream>, Status> {
        let caller = caller(&request)?;
        let receiver = if request.get_ref().next_on_static_code {
            if !request.get_ref().merchant_order_id.is_empty() {
                return Err(super::status::Violation::new(
                    "merchant_order_id",
                    Reason::OrderIdFormat,
                    "must be empty with next_on_static_code",
                )
                .into_status());
            }
            self.payments
                .watch_next_on_code(&caller, WATCH_DURATION_MAX)
                .await?
        } else {
            let id = order_id(&request.get_ref().merchant_order_id)?;
            self.payments
                .watch(&caller, id.as_str(), WATCH_DURATION_MAX)
                .await?
        };
        let stream = ReceiverStream::new(receiver).map(|view| {
            Ok(pb::WatchPaymentResponse {
                payment: Some(pb_payment(&view)),
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn cancel_payment(
        &self,
        request: Request<pb::CancelPaymentRequest>,
    ) -> Result<Response<pb::CancelPaymentResponse>, Status> {
        let caller = caller(&request)?;
        let command = request.into_inner().try_into()?;
        let view = self.payments.cancel(&caller, command).await?;
        Ok(Response::new(pb::CancelPaymentResponse {
            payment: Some(pb_payment(&view)),
        }))
    }

    async fn refund_payment(
        &self,
        request: Request<pb::RefundPaymentRequest>,
    ) -> Result<Response<pb::RefundPaymentResponse>, Status> {
        let caller = caller(&request)?;
        let command = request.into_inner().try_into()?;
        let (view, refund) = self.payments.refund(&caller, command).await?;
        Ok(Response::new(pb::RefundPaymentResponse {
            payment: Some(pb_payment(&view)),
            refund: Some(pb_refund(&refund)),
        }))
    }

    async fn quote(
        &self,
        request: Request<pb::QuoteRequest>,
    ) -> Result<Response<pb::QuoteResponse>, Status> {
        let caller = caller(&request)?;
        let command = request.into_inner().try_into()?;
        let quote = self.payments.quote(&caller, command).await?;
        Ok(Response::new(pb::QuoteResponse {
            quote: Some(pb_quote(&quote)),
        }))
    }
}
