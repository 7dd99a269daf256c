-- The live queue's "the read model moved" mark is one row, bumped once per write, instead of an
-- indexed seq on every order_view row: an update that changes no indexed column (a message sent, an
-- invoice issued, a reservation made) can then be a HOT update, with room left on its page for it,
-- rather than a new entry in each of the view's twenty indexes (ADR 0440).
CREATE TABLE queue_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint  NOT NULL
);
INSERT INTO queue_version (version) SELECT coalesce(max(seq), 0) FROM order_view;
DROP INDEX order_view_seq_idx;
ALTER TABLE order_view DROP COLUMN seq;
DROP SEQUENCE order_view_seq;
ALTER TABLE order_view SET (fillfactor = 70);
