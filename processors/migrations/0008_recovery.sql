-- Recovery (issue 19): announcing connection state changes at least once, and resolving the
-- setup-link prompt once the company connects.

-- The state last published as qbd.company.state_changed. A publish that failed (broker
-- away) leaves it behind `state`, and the next change of the company publishes it first.
-- Rows that exist already count as announced.
ALTER TABLE companies
    ADD COLUMN published_state text,
    ADD COLUMN setup_prompted_at timestamptz;
UPDATE companies SET published_state = state;

-- When `company.connect_requested` published a setup link that is not yet followed by the
-- company connecting: going online then publishes qbd.attention.resolved (SETUP_LINK).
UPDATE companies SET setup_prompted_at = COALESCE(state_changed_at, created_at)
 WHERE state = 'setup_pending' AND setup_link_url IS NOT NULL;
