-- Transaction lifecycle (issue 15): app objects followed through updates, voids, deletes,
-- the action of each synced event, and invoice status read back from QuickBooks.

-- What the app did to the mapped object last: a voided or deleted object refuses updates.
-- 'deleted_in_quickbooks': someone deleted it in QuickBooks itself.
ALTER TABLE mappings
    ADD COLUMN state text NOT NULL DEFAULT 'active'
        CHECK (state IN ('active', 'voided', 'deleted', 'deleted_in_quickbooks'));
-- The status read-back goes from a QuickBooks id back to the app's id.
CREATE INDEX mappings_qbd_id ON mappings (company_id, object_type, qbd_id);

-- Each event's own app object (company, object type, app id), and what its sync did
-- (created, updated, voided, deleted, linked, unchanged).
ALTER TABLE ledger
    ADD COLUMN object_type text,
    ADD COLUMN app_id      text,
    ADD COLUMN action      text;
CREATE INDEX ledger_app_object ON ledger (company_id, object_type, app_id)
    WHERE app_id IS NOT NULL;

-- The last state of each synced invoice that a status pull saw (or our own write left).
CREATE TABLE invoice_status (
    company_id        text NOT NULL,
    qbd_id            text NOT NULL,
    invoice_id        text NOT NULL,          -- the app's id
    balance_remaining numeric,
    is_paid           boolean NOT NULL DEFAULT false,
    revision_number   text,
    deleted           boolean NOT NULL DEFAULT false,
    seen_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (company_id, qbd_id)
);

-- Per company: where the next incremental status pull starts (QuickBooks' own clock).
CREATE TABLE status_pulls (
    company_id       text PRIMARY KEY,
    updated_after    timestamptz,             -- the newest invoice updatedAt seen
    deleted_after    timestamptz,             -- the newest deletedAt seen
    pulled_at        timestamptz NOT NULL DEFAULT now()
);
