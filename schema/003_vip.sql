-- Schema 3: virtual IPs (CARP on FreeBSD, VRRPv3 through keepalived on Linux) and, on nodes, the
-- VIP state transitions reported by the VIP daemon (`vpcctl vip-event`).

CREATE TABLE vip (
  vpc_id    INTEGER NOT NULL REFERENCES vpc (id) ON DELETE CASCADE,
  vhid      INTEGER NOT NULL CHECK (vhid BETWEEN 1 AND 255),
  address   TEXT NOT NULL,
  nodes     TEXT NOT NULL,          -- node names in preference order, comma-separated
  secret    TEXT NOT NULL CHECK (length(secret) BETWEEN 1 AND 19),
  advert_ms INTEGER NOT NULL CHECK (advert_ms BETWEEN 10 AND 255000),
  preempt   INTEGER NOT NULL CHECK (preempt IN (0, 1)),
  PRIMARY KEY (vpc_id, vhid),
  UNIQUE (vpc_id, address)
) STRICT;

CREATE TABLE vip_event (
  id    INTEGER PRIMARY KEY,
  vpc   TEXT NOT NULL,
  vhid  INTEGER NOT NULL,
  state TEXT NOT NULL,
  at    TEXT NOT NULL              -- UTC, millisecond precision
) STRICT;

CREATE INDEX vip_event_by_vip ON vip_event (vpc, vhid, id);
