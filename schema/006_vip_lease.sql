-- Schema 6: VIPs held under a majority lease (`vpcctl vipd`). lease_ms is the lease a candidate
-- asks a majority of acceptors for (model::kMinLeaseMs..kMaxLeaseMs; the kernel's address
-- lifetimes count whole seconds, so not under 1.4 s); `check` is the service check each candidate
-- runs (empty: none); `witness` a fabric node outside the VPC that is an extra acceptor (empty:
-- none); unsafe_two_node lets each of two acceptors hold alone (split brain under a partition).
-- VIPs made before this schema get the defaults.
ALTER TABLE vip ADD COLUMN lease_ms INTEGER NOT NULL DEFAULT 1350
  CHECK (lease_ms BETWEEN 1350 AND 60000);
ALTER TABLE vip ADD COLUMN "check" TEXT NOT NULL DEFAULT '' CHECK (length("check") <= 1024);
ALTER TABLE vip ADD COLUMN witness TEXT NOT NULL DEFAULT '';
ALTER TABLE vip ADD COLUMN unsafe_two_node INTEGER NOT NULL DEFAULT 0
  CHECK (unsafe_two_node IN (0, 1));
-- A VIP of a two-member VPC has two acceptors. Before leases, such a group let either node hold
-- alone (availability won); it keeps doing so, now said explicitly (add a witness to make it safe).
UPDATE vip SET unsafe_two_node = 1
  WHERE (SELECT count(*) FROM member WHERE member.vpc_id = vip.vpc_id) = 2;
