-- The evidence pipeline's seam in the database (docs/architecture.md):
--   * one function, kgdb_source_count, holds every source's count rule; the scoring chain,
--     the distribution histograms and the data-source top genes all read it;
--   * runs: a source's run is staged chunk by chunk (evidence_staging, keyed by run, gene and
--     chunk, so a redelivered chunk replaces its own rows) and swapped in at completion.
-- Migrations are immutable once applied (checksummed), so views of 0002/0003 that used their
-- own CASE are replaced here.

-- The count the score ranks, per source, from the source's evidence_data (docs/scoring.md).
-- A new source adds its branch here, in a new migration (CREATE OR REPLACE).
CREATE FUNCTION kgdb_source_count(source text, data jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE source
        WHEN 'PanelApp' THEN kgdb_jsonb_len(data -> 'panels')
        WHEN 'HPO' THEN kgdb_jsonb_len(data -> 'hpo_terms') + kgdb_jsonb_len(data -> 'diseases')
        WHEN 'PubTator' THEN COALESCE(kgdb_jsonb_int(data -> 'publication_count'), kgdb_jsonb_len(data -> 'pmids'))
        WHEN 'DiagnosticPanels' THEN COALESCE(kgdb_jsonb_int(data -> 'panel_count'), kgdb_jsonb_len(data -> 'panels'))
        WHEN 'GenCC' THEN kgdb_jsonb_len(data -> 'classifications')
        WHEN 'ClinGen' THEN COALESCE(kgdb_jsonb_int(data -> 'validity_count'), kgdb_jsonb_int(data -> 'assertion_count'), 1)
        WHEN 'Literature' THEN COALESCE(kgdb_jsonb_int(data -> 'publication_count'), kgdb_jsonb_len(data -> 'publications'))
        ELSE 0
    END
    $$;

-- Same columns as before, so the views built on it stay.
CREATE OR REPLACE VIEW evidence_source_counts AS
SELECT ge.id AS evidence_id,
       ge.gene_id,
       ge.source_name,
       kgdb_source_count(ge.source_name, ge.evidence_data) AS source_count
FROM gene_evidence ge;

-- Histograms through the count function (was a second CASE).
DROP MATERIALIZED VIEW source_distribution_stats;
CREATE MATERIALIZED VIEW source_distribution_stats AS
WITH ev AS (
    SELECT e.gene_id, e.source_name::text AS source_name, e.evidence_data, m.tier_bucket
    FROM gene_evidence e
    JOIN gene_source_membership m ON m.gene_id = e.gene_id
),
counted AS (
    SELECT source_name, tier_bucket, gene_id,
           -- The original's histogram of lab panels counts providers, not panels.
           CASE source_name
               WHEN 'DiagnosticPanels' THEN kgdb_jsonb_len(evidence_data -> 'providers')
               ELSE kgdb_source_count(source_name, evidence_data)
           END AS n
    FROM ev
    WHERE source_name IN ('PanelApp', 'PubTator', 'Literature', 'DiagnosticPanels')
),
hpo AS (
    SELECT tier_bucket, gene_id, kgdb_jsonb_len(evidence_data -> 'hpo_terms') AS n
    FROM ev
    WHERE source_name = 'HPO'
),
clingen AS (
    SELECT ev.tier_bucket, ev.gene_id, c.value #>> '{}' AS classification
    FROM ev
    CROSS JOIN LATERAL kgdb_jsonb_elements(ev.evidence_data -> 'classifications') AS c(value)
    WHERE ev.source_name = 'ClinGen'
),
gencc AS (
    SELECT ev.tier_bucket, ev.gene_id, s.submission ->> 'classification' AS classification
    FROM ev
    CROSS JOIN LATERAL kgdb_jsonb_elements(ev.evidence_data -> 'submissions') AS s(submission)
    WHERE ev.source_name = 'GenCC'
)
SELECT source_name, tier_bucket, n::text AS category, n AS category_value, n AS sort_order,
       count(*)::integer AS gene_count
FROM counted
GROUP BY source_name, tier_bucket, n
UNION ALL
SELECT 'HPO', tier_bucket, bin, NULL, min(bin_order), count(*)::integer
FROM (SELECT tier_bucket,
             CASE WHEN n = 0 THEN '0'
                  WHEN n <= 5 THEN '1-5'
                  WHEN n <= 10 THEN '6-10'
                  WHEN n <= 20 THEN '11-20'
                  WHEN n <= 50 THEN '21-50'
                  ELSE '50+' END AS bin,
             CASE WHEN n = 0 THEN 0
                  WHEN n <= 5 THEN 1
                  WHEN n <= 10 THEN 2
                  WHEN n <= 20 THEN 3
                  WHEN n <= 50 THEN 4
                  ELSE 5 END AS bin_order
      FROM hpo) b
GROUP BY tier_bucket, bin
UNION ALL
SELECT 'ClinGen', tier_bucket, classification, NULL,
       CASE classification
           WHEN 'Definitive' THEN 1
           WHEN 'Strong' THEN 2
           WHEN 'Moderate' THEN 3
           WHEN 'Limited' THEN 4
           WHEN 'Disputed' THEN 5
           WHEN 'Refuted' THEN 6
           ELSE 7
       END,
       count(DISTINCT gene_id)::integer
FROM clingen
WHERE classification IS NOT NULL
GROUP BY tier_bucket, classification
UNION ALL
SELECT 'GenCC', tier_bucket, classification, NULL,
       CASE classification
           WHEN 'Definitive' THEN 1
           WHEN 'Strong' THEN 2
           WHEN 'Moderate' THEN 3
           WHEN 'Limited' THEN 4
           WHEN 'Supportive' THEN 5
           WHEN 'Disputed Evidence' THEN 6
           WHEN 'No Known Disease Relationship' THEN 7
           ELSE 8
       END,
       count(DISTINCT gene_id)::integer
FROM gencc
WHERE classification IS NOT NULL
GROUP BY tier_bucket, classification;
CREATE UNIQUE INDEX source_distribution_stats_key
    ON source_distribution_stats (source_name, tier_bucket, category);
CREATE INDEX source_distribution_stats_tier ON source_distribution_stats (tier_bucket);

-- Data-source metadata: empty strings (the original's "no value") are not a panel or submitter.
DROP MATERIALIZED VIEW datasource_stats;
CREATE MATERIALIZED VIEW datasource_stats AS
WITH counts AS (
    SELECT source_name,
           sum(gene_count)::integer AS gene_count,
           sum(evidence_count)::integer AS evidence_count,
           max(last_updated) AS last_updated,
           COALESCE(sum(gene_count) FILTER (WHERE tier_bucket NOT IN ('unscored', 'no_evidence')), 0)::integer
               AS scored_gene_count,
           COALESCE(sum(evidence_count) FILTER (WHERE tier_bucket NOT IN ('unscored', 'no_evidence')), 0)::integer
               AS scored_evidence_count,
           max(last_updated) FILTER (WHERE tier_bucket NOT IN ('unscored', 'no_evidence'))
               AS scored_last_updated
    FROM source_tier_stats
    GROUP BY source_name
),
-- Elements of the arrays each source's metadata counts. Reading only those keys (not every
-- key of every row) keeps the planner's row estimate small enough that no JIT compilation
-- (~0.4 s) is triggered for a query that runs in ~50 ms.
elems AS (
    SELECT e.source_name::text AS source_name, k.key, x.value
    FROM gene_evidence e
    JOIN (VALUES ('ClinGen', 'validities'), ('ClinGen', 'expert_panels'), ('GenCC', 'submissions'),
                 ('HPO', 'hpo_terms'), ('PubTator', 'pmids'), ('PanelApp', 'panels'),
                 ('DiagnosticPanels', 'providers'), ('DiagnosticPanels', 'panels'),
                 ('Literature', 'publications')) AS k(source_name, key)
      ON k.source_name = e.source_name
    CROSS JOIN LATERAL kgdb_jsonb_elements(e.evidence_data -> k.key) AS x(value)
),
meta AS (
    SELECT 'ClinGen' AS source_name, jsonb_build_object(
               'expert_panels', count(DISTINCT NULLIF(CASE WHEN key = 'expert_panels' THEN value #>> '{}'
                                                           WHEN key = 'validities' THEN value ->> 'expert_panel' END, '')),
               'classifications', count(DISTINCT value ->> 'classification') FILTER (WHERE key = 'validities'))
               AS metadata
    FROM elems WHERE source_name = 'ClinGen'
    UNION ALL
    SELECT 'GenCC', jsonb_build_object(
               'submissions', count(*) FILTER (WHERE key = 'submissions'),
               'submitters', count(DISTINCT NULLIF(value ->> 'submitter', '')) FILTER (WHERE key = 'submissions'))
    FROM elems WHERE source_name = 'GenCC'
    UNION ALL
    SELECT 'HPO', jsonb_build_object(
               'phenotype_terms', count(DISTINCT value #>> '{}') FILTER (WHERE key = 'hpo_terms'))
    FROM elems WHERE source_name = 'HPO'
    UNION ALL
    SELECT 'PubTator', jsonb_build_object(
               'publications', count(DISTINCT value #>> '{}') FILTER (WHERE key = 'pmids'))
    FROM elems WHERE source_name = 'PubTator'
    UNION ALL
    SELECT 'PanelApp', jsonb_build_object(
               'panels', count(DISTINCT value ->> 'name') FILTER (WHERE key = 'panels'),
               'regions', count(DISTINCT value ->> 'region') FILTER (WHERE key = 'panels'),
               'region_names', COALESCE(
                   jsonb_agg(DISTINCT value -> 'region') FILTER (WHERE key = 'panels' AND value ? 'region'),
                   '[]'::jsonb))
    FROM elems WHERE source_name = 'PanelApp'
    UNION ALL
    SELECT 'DiagnosticPanels', jsonb_build_object(
               'providers', count(DISTINCT value #>> '{}') FILTER (WHERE key = 'providers'),
               'panels', count(DISTINCT value #>> '{}') FILTER (WHERE key = 'panels'),
               'provider_list', COALESCE(
                   jsonb_agg(DISTINCT value) FILTER (WHERE key = 'providers' AND jsonb_typeof(value) = 'string'
                                                AND value #>> '{}' <> 'test_provider'),
                   '[]'::jsonb))
    FROM elems WHERE source_name = 'DiagnosticPanels'
    UNION ALL
    SELECT 'Literature', jsonb_build_object(
               'publications', count(DISTINCT value #>> '{}') FILTER (WHERE key = 'publications'))
    FROM elems WHERE source_name = 'Literature'
)
SELECT c.source_name,
       c.gene_count,
       c.evidence_count,
       c.last_updated,
       c.scored_gene_count,
       c.scored_evidence_count,
       c.scored_last_updated,
       COALESCE(m.metadata, '{}'::jsonb) AS metadata
FROM counts c
LEFT JOIN meta m ON m.source_name = c.source_name;
CREATE UNIQUE INDEX datasource_stats_source ON datasource_stats (source_name);

-- Runs of the evidence pipeline.
CREATE TABLE evidence_runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_name    text NOT NULL,
    mode           text NOT NULL CHECK (mode IN ('replace', 'merge')),
    status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'completed', 'failed')),
    chunks_planned integer NOT NULL CHECK (chunks_planned >= 0),
    trigger        text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    report         jsonb,
    error          text
);
CREATE INDEX evidence_runs_source ON evidence_runs (source_name, started_at DESC);

-- Chunks written so far; a rewritten (redelivered) chunk keeps one row.
CREATE TABLE evidence_run_chunks (
    run_id     bigint NOT NULL REFERENCES evidence_runs (id) ON DELETE CASCADE,
    chunk_key  text NOT NULL,
    records    integer NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, chunk_key)
);

-- A running run's records, per chunk. Emptied when the run completes or fails.
CREATE TABLE evidence_staging (
    run_id           bigint NOT NULL REFERENCES evidence_runs (id) ON DELETE CASCADE,
    hgnc_id          text NOT NULL,
    chunk_key        text NOT NULL,
    approved_symbol  text NOT NULL,
    reported_symbols jsonb NOT NULL,
    source_detail    text NOT NULL,
    evidence_data    jsonb NOT NULL,
    evidence_date    date,
    PRIMARY KEY (run_id, hgnc_id, chunk_key)
);
CREATE INDEX evidence_staging_chunk ON evidence_staging (run_id, chunk_key);
