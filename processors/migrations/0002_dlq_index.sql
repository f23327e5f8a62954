-- Index of parked records in qbd.dlq, so replay seeks straight to a company's first parked offset.

CREATE TABLE dlq_index (
    company_id        text NOT NULL,
    event_id          text,
    dlq_topic         text NOT NULL,
    dlq_partition     integer NOT NULL,
    dlq_offset        bigint NOT NULL,
    status            text NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'replayed')),
    reason            text NOT NULL,
    error_code        text,
    original_topic    text NOT NULL,
    original_partition integer NOT NULL,
    original_offset   bigint NOT NULL,
    parked_at         timestamptz NOT NULL DEFAULT now(),
    replayed_at       timestamptz,
    PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
);
CREATE INDEX dlq_index_company ON dlq_index (company_id, dlq_partition, dlq_offset)
    WHERE status = 'parked';
CREATE INDEX dlq_index_event ON dlq_index (event_id);
