//! `kakehashi.v1.SettlementService`: the operator closes business days and reads batches,
//! ledger balances and invoices. Operator keys only ([`OperatorAuth`]); a terminal's key is
//! refused with PERMISSION_DENIED. Each handler parses, calls settlement, converts
//! (`settlement_pb.rs`); closing runs exactly the code `kakehashi settle` runs.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kakehashi_adapter_core::Clock;
use kakehashi_proto::v1 as pb;
use kakehashi_proto::v1::settlement_service_server::{SettlementService, SettlementServiceServer};
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use tonic::service::interceptor::InterceptedService;
use tonic::{Code, Request, Response, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use super::auth::API_KEY_HEADER;
use super::reason::DOMAIN;
use super::settlement_pb as conv;
use crate::fx::RateBook;
use crate::settlement::cli::{SettleError, book_for, close_day};
use crate::settlement::invoice::build_invoice;
use crate::settlement::reconcile::{FxOptions, ReconcileError, reconcile_file};
use crate::settlement::{BusinessDate, SettlementSetup};

/// Longest range ListBatches reads, in days.
const LIST_DAYS_MAX: i64 = 366;
/// Most balances one GetBalances answer holds.
const BALANCES_RETURNED_MAX: usize = 10_000;
/// Longest API key read from metadata.
const API_KEY_LENGTH_MAX: usize = 256;
/// Largest request: a reconciliation file, at most this, plus its few fields.
const RECONCILE_REQUEST_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Who may call: SHA-256 of each operator key, and of each terminal key (to tell "wrong
/// role" from "nobody's key").
#[derive(Debug, Clone, Default)]
pub struct OperatorAuth {
    operators: Arc<HashMap<String, String>>,
    terminals: Arc<HashSet<String>>,
}

/// The operator the interceptor authenticated, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorIdentity {
    pub operator_id: String,
}

#[derive(Clone)]
pub struct SettlementApi {
    pool: AnyPool,
    setup: Option<Arc<SettlementSetup>>,
    book: Arc<RateBook>,
    clock: Arc<dyn Clock>,
    /// Each network's adapter, which decides its file format.
    adapters: Arc<std::collections::BTreeMap<String, String>>,
}

pub type SettlementServer =
    InterceptedService<SettlementServiceServer<SettlementApi>, OperatorAuth>;

// === impl OperatorAuth ===

impl OperatorAuth {
    pub fn new(
        operators: impl IntoIterator<Item = (String, String)>,
        terminals: impl IntoIterator<Item = String>,
    ) -> Self {
        Self {
            operators: Arc::new(operators.into_iter().collect()),
            terminals: Arc::new(terminals.into_iter().collect()),
        }
    }

    #[allow(clippy::result_large_err)]
    fn check(&self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let key = request.metadata().get(API_KEY_HEADER).ok_or_else(|| {
            refuse(
                Code::Unauthenticated,
                "API_KEY_MISSING",
                "missing x-api-key: send an operator key",
            )
        })?;
        let key = key
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.len() <= API_KEY_LENGTH_MAX)
            .ok_or_else(|| {
                refuse(
                    Code::Unauthenticated,
                    "API_KEY_INVALID",
                    "x-api-key is malformed",
                )
            })?;
        let hash = hex::encode(Sha256::digest(key.as_bytes()));
        if let Some(operator_id) = self.operators.get(&hash) {
            request.extensions_mut().insert(OperatorIdentity {
                operator_id: operator_id.clone(),
            });
            return Ok(request);
        }
        if self.terminals.contains(&hash) {
            return Err(refuse(
                Code::PermissionDenied,
                "OPERATOR_ONLY",
                "a terminal key cannot call SettlementService; use an operator key",
            ));
        }
        Err(refuse(
            Code::Unauthenticated,
            "API_KEY_INVALID",
            "unknown API key",
        ))
    }
}

impl tonic::service::Interceptor for OperatorAuth {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        self.check(request)
    }
}

// === impl SettlementApi ===

impl SettlementApi {
    pub fn new(
        pool: AnyPool,
        setup: Option<SettlementSetup>,
        book: RateBook,
        clock: Arc<dyn Clock>,
        adapters: std::collections::BTreeMap<String, String>,
    ) -> Self {
        Self {
            pool,
            setup: setup.map(Arc::new),
            book: Arc::new(book),
            clock,
            adapters: Arc::new(adapters),
        }
    }

    /// The service behind its operator check, ready for `Server::add_service`.
    /// Requests may be as large as a reconciliation file (`RECONCILE_REQUEST_BYTES_MAX`),
    /// or `request_bytes_max` if larger.
    pub fn into_server(self, auth: OperatorAuth, request_bytes_max: usize) -> SettlementServer {
        let server = SettlementServiceServer::new(self)
            .max_decoding_message_size(request_bytes_max.max(RECONCILE_REQUEST_BYTES_MAX));
        InterceptedService::new(server, auth)
    }

    #[allow(clippy::result_large_err)]
    fn setup(&self) -> Result<&SettlementSetup, Status> {
        self.setup.as_deref().ok_or_else(|| {
            refuse(
                Code::FailedPrecondition,
                "SETTLEMENT_NOT_CONFIGURED",
                "this switch has no [settlement] section",
            )
        })
    }
}

#[allow(clippy::result_large_err)]
fn operator<T>(request: &Request<T>) -> Result<(), Status> {
    request
        .extensions()
        .get::<OperatorIdentity>()
        .map(|_| ())
        .ok_or_else(|| {
            refuse(
                Code::Unauthenticated,
                "API_KEY_MISSING",
                "no operator identity",
            )
        })
}

/// A status with ErrorInfo (and BadRequest naming `field`, for INVALID_ARGUMENT).
fn refuse(code: Code, reason: &str, message: &str) -> Status {
    let details = ErrorDetails::with_error_info(reason, DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}

fn bad_field(field: &str, reason: &str, message: &str) -> Status {
    let mut details = ErrorDetails::with_error_info(
        reason,
        DOMAIN,
        HashMap::from([("field".to_owned(), field.to_owned())]),
    );
    details.set_bad_request(vec![FieldViolation {
        field: field.to_owned(),
        description: message.to_owned(),
        reason: reason.to_owned(),
        localized_message: None,
    }]);
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {message}"),
        details,
    )
}

#[allow(clippy::result_large_err)]
fn date(field: &str, raw: &str) -> Result<BusinessDate, Status> {
    raw.parse::<BusinessDate>()
        .map_err(|_| bad_field(field, "DATE_FORMAT", "write a real date as YYYY-MM-DD"))
}

fn settle_status(e: SettleError) -> Status {
    match e {
        SettleError::Store(detail) => {
            tracing::error!(error = %detail, "Settlement failed inside the switch");
            refuse(
                Code::Internal,
                "INTERNAL_ERROR",
                "the switch failed; it is safe to retry",
            )
        }
        other => refuse(
            Code::FailedPrecondition,
            "SETTLE_FAILED",
            &other.to_string(),
        ),
    }
}

fn store_status(e: crate::store::StoreError) -> Status {
    settle_status(SettleError::Store(e))
}

#[tonic::async_trait]
impl SettlementService for SettlementApi {
    async fn close_business_day(
        &self,
        request: Request<pb::CloseBusinessDayRequest>,
    ) -> Result<Response<pb::CloseBusinessDayResponse>, Status> {
        operator(&request)?;
        let day = date("business_date", &request.get_ref().business_date)?;
        let setup = self.setup()?;
        let book = book_for(&self.pool, setup, (*self.book).clone(), day)
            .await
            .map_err(settle_status)?;
        let report = close_day(&self.pool, setup, &book, day, None, self.clock.now_ms())
            .await
            .map_err(settle_status)?;
        tracing::info!(date = %day, batches = report.batches.len(), payouts = report.payouts.len(), "Business day closed");
        Ok(Response::new(pb::CloseBusinessDayResponse {
            batches: report
                .batches
                .iter()
                .map(|(batch, won)| pb::ClosedBatch {
                    batch: Some(conv::batch(batch, true)),
                    closed_now: *won,
                })
                .collect(),
            payouts: report.payouts.iter().map(conv::payout).collect(),
        }))
    }

    async fn get_batch(
        &self,
        request: Request<pb::GetBatchRequest>,
    ) -> Result<Response<pb::GetBatchResponse>, Status> {
        operator(&request)?;
        let r = request.get_ref();
        let setup = self.setup()?;
        if !setup.networks.contains_key(&r.network) {
            return Err(bad_field(
                "network",
                "NETWORK_UNKNOWN",
                "names no settled network",
            ));
        }
        let day = date("business_date", &r.business_date)?;
        let batch = crate::settlement::sql::get_batch(&self.pool, &r.network, day)
            .await
            .map_err(store_status)?
            .ok_or_else(|| {
                refuse(
                    Code::NotFound,
                    "BATCH_NOT_FOUND",
                    "no closed batch for this network and date",
                )
            })?;
        Ok(Response::new(pb::GetBatchResponse {
            batch: Some(conv::batch(&batch, true)),
        }))
    }

    async fn list_batches(
        &self,
        request: Request<pb::ListBatchesRequest>,
    ) -> Result<Response<pb::ListBatchesResponse>, Status> {
        operator(&request)?;
        let r = request.get_ref();
        let setup = self.setup()?;
        let from = date("from_date", &r.from_date)?;
        let to = date("to_date", &r.to_date)?;
        let days = (to.date() - from.date()).whole_days();
        if !(0..LIST_DAYS_MAX).contains(&days) {
            return Err(bad_field(
                "to_date",
                "RANGE_TOO_LARGE",
                "must be on or after from_date and within 366 days of it",
            ));
        }
        if !r.network.is_empty() && !setup.networks.contains_key(&r.network) {
            return Err(bad_field(
                "network",
                "NETWORK_UNKNOWN",
                "names no settled network",
            ));
        }
        let batches = crate::settlement::sql::batches_between(&self.pool, from, to)
            .await
            .map_err(store_status)?;
        Ok(Response::new(pb::ListBatchesResponse {
            batches: batches
                .iter()
                .filter(|b| r.network.is_empty() || b.network == r.network)
                .map(|b| conv::batch(b, false))
                .collect(),
        }))
    }

    async fn get_balances(
        &self,
        request: Request<pb::GetBalancesRequest>,
    ) -> Result<Response<pb::GetBalancesResponse>, Status> {
        operator(&request)?;
        let r = request.get_ref();
        let as_of = if r.as_of_ms == 0 {
            self.clock.now_ms()
        } else {
            r.as_of_ms
        };
        let balances = crate::settlement::ledger::sql::balances(&self.pool, as_of)
            .await
            .map_err(store_status)?;
        let mut matching = balances
            .iter()
            .filter(|b| b.account.to_string().starts_with(&r.account_prefix));
        let rows: Vec<pb::AccountBalance> = matching
            .by_ref()
            .take(BALANCES_RETURNED_MAX)
            .map(conv::balance)
            .collect();
        let truncated = matching.next().is_some();
        Ok(Response::new(pb::GetBalancesResponse {
            balances: rows,
            truncated,
        }))
    }

    async fn get_invoice(
        &self,
        request: Request<pb::GetInvoiceRequest>,
    ) -> Result<Response<pb::GetInvoiceResponse>, Status> {
        operator(&request)?;
        let r = request.get_ref();
        let setup = self.setup()?;
        let merchant = setup.merchants.get(&r.merchant_id).ok_or_else(|| {
            bad_field(
                "merchant_id",
                "MERCHANT_UNKNOWN",
                "names no configured merchant",
            )
        })?;
        let to = date("period_to", &r.period_to)?;
        if !merchant.cycle.closes_on(to) {
            return Err(refuse(
                Code::NotFound,
                "INVOICE_NOT_FOUND",
                "the merchant's payout period does not end on period_to",
            ));
        }
        let from = merchant.cycle.period_start(to);
        let batches = crate::settlement::sql::batches_between(&self.pool, from, to)
            .await
            .map_err(store_status)?;
        // Invoices are rebuilt from the immutable batches, so the same period always gives
        // the same invoice, byte for byte, as `kakehashi settle` wrote it.
        let invoice = build_invoice(setup, merchant, from, to, to, &batches)
            .map_err(|e| settle_status(SettleError::Invoice(e)))?;
        Ok(Response::new(pb::GetInvoiceResponse {
            invoice: Some(conv::invoice(&invoice)),
        }))
    }

    async fn reconcile(
        &self,
        request: Request<pb::ReconcileRequest>,
    ) -> Result<Response<pb::ReconcileResponse>, Status> {
        operator(&request)?;
        let r = request.into_inner();
        let adapter = self.adapters.get(&r.network).ok_or_else(|| {
            bad_field(
                "network",
                "NETWORK_UNKNOWN",
                "names no network of this switch",
            )
        })?;
        let day = date("business_date", &r.business_date)?;
        let tolerance = if r.fx_tolerance_minor == 0 {
            1
        } else {
            r.fx_tolerance_minor
        };
        if tolerance < 0 {
            return Err(bad_field(
                "fx_tolerance_minor",
                "RANGE_TOO_LARGE",
                "must not be negative",
            ));
        }
        let fx = FxOptions {
            tolerance_minor: tolerance,
            rounding: self.book.policy().for_network(&r.network).rounding,
        };
        let report = reconcile_file(
            &self.pool,
            &r.network,
            adapter,
            self.setup.as_deref(),
            day,
            &r.file,
            fx,
        )
        .await
        .map_err(|e| match e {
            ReconcileError::File(detail) => bad_field("file", "FILE_UNREADABLE", &detail),
            ReconcileError::Config(detail) => {
                refuse(Code::FailedPrecondition, "FORMAT_UNKNOWN", &detail)
            }
            ReconcileError::Store(e) => store_status(e),
        })?;
        tracing::info!(network = %r.network, date = %day, findings = report.findings.len(), "Reconciled");
        Ok(Response::new(conv::recon_report(&report)))
    }
}

/// The settlement service for `config`, on `pool`.
pub fn from_config(
    config: &crate::config::Config,
    pool: AnyPool,
    clock: Arc<dyn Clock>,
) -> Result<SettlementServer, String> {
    let setup = match &config.settlement {
        Some(s) => Some(s.build().map_err(|e| e.to_string())?),
        None => None,
    };
    let book = config.fx.load_book().map_err(|e| format!("fx: {e}"))?;
    let adapters = config
        .network_settings()
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(id, s)| (id, s.adapter_kind))
        .collect();
    let auth = OperatorAuth::new(
        config
            .operators
            .iter()
            .filter_map(|o| Some((o.api_key_hash().ok()?, o.id.clone()))),
        config
            .terminals
            .iter()
            .filter_map(|t| t.api_key_hash().ok()),
    );
    Ok(SettlementApi::new(pool, setup, book, clock, adapters)
        .into_server(auth, config.limits.request_bytes_max))
}
