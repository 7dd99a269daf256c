-- Search terms live in their own table (ADR 546). An order's view is rewritten about six times as
-- its events arrive; each write changes an indexed column (its status, its tabs), so it is never a
-- HOT update and adds an entry to every index of the row, the two trigram indexes included, though
-- the terms (ids, name, email, AWBs, phone) change only when the order is first seen and when an
-- AWB is assigned. Apart, the terms are written only then.
CREATE TABLE order_search (
    order_id     text PRIMARY KEY,
    -- lowercased ids, AWBs, name and email; phone_digits for search by any part of a phone
    search_text  text NOT NULL,
    phone_digits text NOT NULL
);
INSERT INTO order_search (order_id, search_text, phone_digits)
    SELECT order_id, search_text, phone_digits FROM order_view;
DROP INDEX order_view_search_trgm;
DROP INDEX order_view_phone_trgm;
ALTER TABLE order_view DROP COLUMN search_text, DROP COLUMN phone_digits;
CREATE INDEX order_search_text_trgm ON order_search USING gin (search_text gin_trgm_ops);
CREATE INDEX order_search_phone_trgm ON order_search USING gin (phone_digits gin_trgm_ops);
