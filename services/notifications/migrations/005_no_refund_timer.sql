-- Returns owns the refund SLA (ADR 0230): it flags an overdue refund on returns.updated.v1 and
-- notifications passes that on. Notifications' own copy of pending refunds and its 72-hour timer go.
DROP TABLE IF EXISTS pending_refunds;
