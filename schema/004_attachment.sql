-- Schema 4: guests attached to VPC bridges on this node (jails, bhyve VMs, network namespaces,
-- taps). Kept on the node that hosts them; quotas count these rows.
CREATE TABLE attachment (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  vpc      TEXT NOT NULL,
  kind     TEXT NOT NULL CHECK (kind IN ('jail', 'vm', 'netns', 'tap')),
  guest    TEXT NOT NULL,
  ifname   TEXT NOT NULL UNIQUE,   -- the host side, on the bridge
  inside   TEXT NOT NULL,          -- the guest side (eth0, epairNb, the tap itself)
  mac      TEXT,
  address  TEXT,
  created  TEXT NOT NULL,
  UNIQUE (kind, guest)
) STRICT;
