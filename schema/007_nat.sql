-- Schema 7: nodes behind 1:1 NAT. The underlay address is then the node's public one, on no
-- interface of its own; local4/local6 are the addresses it has (detected at enrolment, or given
-- with --local-address), where its tunnels start. NULL: the node has its underlay address.
ALTER TABLE node ADD COLUMN local4 TEXT;
ALTER TABLE node ADD COLUMN local6 TEXT;
