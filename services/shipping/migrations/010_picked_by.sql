-- Who took a parcel onto a pick list, and when (the person behind the key, as packed_by records
-- the packer): the floor's record of whose walk a parcel was on (ADR 380).
ALTER TABLE shipments
    ADD COLUMN picked_by text,
    ADD COLUMN picked_at timestamptz;
