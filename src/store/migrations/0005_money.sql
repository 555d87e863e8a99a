CREATE TABLE fx_rates (
    pair TEXT NOT NULL,
    rate TEXT NOT NULL,
    source TEXT NOT NULL,
    network TEXT NOT NULL,
    valid_from_ms BIGINT NOT NULL,
    valid_to_ms BIGINT NOT NULL,
    observed_at_ms BIGINT NOT NULL,
    PRIMARY KEY (pair, source, network, valid_from_ms, observed_at_ms)
);

CREATE INDEX fx_rates_window ON fx_rates (pair, valid_from_ms, valid_to_ms);

CREATE TABLE fx_quotes (
    quote_id TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    pair TEXT NOT NULL,
    rate_market TEXT NOT NULL,
    rate_source TEXT NOT NULL,
    markup TEXT NOT NULL,
    rate_quoted TEXT NOT NULL,
    merchant_value TEXT NOT NULL,
    merchant_currency TEXT NOT NULL,
    wallet_value TEXT NOT NULL,
    wallet_currency TEXT NOT NULL,
    rounding TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE TABLE ledger_entries (
    entry_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    business_date TEXT NOT NULL,
    line_count BIGINT NOT NULL,
    UNIQUE (kind, reference)
);

CREATE INDEX ledger_entries_reference ON ledger_entries (reference);

CREATE TABLE ledger_lines (
    entry_id TEXT NOT NULL REFERENCES ledger_entries (entry_id),
    line_no BIGINT NOT NULL,
    account TEXT NOT NULL,
    side TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    amount_value TEXT NOT NULL,
    currency TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (entry_id, line_no)
);

CREATE INDEX ledger_lines_balance ON ledger_lines (account, currency, at_ms);

CREATE TABLE settlement_facts (
    fact_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    refund_id TEXT,
    merchant_id TEXT NOT NULL,
    network TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    amount_value TEXT NOT NULL,
    currency TEXT NOT NULL,
    wallet_value TEXT,
    wallet_currency TEXT,
    network_reference TEXT,
    at_ms BIGINT NOT NULL,
    batch_id TEXT
);

CREATE INDEX settlement_facts_open ON settlement_facts (network, batch_id, at_ms);

CREATE TABLE settlement_batches (
    batch_id TEXT PRIMARY KEY,
    network TEXT NOT NULL,
    business_date TEXT NOT NULL,
    closed_at_ms BIGINT NOT NULL,
    content TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    UNIQUE (network, business_date)
)
