-- Serviceability per courier (ADR 0410): each courier's pickup and delivery pincodes as shipping last
-- announced them (shipping.serviceability_changed.v2, one event per courier replacing its whole),
-- so routing decides warehouse × destination pairs. The union of destinations (v1, ADR 0311) is
-- no longer read: shipping announces every courier on v2 at its first start after the upgrade.
CREATE TABLE couriers_heard (
    courier       text        PRIMARY KEY,
    pickup_known  boolean     NOT NULL,   -- false: its data says nothing of pickup (picks up anywhere)
    loaded_at     timestamptz NOT NULL
);

CREATE TABLE courier_pincodes (
    pincode  text    NOT NULL,
    courier  text    NOT NULL,
    pickup   boolean NOT NULL,
    prepaid  boolean NOT NULL,
    cod      boolean NOT NULL,
    PRIMARY KEY (pincode, courier)
);
CREATE INDEX courier_pincodes_courier ON courier_pincodes (courier);

DROP TABLE served_pincodes;
DROP TABLE serviceability_seen;
