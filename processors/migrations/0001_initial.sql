-- The first schema: companies, mappings, the idempotency ledger, attention.

CREATE TABLE companies (
    company_id        text PRIMARY KEY,
    end_user_id       text UNIQUE,
    company_name      text,
    email             text,
    state             text NOT NULL DEFAULT 'unknown'
                      CHECK (state IN ('unknown', 'setup_pending', 'online', 'parked', 'replaying')),
    last_error        jsonb,
    last_health_check timestamptz,
    last_sync_at      timestamptz,
    parked_since      timestamptz,
    catchup_attempts  integer NOT NULL DEFAULT 0,
    next_catchup_at   timestamptz,
    setup_link_url    text,
    setup_link_expires_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX companies_catchup ON companies (next_catchup_at) WHERE state = 'parked';

-- app id -> QuickBooks id, per company and object type.
CREATE TABLE mappings (
    company_id      text NOT NULL,
    object_type     text NOT NULL,
    app_id          text NOT NULL,
    qbd_id          text NOT NULL,
    revision_number text,
    source          text NOT NULL DEFAULT 'sync' CHECK (source IN ('sync', 'user', 'import', 'auto')),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, object_type, app_id)
);

-- One row per inbound event id: the source of truth for "never two QuickBooks objects".
CREATE TABLE ledger (
    event_id           text PRIMARY KEY,
    company_id         text NOT NULL,
    event_type         text NOT NULL,
    body_hash          text NOT NULL,
    status             text NOT NULL CHECK (status IN
                       ('received', 'attempting', 'synced', 'failed', 'waiting_dependency',
                        'parked', 'rejected')),
    attempts           integer NOT NULL DEFAULT 0,
    attempt_started_at timestamptz,
    qbd_object_type    text,
    qbd_id             text,
    error              jsonb,
    result_published   boolean NOT NULL DEFAULT false,
    waiting_on_type    text,
    waiting_on_app_id  text,
    raw                bytea,
    source_topic       text,
    source_partition   integer,
    source_offset      bigint,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_waiting ON ledger (company_id, waiting_on_type, waiting_on_app_id)
    WHERE status = 'waiting_dependency';
CREATE INDEX ledger_company_status ON ledger (company_id, status);

-- Needs-attention items: at most one open per (company, code); repeats count occurrences.
CREATE TABLE attention (
    attention_id        bigserial PRIMARY KEY,
    company_id          text NOT NULL,
    code                text NOT NULL,
    category            text NOT NULL CHECK (category IN ('connection', 'setup', 'data', 'configuration')),
    user_facing_message text NOT NULL,
    developer_message   text,
    auth_flow_url       text,
    event_ids           text[] NOT NULL DEFAULT '{}',
    occurrences         bigint NOT NULL DEFAULT 1,
    first_seen          timestamptz NOT NULL DEFAULT now(),
    last_seen           timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz
);
CREATE UNIQUE INDEX attention_one_open ON attention (company_id, code) WHERE resolved_at IS NULL;
