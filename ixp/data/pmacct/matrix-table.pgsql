-- The table sfacctd's pgsql plugin writes the matrix into (ixp/data/pmacct/sfacctd-pgsql.conf),
-- in ixp's PostgreSQL database; `ixp traffic import-pmacct` takes each finished bucket's
-- rows out of it. Not one of ixp's own tables (no migration): its columns are pmacct's
-- names and types for the aggregate src_mac, dst_mac, vlan, etype, with the timestamps as
-- seconds since the epoch (timestamps_since_epoch).
CREATE TABLE IF NOT EXISTS ${table} (
    mac_src macaddr NOT NULL,
    mac_dst macaddr NOT NULL,
    vlan INT NOT NULL DEFAULT 0,
    etype CHAR(5) NOT NULL DEFAULT ' ',
    packets BIGINT NOT NULL,
    bytes BIGINT NOT NULL,
    stamp_inserted BIGINT NOT NULL,
    stamp_updated BIGINT,
    PRIMARY KEY (mac_src, mac_dst, vlan, etype, stamp_inserted)
);
