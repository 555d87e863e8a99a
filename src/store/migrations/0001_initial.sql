CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category_code TEXT NOT NULL
);

CREATE TABLE terminals (
    terminal_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    store_id TEXT NOT NULL
);

CREATE TABLE payments (
    payment_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (merchant_id),
    terminal_id TEXT NOT NULL,
    merchant_order_id TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    amount_value TEXT NOT NULL,
    currency TEXT NOT NULL,
    description TEXT NOT NULL,
    code_masked TEXT NOT NULL,
    network TEXT NOT NULL,
    state TEXT NOT NULL,
    wallet_brand TEXT,
    decline_reason TEXT,
    network_code TEXT,
    network_txn_id TEXT,
    wallet_amount_value TEXT,
    wallet_currency TEXT,
    wallet_rate TEXT,
    quote_id TEXT,
    quote_pair TEXT,
    quote_price TEXT,
    quote_settlement_value TEXT,
    quote_settlement_currency TEXT,
    quote_expires_at_ms BIGINT,
    qr_payload TEXT,
    refunded_minor BIGINT NOT NULL,
    refund_reserved_minor BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    deadline_at_ms BIGINT NOT NULL,
    reverse_attempts BIGINT NOT NULL,
    version BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT NOT NULL,
    UNIQUE (merchant_id, merchant_order_id)
);

CREATE INDEX payments_in_doubt ON payments (state, lease_until_ms);

CREATE TABLE payment_transitions (
    payment_id TEXT NOT NULL REFERENCES payments (payment_id),
    seq BIGINT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    detail TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (payment_id, seq)
);

CREATE TABLE refunds (
    refund_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    merchant_refund_id TEXT NOT NULL,
    payment_id TEXT NOT NULL REFERENCES payments (payment_id),
    request_hash TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    amount_value TEXT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    network_refund_id TEXT,
    decline_reason TEXT,
    network_code TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (merchant_id, merchant_refund_id)
);

CREATE INDEX refunds_by_payment ON refunds (payment_id);
CREATE INDEX refunds_by_state ON refunds (state)
