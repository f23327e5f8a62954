-- A parked record's bytes (key, value, headers as the DLQ holds them) beside its index row,
-- so a replay reads the company's rows from here instead of a new Kafka consumer reading the
-- DLQ partition through every other company's records (issue 16). NULL for records parked
-- before this version: those are read back from the DLQ topic as before.
ALTER TABLE dlq_index ADD COLUMN record_key bytea;
ALTER TABLE dlq_index ADD COLUMN record_value bytea;
ALTER TABLE dlq_index ADD COLUMN record_header_names text[];
ALTER TABLE dlq_index ADD COLUMN record_header_values bytea[];
