//! Rates and quotes in SQL (migrations 0005, 0007 and 0008). Each function takes any executor, so it runs
//! on the pool or inside the caller's transaction (`&mut *tx`), as the write path needs.
use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::{Any, Executor, Row};

use crate::fx::{Pair, Quote, QuoteComparison, Rate, RateSource, RoundingMode};
use crate::store::StoreError;
use kakehashi_adapter_core::Money;

/// Most rates one query loads.
pub const RATES_LOADED_MAX: i64 = 500_000;

const TABLE_RATES: &str = "fx_rates";
const TABLE_QUOTES: &str = "fx_quotes";
const TABLE_COMPARISONS: &str = "fx_quote_comparisons";
/// Most rates one pair loads for a quote: a pair has a handful of live rates (the file's,
/// the feed's, each network's applied one), never thousands.
pub const PAIR_RATES_LOADED_MAX: i64 = 1_000;

/// Stores a rate; the same rate (pair, source, network, start, observation) twice is one row.
pub async fn insert_rate<'e, E>(executor: E, rate: &Rate) -> Result<(), StoreError>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO fx_rates (pair, rate, source, network, valid_from_ms, valid_to_ms, \
         observed_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
    )
    .bind(rate.pair().to_string())
    .bind(rate.value().to_string())
    .bind(rate.source().as_str())
    .bind(rate.network().unwrap_or(""))
    .bind(rate.valid_from_ms())
    .bind(rate.valid_to_ms())
    .bind(rate.observed_at_ms())
    .execute(executor)
    .await?;
    Ok(())
}

/// Every stored rate whose window holds `at_ms`, for loading a [`crate::fx::RateBook`].
pub async fn rates_valid_at<'e, E>(executor: E, at_ms: i64) -> Result<Vec<Rate>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT pair, rate, source, network, valid_from_ms, valid_to_ms, observed_at_ms \
         FROM fx_rates WHERE valid_from_ms <= $1 AND $1 < valid_to_ms \
         ORDER BY pair, valid_from_ms LIMIT $2",
    )
    .bind(at_ms)
    .bind(RATES_LOADED_MAX)
    .fetch_all(executor)
    .await?;
    rows.iter().map(rate_from_row).collect()
}

fn rate_from_row(row: &sqlx::any::AnyRow) -> Result<Rate, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        table: TABLE_RATES,
        detail,
    };
    let pair =
        Pair::parse(&row.try_get::<String, _>("pair")?).map_err(|e| corrupt(e.to_string()))?;
    let value = decimal(&row.try_get::<String, _>("rate")?).map_err(corrupt)?;
    let source = RateSource::parse(&row.try_get::<String, _>("source")?)
        .ok_or_else(|| corrupt("unknown source".into()))?;
    let network: String = row.try_get("network")?;
    Rate::new(
        pair,
        value,
        source,
        (!network.is_empty()).then_some(network),
        row.try_get("valid_from_ms")?,
        row.try_get("valid_to_ms")?,
        row.try_get("observed_at_ms")?,
    )
    .map_err(|e| corrupt(e.to_string()))
}

/// The stored rates for one pair whose window holds `at_ms` (the partner feed's and the
/// networks' applied ones), to add to the configured book when quoting.
pub async fn rates_for_pair_at<'e, E>(
    executor: E,
    pair: Pair,
    at_ms: i64,
) -> Result<Vec<Rate>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let rows = sqlx::query(
        "SELECT pair, rate, source, network, valid_from_ms, valid_to_ms, observed_at_ms \
         FROM fx_rates WHERE pair = $1 AND valid_from_ms <= $2 AND $2 < valid_to_ms \
         ORDER BY observed_at_ms DESC LIMIT $3",
    )
    .bind(pair.to_string())
    .bind(at_ms)
    .bind(PAIR_RATES_LOADED_MAX)
    .fetch_all(executor)
    .await?;
    rows.iter().map(rate_from_row).collect()
}

/// Stores a quote with no merchant (tools and tests); the API uses [`insert_merchant_quote`].
pub async fn insert_quote<'e, E>(executor: E, quote: &Quote) -> Result<(), StoreError>
where
    E: Executor<'e, Database = Any>,
{
    insert_merchant_quote(executor, "", quote).await
}

/// Stores a quote given to `merchant_id`, so its `Pay` can name it later and no other
/// merchant can.
pub async fn insert_merchant_quote<'e, E>(
    executor: E,
    merchant_id: &str,
    quote: &Quote,
) -> Result<(), StoreError>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO fx_quotes (quote_id, network, pair, rate_market, rate_source, markup, \
         rate_quoted, merchant_value, merchant_currency, wallet_value, wallet_currency, rounding, \
         created_at_ms, expires_at_ms, merchant_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&quote.quote_id)
    .bind(&quote.network)
    .bind(quote.pair.to_string())
    .bind(quote.rate_market.to_string())
    .bind(quote.rate_source.as_str())
    .bind(quote.markup.to_string())
    .bind(quote.rate_quoted.to_string())
    .bind(quote.merchant_amount.value_string())
    .bind(quote.merchant_amount.currency_code())
    .bind(quote.wallet_amount.value_string())
    .bind(quote.wallet_amount.currency_code())
    .bind(quote.rounding.name())
    .bind(quote.created_at_ms)
    .bind(quote.expires_at_ms)
    .bind(merchant_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// A quote `Quote` stored under the client's idempotency key, with the hash of the request
/// that made it, so a replay can be told from another request under the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedQuote {
    pub request_hash: String,
    pub quote: Quote,
}

/// Stores a quote given to `merchant_id` under its idempotency key. `false`: the merchant
/// already has a quote under that key (a concurrent request won); nothing is written and
/// the caller answers as a replay would, from [`quote_by_key`].
pub async fn insert_keyed_quote<'e, E>(
    executor: E,
    merchant_id: &str,
    idempotency_key: &str,
    request_hash: &str,
    quote: &Quote,
) -> Result<bool, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let done = sqlx::query(
        "INSERT INTO fx_quotes (quote_id, network, pair, rate_market, rate_source, markup, \
         rate_quoted, merchant_value, merchant_currency, wallet_value, wallet_currency, rounding, \
         created_at_ms, expires_at_ms, merchant_id, idempotency_key, request_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (merchant_id, idempotency_key) DO NOTHING",
    )
    .bind(&quote.quote_id)
    .bind(&quote.network)
    .bind(quote.pair.to_string())
    .bind(quote.rate_market.to_string())
    .bind(quote.rate_source.as_str())
    .bind(quote.markup.to_string())
    .bind(quote.rate_quoted.to_string())
    .bind(quote.merchant_amount.value_string())
    .bind(quote.merchant_amount.currency_code())
    .bind(quote.wallet_amount.value_string())
    .bind(quote.wallet_amount.currency_code())
    .bind(quote.rounding.name())
    .bind(quote.created_at_ms)
    .bind(quote.expires_at_ms)
    .bind(merchant_id)
    .bind(idempotency_key)
    .bind(request_hash)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The quote `merchant_id` was given under `idempotency_key`, if any.
pub async fn quote_by_key<'e, E>(
    executor: E,
    merchant_id: &str,
    idempotency_key: &str,
) -> Result<Option<KeyedQuote>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT quote_id, network, pair, rate_market, rate_source, markup, rate_quoted, \
         merchant_value, merchant_currency, wallet_value, wallet_currency, rounding, \
         created_at_ms, expires_at_ms, request_hash FROM fx_quotes \
         WHERE merchant_id = $1 AND idempotency_key = $2",
    )
    .bind(merchant_id)
    .bind(idempotency_key)
    .fetch_optional(executor)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let request_hash: Option<String> = row.try_get("request_hash")?;
    Ok(Some(KeyedQuote {
        request_hash: request_hash.ok_or_else(|| StoreError::Corrupt {
            table: TABLE_QUOTES,
            detail: format!("quote under key {idempotency_key} without its request hash"),
        })?,
        quote: quote_from_row(&row)?,
    }))
}

/// The quote `quote_id` if it was given to `merchant_id`: another merchant's quote is as
/// unknown as one never issued.
pub async fn merchant_quote<'e, E>(
    executor: E,
    merchant_id: &str,
    quote_id: &str,
) -> Result<Option<Quote>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT quote_id, network, pair, rate_market, rate_source, markup, rate_quoted, \
         merchant_value, merchant_currency, wallet_value, wallet_currency, rounding, \
         created_at_ms, expires_at_ms FROM fx_quotes WHERE quote_id = $1 AND merchant_id = $2",
    )
    .bind(quote_id)
    .bind(merchant_id)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(quote_from_row).transpose()
}

/// Records how the network's conversion of a payment differs from its quote; inside the
/// transaction that books the capture. A retried capture does not record it twice.
pub async fn insert_comparison<'e, E>(
    executor: E,
    payment_id: &str,
    c: &QuoteComparison,
    at_ms: i64,
) -> Result<(), StoreError>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO fx_quote_comparisons (payment_id, quote_id, wallet_currency, \
         wallet_minor_quoted, wallet_minor_applied, difference_minor, rate_quoted, rate_applied, \
         rate_difference, expired, at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (payment_id) DO NOTHING",
    )
    .bind(payment_id)
    .bind(&c.quote_id)
    .bind(c.wallet_currency.code())
    .bind(c.wallet_minor_quoted)
    .bind(c.wallet_minor_applied)
    .bind(c.difference_minor)
    .bind(c.rate_quoted.to_string())
    .bind(c.rate_applied.to_string())
    .bind(c.rate_difference.to_string())
    .bind(i64::from(c.expired))
    .bind(at_ms)
    .execute(executor)
    .await?;
    Ok(())
}

/// The comparison recorded for a payment, if its network reported a conversion.
pub async fn comparison_for_payment<'e, E>(
    executor: E,
    payment_id: &str,
) -> Result<Option<QuoteComparison>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT quote_id, wallet_currency, wallet_minor_quoted, wallet_minor_applied, \
         difference_minor, rate_quoted, rate_applied, rate_difference, expired \
         FROM fx_quote_comparisons WHERE payment_id = $1",
    )
    .bind(payment_id)
    .fetch_optional(executor)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        table: TABLE_COMPARISONS,
        detail,
    };
    let currency_code: String = row.try_get("wallet_currency")?;
    let wallet_currency = iso_currency::Currency::from_code(&currency_code)
        .ok_or_else(|| corrupt(format!("currency {}", currency_code.escape_debug())))?;
    let comparison = QuoteComparison {
        quote_id: row.try_get("quote_id")?,
        wallet_currency,
        wallet_minor_quoted: row.try_get("wallet_minor_quoted")?,
        wallet_minor_applied: row.try_get("wallet_minor_applied")?,
        difference_minor: row.try_get("difference_minor")?,
        rate_quoted: decimal(&row.try_get::<String, _>("rate_quoted")?).map_err(corrupt)?,
        rate_applied: decimal(&row.try_get::<String, _>("rate_applied")?).map_err(corrupt)?,
        rate_difference: decimal(&row.try_get::<String, _>("rate_difference")?).map_err(corrupt)?,
        expired: row.try_get::<i64, _>("expired")? != 0,
    };
    // Paired with `compare`: the difference is what the two amounts say it is.
    if comparison.wallet_minor_applied - comparison.wallet_minor_quoted
        != comparison.difference_minor
    {
        return Err(corrupt(format!("{payment_id}: difference does not add up")));
    }
    Ok(Some(comparison))
}

pub async fn get_quote<'e, E>(executor: E, quote_id: &str) -> Result<Option<Quote>, StoreError>
where
    E: Executor<'e, Database = Any>,
{
    let row = sqlx::query(
        "SELECT quote_id, network, pair, rate_market, rate_source, markup, rate_quoted, \
         merchant_value, merchant_currency, wallet_value, wallet_currency, rounding, \
         created_at_ms, expires_at_ms FROM fx_quotes WHERE quote_id = $1",
    )
    .bind(quote_id)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(quote_from_row).transpose()
}

fn quote_from_row(row: &sqlx::any::AnyRow) -> Result<Quote, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        table: TABLE_QUOTES,
        detail,
    };
    let text = |name: &str| row.try_get::<String, _>(name);
    let money = |value: &str, currency: &str| -> Result<Money, StoreError> {
        Money::parse(&text(value)?, &text(currency)?).map_err(|e| corrupt(e.to_string()))
    };
    let rounding: RoundingMode =
        serde_json::from_value(serde_json::Value::String(text("rounding")?))
            .map_err(|e| corrupt(e.to_string()))?;
    Ok(Quote {
        quote_id: text("quote_id")?,
        network: text("network")?,
        pair: Pair::parse(&text("pair")?).map_err(|e| corrupt(e.to_string()))?,
        rate_market: decimal(&text("rate_market")?).map_err(corrupt)?,
        rate_source: RateSource::parse(&text("rate_source")?)
            .ok_or_else(|| corrupt("unknown rate source".into()))?,
        markup: decimal(&text("markup")?).map_err(corrupt)?,
        rate_quoted: decimal(&text("rate_quoted")?).map_err(corrupt)?,
        merchant_amount: money("merchant_value", "merchant_currency")?,
        wallet_amount: money("wallet_value", "wallet_currency")?,
        rounding,
        created_at_ms: row.try_get("created_at_ms")?,
        expires_at_ms: row.try_get("expires_at_ms")?,
    })
}

fn decimal(text: &str) -> Result<Decimal, String> {
    Decimal::from_str(text).map_err(|_| format!("`{}` is not a decimal", text.escape_debug()))
}
