-- Annotation runs on the queue (docs/annotation-pipeline.md): a run is planned as chunks of
-- gene x source; each queue message names one chunk, so a redelivered message finds its chunk
-- and does nothing twice. hgnc's chunks are phase 1 (they bring the Ensembl and NCBI ids the
-- other sources join on); the others are phase 2, sent when phase 1 is over. The run completes
-- once: whoever finishes the last chunk claims the completion with a conditional UPDATE.

CREATE TABLE annotation_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    strategy        text NOT NULL CHECK (strategy IN ('incremental', 'full', 'forced', 'selective', 'missing')),
    sources         text[] NOT NULL,
    trigger         text NOT NULL CHECK (length(trigger) BETWEEN 1 AND 200),
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'completing', 'completed', 'failed')),
    phase           smallint NOT NULL DEFAULT 1 CHECK (phase IN (1, 2)),
    chunks_planned  integer NOT NULL DEFAULT 0,
    genes_planned   integer NOT NULL DEFAULT 0,
    data_version    bigint,
    error           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz
);
-- At most one run in flight: a second scheduler tick (or admin call) is refused, not doubled.
CREATE UNIQUE INDEX annotation_runs_one_in_flight ON annotation_runs ((true))
    WHERE status IN ('running', 'completing');
CREATE INDEX annotation_runs_recent ON annotation_runs (created_at DESC);

CREATE TABLE annotation_run_chunks (
    run_id       bigint NOT NULL REFERENCES annotation_runs (id) ON DELETE CASCADE,
    chunk_no     integer NOT NULL CHECK (chunk_no >= 0),
    source       text NOT NULL,
    phase        smallint NOT NULL CHECK (phase IN (1, 2)),
    gene_ids     bigint[] NOT NULL,
    -- pending: planned, not sent; queued: sent; done / failed: finished (failed after the
    -- queue's last delivery or on an error a retry cannot fix; the stored rows stay).
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'queued', 'done', 'failed')),
    attempts     integer NOT NULL DEFAULT 0,
    records      integer,
    inserted     integer,
    updated      integer,
    unchanged    integer,
    not_found    integer,
    gene_failures integer,
    -- Identifier rows inserted or removed (hgnc chunks write gene_identifiers too).
    identifiers_changed integer,
    -- Per gene without a record: [{hgnc_id, kind: not_found|failed, reason}].
    misses       jsonb,
    millis       integer,
    error        text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, chunk_no)
);
CREATE INDEX annotation_run_chunks_open ON annotation_run_chunks (run_id, phase)
    WHERE status IN ('pending', 'queued');
