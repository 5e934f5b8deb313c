-- Schema 8: the controller's epoch. `state restore` makes another node the controller, one epoch
-- on (setting "epoch", 0 until then); its maps carry it, and a node refuses a map of an earlier
-- epoch whatever its generation: the old controller's pushes after a restore are stale.
ALTER TABLE map ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0);
