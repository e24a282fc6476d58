-- The NMS side's sending counter of each NMS–TRS service key (C5), shared by every replica
-- because the TRS sees the NMS as one sender (C10). Replicas reserve numbers in blocks.
CREATE TABLE service_key_counters (
    trs_node_id  BYTEA PRIMARY KEY CHECK (length(trs_node_id) = 16),
    send_next    BIGINT NOT NULL DEFAULT 1
);
