-- Tabs for unroutable orders, parcels no courier took, orders late to dispatch and refunds past
-- their SLA (services/console/domain/decisions.py: tabs_of). Late to dispatch turns on the clock: the
-- row stores "dispatch_due" (confirmed, not picked up, with a promised time) and the queue compares
-- promised_dispatch_by with the time when it reads. Unroutable and refund overdue come from facts
-- this migration's columns start to keep: `python -m services.console rebuild` fills them for orders
-- folded before it.
ALTER TABLE order_view ADD COLUMN unroutable_at timestamptz, ADD COLUMN reserved_at timestamptz;

UPDATE order_view SET tabs = tabs || ARRAY['no_courier']
WHERE status IS DISTINCT FROM 'CANCELLED' AND shipments @> '[{"status": "CREATED"}]';
UPDATE order_view SET tabs = tabs || ARRAY['dispatch_due']
WHERE status IN ('CONFIRMED', 'PACKED') AND promised_dispatch_by IS NOT NULL AND NOT milestones ? 'picked_up';

INSERT INTO queue_counts (tab, orders)
SELECT tab, count(o.order_id)
FROM unnest(ARRAY['unroutable', 'no_courier', 'dispatch_due', 'refund_overdue']) AS tab
LEFT JOIN order_view o ON o.tabs @> ARRAY[tab]
GROUP BY tab;

CREATE INDEX order_view_tab_unroutable ON order_view (sort_at DESC, order_id DESC) WHERE tabs @> '{unroutable}';
CREATE INDEX order_view_tab_no_courier ON order_view (sort_at DESC, order_id DESC) WHERE tabs @> '{no_courier}';
CREATE INDEX order_view_tab_dispatch_due ON order_view (promised_dispatch_by) WHERE tabs @> '{dispatch_due}';
CREATE INDEX order_view_tab_refund_overdue ON order_view (sort_at DESC, order_id DESC) WHERE tabs @> '{refund_overdue}';
