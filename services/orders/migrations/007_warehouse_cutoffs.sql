-- Each warehouse's dispatch cut-off as routing announces it (routing.warehouse_changed.v1): the
-- dispatch-by promise starts from it (ADR 0361). No row, or no time: DISPATCH_CUTOFF_HOUR_IST.
CREATE TABLE warehouse_cutoffs (
    warehouse_code  text PRIMARY KEY,
    cutoff_time     time,
    changed_at      timestamptz NOT NULL
);
