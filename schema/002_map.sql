-- Schema 2: the map a node was given (by `map import` / `vpc deploy`), and clean-ups owed to nodes
-- that left a VPC (or whose VPC was destroyed) but could not be reached yet.

-- At most one row: the node's current map, stored whole as the JSON document it arrived as.
CREATE TABLE map (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  node        TEXT NOT NULL,     -- which node of the map this one is
  fabric      TEXT NOT NULL,     -- id of the fabric (controller) it came from
  generation  INTEGER NOT NULL CHECK (generation >= 0),
  document    TEXT NOT NULL,
  imported_at TEXT NOT NULL
) STRICT;

-- Nodes that must still be told to drop a VPC's interfaces; cleared by a successful deploy there.
CREATE TABLE cleanup (
  vpc     TEXT NOT NULL,
  node_id INTEGER NOT NULL REFERENCES node (id) ON DELETE CASCADE,
  PRIMARY KEY (vpc, node_id)
) STRICT;
