-- Node Management Service state (owned by cyphonic-nms; needs the AS tables, run
-- `cyphonic-as migrate` first). Everything a node depends on lives here, not in a replica's
-- memory, so any replica can answer any node and a restart loses no registration.

-- Where each node was last seen. One row per NodeID; per address family: what the node
-- reported (real address), what NMS observed (source address and port), and the NAT flag
-- decided from the two (PROTOCOL.md §7.2).
CREATE TABLE node_locations (
    node_id            BYTEA PRIMARY KEY REFERENCES devices (node_id) ON DELETE CASCADE,
    application_port   INT NOT NULL,
    notification_type  SMALLINT NOT NULL,
    real_ipv4          INET,
    real_ipv6          INET,
    observed_ipv4      INET,
    observed_port4     INT,
    nat4               BOOLEAN,
    seen4_at           TIMESTAMPTZ,
    observed_ipv6      INET,
    observed_port6     INT,
    nat6               BOOLEAN,
    seen6_at           TIMESTAMPTZ,
    registered_at      TIMESTAMPTZ NOT NULL,
    last_seen          TIMESTAMPTZ NOT NULL,
    online             BOOLEAN NOT NULL DEFAULT true
);
CREATE INDEX node_locations_online ON node_locations (online, last_seen);

-- Per NMS key (node_keys.generation): the NMS side's shared sending counter, reserved in
-- blocks by each replica (C10), and the shared receive window for the node's side (§5.4).
CREATE TABLE nms_key_state (
    node_id      BYTEA PRIMARY KEY REFERENCES devices (node_id) ON DELETE CASCADE,
    generation   BIGINT NOT NULL,
    send_next    BIGINT NOT NULL DEFAULT 1,
    recv_highest BIGINT NOT NULL DEFAULT 0,
    recv_bitmap  BYTEA NOT NULL DEFAULT ''::BYTEA
);

-- Routes chosen by NMS (§7.3, §7.4). A new route selection for the same PathID replaces the
-- row (C1). `state`: 1 pending, 2 confirmed by the responder, 3 done (initiator answered),
-- 4 failed.
CREATE TABLE paths (
    path_id          BYTEA PRIMARY KEY CHECK (length(path_id) = 16),
    initiator        BYTEA NOT NULL REFERENCES devices (node_id) ON DELETE CASCADE,
    responder        BYTEA NOT NULL REFERENCES devices (node_id) ON DELETE CASCADE,
    transaction_id   BIGINT NOT NULL,
    process_code     SMALLINT NOT NULL,
    cipher           SMALLINT NOT NULL,
    tunnel_key       BYTEA NOT NULL,
    temp_key         BYTEA NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    trs_node_id      BYTEA,
    state            SMALLINT NOT NULL DEFAULT 1,
    body             BYTEA NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX paths_initiator ON paths (initiator);
CREATE INDEX paths_responder ON paths (responder);
