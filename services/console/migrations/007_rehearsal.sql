-- An operator's rehearsal order (ADR 0360): shown in the queue, flagged, and left out of analytics.
ALTER TABLE order_view ADD COLUMN rehearsal boolean NOT NULL DEFAULT false;
