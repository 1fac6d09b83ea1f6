-- Gene normalization of the live evidence sources (docs/gene-normalization.md): a reported
-- symbol that resolves to no gene is kept here for review, never dropped silently. One row per
-- source and cleaned symbol while it is pending; every sighting counts and names its run.

CREATE TABLE gene_normalization_staging (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source           text NOT NULL,
    raw_symbol       text NOT NULL CHECK (length(raw_symbol) BETWEEN 1 AND 200),
    -- The cleaned symbol (the original's rules), or NULL when cleaning refused the text.
    symbol           text CHECK (length(symbol) <= 20),
    ncbi_gene_id     text,
    reported_hgnc_id text,
    reason           text NOT NULL,
    -- The run (trigger) that last reported it.
    last_run         text,
    occurrences      integer NOT NULL DEFAULT 1 CHECK (occurrences > 0),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'rejected')),
    -- Set on approval: the gene the curator mapped it to.
    gene_id          bigint REFERENCES genes (id) ON DELETE SET NULL,
    reviewed_by      text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX gene_normalization_staging_pending
    ON gene_normalization_staging (source, upper(raw_symbol)) WHERE status = 'pending';
CREATE INDEX gene_normalization_staging_status ON gene_normalization_staging (status, created_at DESC);

-- An approved mapping is remembered: the next run resolves the same text the same way.
CREATE UNIQUE INDEX gene_normalization_staging_approved
    ON gene_normalization_staging (upper(raw_symbol)) WHERE status = 'approved';
