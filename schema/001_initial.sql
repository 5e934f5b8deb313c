-- vpcctl state, schema 1. One database per node, in the state directory (vpcctl.db, mode 0600).
-- The controller's fabric lives in node/vpc/member/tunnel; `setting` holds scalars such as the
-- local node, the VNI range and the fabric generation.

CREATE TABLE setting (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE node (
  id             INTEGER PRIMARY KEY,
  name           TEXT NOT NULL UNIQUE,
  ssh_host       TEXT NOT NULL,
  ssh_port       INTEGER NOT NULL CHECK (ssh_port BETWEEN 1 AND 65535),
  ssh_user       TEXT NOT NULL,
  underlay4      TEXT UNIQUE,
  underlay6      TEXT UNIQUE,
  platform       TEXT NOT NULL CHECK (platform IN ('linux', 'freebsd')),
  mtu            INTEGER NOT NULL CHECK (mtu BETWEEN 576 AND 65535),
  is_local       INTEGER NOT NULL DEFAULT 0 CHECK (is_local IN (0, 1)),
  use_sudo       INTEGER NOT NULL DEFAULT 0 CHECK (use_sudo IN (0, 1)),
  remote_vpcctl  TEXT NOT NULL DEFAULT '',
  host_key       TEXT NOT NULL DEFAULT '',
  remote_version TEXT NOT NULL DEFAULT '',
  last_check     TEXT NOT NULL DEFAULT '',
  CHECK (underlay4 IS NOT NULL OR underlay6 IS NOT NULL)
) STRICT;

CREATE UNIQUE INDEX node_ssh_endpoint ON node (ssh_host, ssh_port);

CREATE TABLE vpc (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- sticky, never reused
  name         TEXT NOT NULL UNIQUE,
  peer_network TEXT NOT NULL,
  family       TEXT NOT NULL CHECK (family IN ('auto', 'ipv4', 'ipv6')),
  mtu          INTEGER NOT NULL,
  mtu_fixed    INTEGER NOT NULL DEFAULT 0 CHECK (mtu_fixed IN (0, 1)),
  port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
  max_jails    INTEGER CHECK (max_jails >= 0),
  max_vms      INTEGER CHECK (max_vms >= 0)
) STRICT;

CREATE TABLE member (
  vpc_id   INTEGER NOT NULL REFERENCES vpc (id) ON DELETE CASCADE,
  node_id  INTEGER NOT NULL REFERENCES node (id) ON DELETE RESTRICT,
  position INTEGER NOT NULL,
  overlay  TEXT NOT NULL,
  PRIMARY KEY (vpc_id, node_id),
  UNIQUE (vpc_id, overlay),
  UNIQUE (vpc_id, position)
) STRICT;

-- One per unordered pair of members; the VNI is unique across the whole fabric.
CREATE TABLE tunnel (
  vni     INTEGER PRIMARY KEY CHECK (vni BETWEEN 1 AND 16777215),
  vpc_id  INTEGER NOT NULL,
  node_a  INTEGER NOT NULL,
  node_b  INTEGER NOT NULL,
  family  TEXT NOT NULL CHECK (family IN ('ipv4', 'ipv6')),
  CHECK (node_a <> node_b),
  UNIQUE (vpc_id, node_a, node_b),
  FOREIGN KEY (vpc_id, node_a) REFERENCES member (vpc_id, node_id) ON DELETE CASCADE,
  FOREIGN KEY (vpc_id, node_b) REFERENCES member (vpc_id, node_id) ON DELETE CASCADE
) STRICT;
