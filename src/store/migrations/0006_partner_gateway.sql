CREATE TABLE partner_requests (
    network TEXT NOT NULL,
    kind TEXT NOT NULL,
    request_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (network, kind, request_key)
);

CREATE TABLE partner_settlement_reports (
    network TEXT NOT NULL,
    report_id TEXT NOT NULL,
    business_date TEXT NOT NULL,
    settlement_currency TEXT NOT NULL,
    line_count BIGINT NOT NULL,
    unmatched_lines BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    PRIMARY KEY (network, report_id)
);

CREATE INDEX partner_settlement_reports_day ON partner_settlement_reports (network, business_date, received_at_ms);

CREATE TABLE partner_settlement_lines (
    network TEXT NOT NULL,
    report_id TEXT NOT NULL,
    line_no BIGINT NOT NULL,
    payment_id TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    network_txn_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount_value TEXT NOT NULL,
    amount_currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    fee_value TEXT NOT NULL,
    fee_minor BIGINT NOT NULL,
    settled_value TEXT NOT NULL,
    settled_minor BIGINT NOT NULL,
    matched BIGINT NOT NULL,
    PRIMARY KEY (network, report_id, line_no)
);
