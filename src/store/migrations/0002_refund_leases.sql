-- Refunds are driven under a lease, like payments, and count their sends durably: a network
-- with no refund id (LINE Pay) may be sent a refund again at most once, across restarts.
ALTER TABLE refunds ADD COLUMN send_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refunds ADD COLUMN lease_owner TEXT;
ALTER TABLE refunds ADD COLUMN lease_until_ms BIGINT NOT NULL DEFAULT 0;
-- One network refund is one of our refunds: two refunds in doubt can never both claim it.
CREATE UNIQUE INDEX refunds_network_refund_id ON refunds (payment_id, network_refund_id)
