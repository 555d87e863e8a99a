//! FX quotes at the acceptance edge: issuing one (our rate for a merchant amount on a
//! network, stored durably before the answer), checking the one `Pay` names, and comparing
//! it with the conversion the network reports when it captures the payment.
use kakehashi_adapter_core::Money;
use rust_decimal::{Decimal, RoundingStrategy};

use super::commands::{Caller, QuoteCommand};
use super::{PayError, Payments};
use crate::domain::PaymentRecord;
use crate::fx::{FxError, Pair, Quote, QuoteComparison};
use crate::store::QuoteComparisonRow;

/// Decimals kept of a rate implied by two amounts when the network reports none: the rates
/// file's own precision bound.
const IMPLIED_RATE_SCALE: u32 = 10;

/// What a payment shows of its quote: ours, and once captured, how the network's differed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FxView {
    pub quote: Quote,
    pub comparison: Option<QuoteComparison>,
}

/// Why the quote a `Pay` named cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteRefusal {
    #[error("quote `{0}` is unknown to this merchant; ask Quote for one")]
    Unknown(String),
    #[error("quote {quote_id} expired at {expires_at_ms} ms; ask Quote for a new one")]
    Expired {
        quote_id: String,
        expires_at_ms: i64,
    },
    #[error("quote {quote_id} is for {quoted}, the payment is {paid}")]
    Mismatch {
        quote_id: String,
        quoted: String,
        paid: String,
    },
}

// === impl Payments ===

impl Payments {
    /// Issues a quote for the caller's merchant and stores it under the client's key before
    /// answering, so the `Pay` naming it finds it on any replica and a retry of the request
    /// gets the same quote back (as `Pay` replays by `merchant_order_id`).
    pub async fn quote(&self, caller: &Caller, cmd: QuoteCommand) -> Result<Quote, PayError> {
        let request_hash = cmd.content_hash();
        if let Some(quote) = self.quote_replay(caller, &cmd, &request_hash).await? {
            return Ok(quote);
        }
        if self.inner.networks.get(&cmd.network).is_none() {
            return Err(PayError::UnknownNetwork(cmd.network.clone()));
        }
        let network = self.usable_network(&cmd.network, &cmd.amount)?;
        let merchant = self.merchant(&caller.merchant_id)?;
        if !merchant.networks.iter().any(|n| n == &network.profile.id) {
            return Err(PayError::NetworkNotEnabled(network.profile.id.clone()));
        }
        let now = self.now_ms();
        let pair = Pair::new(cmd.amount.currency(), cmd.wallet_currency).map_err(rate_error)?;
        let mut book = self.inner.fx.clone();
        let mut tx = self.inner.store.begin().await?;
        let stored_rates = crate::fx::sql::rates_for_pair_at(&mut *tx, pair, now).await?;
        tx.rollback()
            .await
            .map_err(crate::store::StoreError::from)?;
        for rate in stored_rates {
            book.add(rate).map_err(rate_error)?;
        }
        let quote = crate::fx::quote(
            &book,
            &network.profile.id,
            cmd.amount,
            cmd.wallet_currency,
            now,
        )
        .map_err(rate_error)?;
        // A transaction of its own that only writes: on SQLite a read followed by a write in
        // one transaction cannot wait for a concurrent writer (the lock upgrade fails at once),
        // and two requests under one key are exactly that race.
        let mut tx = self.inner.store.begin().await?;
        let stored = crate::fx::sql::insert_keyed_quote(
            &mut *tx,
            &caller.merchant_id,
            cmd.idempotency_key.as_str(),
            &request_hash,
            &quote,
        )
        .await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        if !stored {
            // Another request with the key was stored first: answer as its replay would.
            return self
                .quote_replay(caller, &cmd, &request_hash)
                .await?
                .ok_or_else(|| PayError::Internal("a keyed quote vanished".into()));
        }
        tracing::info!(
            quote_id = %quote.quote_id,
            merchant_id = %caller.merchant_id,
            network = %quote.network,
            pair = %quote.pair,
            rate = %quote.rate_quoted,
            "Quote issued"
        );
        Ok(quote)
    }

    /// The quote stored under the request's key: the same request gets it back (however long
    /// ago, expired or not), another under the key is refused.
    async fn quote_replay(
        &self,
        caller: &Caller,
        cmd: &QuoteCommand,
        request_hash: &str,
    ) -> Result<Option<Quote>, PayError> {
        let mut tx = self.inner.store.begin().await?;
        let keyed = crate::fx::sql::quote_by_key(
            &mut *tx,
            &caller.merchant_id,
            cmd.idempotency_key.as_str(),
        )
        .await?;
        tx.rollback()
            .await
            .map_err(crate::store::StoreError::from)?;
        match keyed {
            None => Ok(None),
            Some(k) if k.request_hash == request_hash => Ok(Some(k.quote)),
            Some(_) => Err(PayError::QuoteKeyReused(cmd.idempotency_key.to_string())),
        }
    }

    /// The quote `quote_id` if it may price this payment: the caller's merchant's, for the
    /// same network and merchant amount, not expired.
    pub(super) async fn usable_quote(
        &self,
        caller: &Caller,
        quote_id: &str,
        network: &str,
        amount: &Money,
    ) -> Result<Quote, PayError> {
        let quote = self.stored_quote(&caller.merchant_id, quote_id).await?;
        let Some(quote) = quote else {
            return Err(PayError::Quote(QuoteRefusal::Unknown(quote_id.to_owned())));
        };
        if quote.network != network {
            return Err(PayError::Quote(QuoteRefusal::Mismatch {
                quote_id: quote.quote_id,
                quoted: format!("network {}", quote.network),
                paid: format!("network {network}"),
            }));
        }
        if quote.merchant_amount != *amount {
            return Err(PayError::Quote(QuoteRefusal::Mismatch {
                quote_id: quote.quote_id.clone(),
                quoted: quote.merchant_amount.to_string(),
                paid: amount.to_string(),
            }));
        }
        if quote.is_expired(self.now_ms()) {
            return Err(PayError::Quote(QuoteRefusal::Expired {
                quote_id: quote.quote_id,
                expires_at_ms: quote.expires_at_ms,
            }));
        }
        Ok(quote)
    }

    async fn stored_quote(
        &self,
        merchant_id: &str,
        quote_id: &str,
    ) -> Result<Option<Quote>, PayError> {
        let mut tx = self.inner.store.begin().await?;
        let quote = crate::fx::sql::merchant_quote(&mut *tx, merchant_id, quote_id).await?;
        tx.rollback()
            .await
            .map_err(crate::store::StoreError::from)?;
        Ok(quote)
    }

    /// The comparison a quoted payment's capture records: `None` without a quote or a
    /// reported wallet amount. A wallet currency other than the quote's is not compared
    /// (the network charged another wallet than the one quoted); it is logged instead.
    pub(super) async fn capture_comparison(
        &self,
        after: &PaymentRecord,
    ) -> Result<Option<QuoteComparisonRow>, PayError> {
        let (Some(quote_id), Some(wallet)) = (&after.fx_quote_id, &after.wallet_amount) else {
            return Ok(None);
        };
        let Some(quote) = self.stored_quote(&after.merchant_id, quote_id).await? else {
            return Err(PayError::Internal(format!(
                "payment {} names quote {quote_id}, which is not stored",
                after.payment_id
            )));
        };
        let rate_applied = match wallet.rate {
            Some(rate) => rate,
            None => implied_rate(&after.amount, &wallet.amount)?,
        };
        match crate::fx::compare(&quote, wallet.amount, rate_applied, after.updated_at_ms) {
            Ok(comparison) => Ok(Some(QuoteComparisonRow {
                payment_id: after.payment_id.clone(),
                comparison,
                at_ms: after.updated_at_ms,
            })),
            Err(e) => {
                tracing::warn!(payment_id = %after.payment_id, error = %e, "Quote not compared");
                Ok(None)
            }
        }
    }

    /// The payment's quote and comparison, for its view.
    pub(super) async fn fx_view(
        &self,
        payment: &PaymentRecord,
    ) -> Result<Option<FxView>, PayError> {
        let Some(quote_id) = &payment.fx_quote_id else {
            return Ok(None);
        };
        let mut tx = self.inner.store.begin().await?;
        let quote =
            crate::fx::sql::merchant_quote(&mut *tx, &payment.merchant_id, quote_id).await?;
        let comparison =
            crate::fx::sql::comparison_for_payment(&mut *tx, &payment.payment_id).await?;
        tx.rollback()
            .await
            .map_err(crate::store::StoreError::from)?;
        Ok(quote.map(|quote| FxView { quote, comparison }))
    }
}

/// Wallet units per merchant unit, as the two amounts say, rounded half-even to
/// [`IMPLIED_RATE_SCALE`] decimals.
fn implied_rate(merchant: &Money, wallet: &Money) -> Result<Decimal, PayError> {
    wallet
        .amount()
        .checked_div(merchant.amount())
        .map(|r| {
            r.round_dp_with_strategy(IMPLIED_RATE_SCALE, RoundingStrategy::MidpointNearestEven)
        })
        .ok_or_else(|| PayError::Internal("implied rate overflows".into()))
}

/// A quote the rates cannot give: no rate for the pair now, or a pair that needs none.
fn rate_error(e: FxError) -> PayError {
    PayError::RateUnavailable(e.to_string())
}
