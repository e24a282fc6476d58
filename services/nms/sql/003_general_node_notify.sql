-- General Node Update Notify (PROTOCOL.md §7.9 step 4): the fingerprint of each adapter's
-- general-node list as last announced to it. A replica that finds the current fingerprint
-- different claims the change by updating this row (one replica wins) and notifies the adapter.
CREATE TABLE general_node_notified (
    adapter_node_id  BYTEA PRIMARY KEY REFERENCES devices (node_id) ON DELETE CASCADE,
    fingerprint      TEXT NOT NULL,
    notified_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
