-- Company health for the operator surface, and attention events that survive a failed publish.

-- The last health check's result (a failed one keeps the normalized error), and when the
-- state last changed, for GET /v1/companies/{companyid} and `qbd-sync companies list`.
ALTER TABLE companies
    ADD COLUMN last_health_ok    boolean,
    ADD COLUMN last_health_error jsonb,
    ADD COLUMN state_changed_at  timestamptz;

-- An attention item is published at most once as needed and once as resolved, but a publish
-- that fails (broker away) must be retried: these flags say what still has to go out.
ALTER TABLE attention
    ADD COLUMN needed_published   boolean NOT NULL DEFAULT false,
    ADD COLUMN resolved_published boolean NOT NULL DEFAULT false;
UPDATE attention SET needed_published = true, resolved_published = resolved_at IS NOT NULL;
CREATE INDEX attention_unpublished ON attention (company_id)
    WHERE NOT needed_published OR (resolved_at IS NOT NULL AND NOT resolved_published);

-- Replays that a crash or a rebalance interrupted are picked up by the catch-up timer.
CREATE INDEX companies_replaying ON companies (company_id) WHERE state = 'replaying';
