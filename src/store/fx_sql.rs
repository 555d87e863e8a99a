//! Rates and quotes in SQL (migration 0005). Each function takes any executor, so it runs
//! on the pool or inside the caller's transaction (`&mut *tx`), as the write path needs.
use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::{Any, Executor, Row};

use crate::fx::{Pair, Quote, Rate, RateSource, RoundingMode};
use crate::store::StoreError;
use kakehashi_adapter_core::Money;

/// Most rates one query loads.
pub const RATES_LOADED_MAX: i64 = 500_000;

const TABLE_RATES: &str = "fx_rates";
const TABLE_QUOTES: &str = "fx_quotes";

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

/// Stores a quote so `Pay` can name it later; inside the transaction that answers `Quote`.
pub async fn insert_quote<'e, E>(executor: E, quote: &Quote) -> Result<(), StoreError>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO fx_quotes (quote_id, network, pair, rate_market, rate_source, markup, \
         rate_quoted, merchant_value, merchant_currency, wallet_value, wallet_currency, rounding, \
         created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
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
    .execute(executor)
    .await?;
    Ok(())
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
