-- The local copy of QuickBooks lists (reference data) and each list's pull checkpoint.

-- One row per QuickBooks list object we have seen and published.
CREATE TABLE qbd_objects (
    company_id      text NOT NULL,
    list            text NOT NULL CHECK (list IN
                    ('customers', 'vendors', 'items', 'accounts', 'classes', 'terms')),
    qbd_id          text NOT NULL,
    object_type     text NOT NULL,          -- qbd_customer, qbd_service_item, ...
    resource        text NOT NULL,          -- the SDK resource: customers, service_items, ...
    name            text NOT NULL,
    full_name       text,
    match_key       text NOT NULL,          -- processors.matching.name_key(name)
    email           text,
    is_active       boolean NOT NULL DEFAULT true,
    revision_number text,
    updated_at      timestamptz,            -- QuickBooks' updatedAt
    raw             jsonb NOT NULL,         -- the Conductor object as published
    seen_pass       text,                   -- the last pull pass that listed it
    deleted_at      timestamptz,            -- absent from a full pull: gone from QuickBooks
    pulled_at       timestamptz NOT NULL DEFAULT now(),
    -- QuickBooks ids are unique per list; the resource keeps items of two kinds apart anyway.
    PRIMARY KEY (company_id, list, resource, qbd_id)
);
CREATE INDEX qbd_objects_match_key ON qbd_objects (company_id, list, match_key);
CREATE INDEX qbd_objects_email ON qbd_objects (company_id, list, lower(email))
    WHERE email IS NOT NULL;

-- Per company and list: where the next incremental pull starts, and the pass in progress.
CREATE TABLE reference_pulls (
    company_id      text NOT NULL,
    list            text NOT NULL,
    high_water_mark timestamptz,            -- updatedAfter of the next incremental pass
    last_full_at    timestamptz,
    pass_id         text NOT NULL,
    pass_state      text NOT NULL CHECK (pass_state IN ('running', 'complete')),
    pass_full       boolean NOT NULL,
    pass_started_at timestamptz NOT NULL,
    run_id          text NOT NULL,          -- the request that started the pass
    listed          bigint NOT NULL DEFAULT 0,
    published       bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, list)
);
