ALTER TABLE fx_quotes ADD COLUMN idempotency_key TEXT;

ALTER TABLE fx_quotes ADD COLUMN request_hash TEXT;

CREATE UNIQUE INDEX fx_quotes_idempotency ON fx_quotes (merchant_id, idempotency_key)
