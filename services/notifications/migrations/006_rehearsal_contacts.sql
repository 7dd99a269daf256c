-- An operator's rehearsal order (ADR 0360): its contact is the operator's own number, and its booking
-- sends the "shipped" message a customer would get at pickup, since a rehearsal is never picked up.
ALTER TABLE contacts ADD COLUMN rehearsal boolean NOT NULL DEFAULT false;
