ALTER TABLE fx_quotes ADD COLUMN merchant_id TEXT NOT NULL DEFAULT '';

ALTER TABLE payments ADD COLUMN fx_quote_id TEXT;

CREATE TABLE fx_quote_comparisons (
    payment_id TEXT PRIMARY KEY,
    quote_id TEXT NOT NULL,
    wallet_currency TEXT NOT NULL,
    wallet_minor_quoted BIGINT NOT NULL,
    wallet_minor_applied BIGINT NOT NULL,
    difference_minor BIGINT NOT NULL,
    rate_quoted TEXT NOT NULL,
    rate_applied TEXT NOT NULL,
    rate_difference TEXT NOT NULL,
    expired BIGINT NOT NULL,
    at_ms BIGINT NOT NULL
)
