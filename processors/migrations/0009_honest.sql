-- An open attention item whose cause or user-facing message changes is published again with
-- the new message; revision counts those publishes (AttentionData.revision), from 1.
ALTER TABLE attention ADD COLUMN revision integer NOT NULL DEFAULT 1;
