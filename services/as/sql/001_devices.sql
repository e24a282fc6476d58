-- Devices the AS may log in, and what it issued to them (owned by cyphonic-as).
-- Every column type is one CockroachDB accepts too (ARCHITECTURE.md "Storage").
CREATE TABLE devices (
    device_id      TEXT PRIMARY KEY,
    -- Exec Mode of the device (C13): 1 node, 2 adapter, 3 general node.
    kind           SMALLINT NOT NULL CHECK (kind IN (1, 2, 3)),
    -- "scrypt$N$r$p$<salt hex>$<hash hex>"; NULL: no basic (password) login.
    password_hash  TEXT,
    -- May log in with a client certificate whose CN is device_id (Auth Type 2).
    cert_login     BOOLEAN NOT NULL DEFAULT false,
    -- General nodes: the adapter that may log them in, and their MAC (Auth Type 3).
    adapter_id     TEXT REFERENCES devices (device_id) ON DELETE CASCADE,
    mac            TEXT UNIQUE,
    -- Issued once at enrolment and stable for the device's life.
    node_id        BYTEA NOT NULL UNIQUE CHECK (length(node_id) = 16),
    fqdn           TEXT NOT NULL UNIQUE,
    virtual_ipv4   INET UNIQUE,
    virtual_ipv6   INET UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Login rate limiting, shared by every AS replica.
    failed_logins  INT NOT NULL DEFAULT 0,
    locked_until   TIMESTAMPTZ,
    CHECK ((kind = 3) = (adapter_id IS NOT NULL))
);

-- The current NMS key of each node: replaced at every login. `generation` increases with each
-- replacement so NMS replicas can tell a new key (and reset its counters) from the old one.
CREATE TABLE nms_keys (
    node_id     BYTEA PRIMARY KEY REFERENCES devices (node_id) ON DELETE CASCADE,
    cipher      SMALLINT NOT NULL CHECK (cipher IN (1, 2, 3)),
    key         BYTEA NOT NULL CHECK (length(key) = 32),
    -- 23:59:59 UTC of the date sent in the Login Response (C4).
    expires_at  TIMESTAMPTZ NOT NULL,
    generation  BIGINT NOT NULL DEFAULT 1,
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
