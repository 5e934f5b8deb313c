-- Schema 5: encrypted VPCs. A VPC's tunnels run inside WireGuard unless it was created --plain
-- (VPCs made before this schema stay plain). Nodes of encrypted VPCs hold a transport address from
-- the fabric's transport network (setting `transport_network`, WireGuard port in
-- `wireguard_port`) and report their WireGuard public key; private keys never leave the node.
ALTER TABLE vpc ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1));
ALTER TABLE node ADD COLUMN transport TEXT;
ALTER TABLE node ADD COLUMN wg_public_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX node_transport ON node (transport);
