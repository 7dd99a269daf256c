-- A marketplace label can be cancelled while still owed: our invoice of the parcel was cancelled
-- (its shipment was), so the marketplace is not to pack it (ADR 422). A refused one can be owed
-- again by an operator; nothing new is needed for that.
ALTER TABLE marketplace_labels DROP CONSTRAINT marketplace_labels_state_check;
ALTER TABLE marketplace_labels
    ADD CONSTRAINT marketplace_labels_state_check
        CHECK (state IN ('owed', 'recorded', 'refused', 'cancelled'));
