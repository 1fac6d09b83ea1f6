-- The scoring chain of the original (docs/scoring.md), as views, feeding materialized
-- views that requests read. Differences from the original, on purpose:
--   * ClinGen is scored by its best classification (the original took element 0 of an unordered set).
--   * JSON access is guarded, so one malformed evidence row cannot make a refresh fail.
--   * Request paths never touch the plain views: per-source scores, gene scores and the
--     denormalised gene list are materialized, each with a unique index for REFRESH ... CONCURRENTLY.

-- Length of a JSON array, 0 for anything else (missing key, scalar, object).
CREATE FUNCTION kgdb_jsonb_len(j jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(j) = 'array' THEN jsonb_array_length(j) ELSE 0 END $$;

-- Integer from a JSON number, NULL for anything else.
CREATE FUNCTION kgdb_jsonb_int(j jsonb) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN jsonb_typeof(j) = 'number' THEN floor((j #>> '{}')::numeric)::integer END $$;

-- Classification weights used for scoring (the SQL weights of the original, not its YAML ones).
CREATE FUNCTION kgdb_classification_weight(source text, classification text) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
    SELECT CASE
        WHEN source = 'GenCC' THEN
            CASE lower(btrim(classification, '" '))
                WHEN 'definitive' THEN 1.0
                WHEN 'strong' THEN 0.8
                WHEN 'moderate' THEN 0.6
                WHEN 'supportive' THEN 0.5
                WHEN 'limited' THEN 0.4
                WHEN 'disputed evidence' THEN 0.2
                ELSE 0.0
            END
        WHEN source = 'ClinGen' THEN
            CASE lower(btrim(classification, '" '))
                WHEN 'definitive' THEN 1.0
                WHEN 'strong' THEN 0.8
                WHEN 'moderate' THEN 0.6
                WHEN 'limited' THEN 0.4
                WHEN 'disputed' THEN 0.2
                ELSE 0.0
            END
        ELSE 0.0
    END::double precision
    $$;

-- (a) one count per evidence row
CREATE VIEW evidence_source_counts AS
SELECT ge.id AS evidence_id,
       ge.gene_id,
       ge.source_name,
       CASE ge.source_name
           WHEN 'PanelApp' THEN kgdb_jsonb_len(ge.evidence_data -> 'panels')
           WHEN 'HPO' THEN kgdb_jsonb_len(ge.evidence_data -> 'hpo_terms')
                         + kgdb_jsonb_len(ge.evidence_data -> 'diseases')
           WHEN 'PubTator' THEN COALESCE(kgdb_jsonb_int(ge.evidence_data -> 'publication_count'),
                                         kgdb_jsonb_len(ge.evidence_data -> 'pmids'))
           WHEN 'DiagnosticPanels' THEN COALESCE(kgdb_jsonb_int(ge.evidence_data -> 'panel_count'),
                                                 kgdb_jsonb_len(ge.evidence_data -> 'panels'))
           WHEN 'GenCC' THEN kgdb_jsonb_len(ge.evidence_data -> 'classifications')
           WHEN 'ClinGen' THEN COALESCE(kgdb_jsonb_int(ge.evidence_data -> 'assertion_count'), 1)
           WHEN 'Literature' THEN COALESCE(kgdb_jsonb_int(ge.evidence_data -> 'publication_count'),
                                           kgdb_jsonb_len(ge.evidence_data -> 'publications'))
           ELSE 0
       END AS source_count
FROM gene_evidence ge;

-- (b) percentile of ln(1+count) within each source; count 0 rows are dropped
CREATE VIEW evidence_count_percentiles AS
SELECT evidence_id, gene_id, source_name, source_count,
       percent_rank() OVER (PARTITION BY source_name ORDER BY ln(1.0 + source_count)) AS percentile_score
FROM evidence_source_counts
WHERE source_count > 0;

-- (c) ClinGen and GenCC: best classification weight of the row
CREATE VIEW evidence_classification_weights AS
SELECT ge.id AS evidence_id,
       ge.gene_id,
       ge.source_name,
       COALESCE(
           CASE WHEN jsonb_typeof(ge.evidence_data -> 'classifications') = 'array' THEN
               (SELECT max(kgdb_classification_weight(ge.source_name, c))
                FROM jsonb_array_elements_text(ge.evidence_data -> 'classifications') AS c)
           WHEN ge.source_name = 'ClinGen' THEN
               kgdb_classification_weight('ClinGen', ge.evidence_data ->> 'classification')
           END,
           0.0) AS normalized_score
FROM gene_evidence ge
WHERE ge.source_name IN ('ClinGen', 'GenCC');

-- (d) one normalized score per evidence row
CREATE VIEW evidence_normalized_scores AS
SELECT evidence_id, gene_id, source_name, percentile_score AS normalized_score
FROM evidence_count_percentiles
WHERE source_name NOT IN ('ClinGen', 'GenCC')
UNION ALL
SELECT evidence_id, gene_id, source_name, normalized_score
FROM evidence_classification_weights;

CREATE VIEW combined_evidence_scores AS
SELECT evidence_id, gene_id, source_name, normalized_score,
       source_name AS display_name,
       'pipeline'::text AS source_type
FROM evidence_normalized_scores;

-- Per gene x source score, materialized so the evidence endpoint reads it by key.
CREATE MATERIALIZED VIEW gene_source_scores AS
SELECT gene_id, source_name::text AS source_name, max(normalized_score) AS source_score
FROM combined_evidence_scores
GROUP BY gene_id, source_name;
CREATE UNIQUE INDEX gene_source_scores_pk ON gene_source_scores (gene_id, source_name);
CREATE INDEX gene_source_scores_rank ON gene_source_scores (source_name, source_score DESC);

-- (e) gene scores: sum of per-source scores over the number of active sources N
CREATE MATERIALIZED VIEW gene_scores AS
WITH active AS (
    SELECT count(DISTINCT source_name)::integer AS n FROM gene_source_scores
),
per_gene AS (
    SELECT g.id AS gene_id, g.approved_symbol, g.hgnc_id,
           count(*)::integer AS source_count,
           sum(s.source_score) AS raw_score,
           sum(s.source_score) / a.n * 100 AS percentage_score,
           jsonb_object_agg(s.source_name, round(s.source_score::numeric, 4)) AS source_scores,
           a.n AS total_active_sources
    FROM genes g
    JOIN gene_source_scores s ON s.gene_id = g.id
    CROSS JOIN active a
    GROUP BY g.id, g.approved_symbol, g.hgnc_id, a.n
)
SELECT gene_id, approved_symbol, hgnc_id,
       source_count,
       source_count AS evidence_count,
       raw_score,
       percentage_score,
       source_scores,
       total_active_sources,
       CASE
           WHEN source_count >= 4 AND percentage_score >= 50 THEN 'comprehensive_support'
           WHEN source_count >= 3 AND percentage_score >= 35 THEN 'multi_source_support'
           WHEN source_count >= 2 AND percentage_score >= 20 THEN 'established_support'
           WHEN percentage_score >= 10 THEN 'preliminary_evidence'
           WHEN percentage_score > 0 THEN 'minimal_evidence'
           ELSE 'no_evidence'
       END AS evidence_tier,
       CASE
           WHEN source_count >= 2 AND percentage_score >= 20 THEN 'well_supported'
           WHEN percentage_score > 0 THEN 'emerging_evidence'
           ELSE 'insufficient'
       END AS evidence_group
FROM per_gene;
CREATE UNIQUE INDEX gene_scores_gene_id ON gene_scores (gene_id);
CREATE INDEX gene_scores_percentage ON gene_scores (percentage_score);
CREATE INDEX gene_scores_tier ON gene_scores (evidence_tier);

-- Denormalised read model of /api/genes/ and /api/genes/{symbol}: one row per gene with
-- everything the list filters and sorts on, `doc` (the gene's JSON:API resource in the list)
-- and `detail_doc` (the detail body), both rendered at refresh time, so a request is an index
-- scan whose text is spliced into the response as-is.
-- approved_symbol uses the "C" collation so ordering is byte order on every machine.
CREATE MATERIALIZED VIEW gene_list AS
WITH base AS (
    SELECT g.id,
           g.hgnc_id::text AS hgnc_id,
           (g.approved_symbol::text COLLATE "C") AS approved_symbol,
           g.aliases,
           g.created_at,
           g.updated_at,
           COALESCE(ev.row_count, 0)::integer AS evidence_rows,
           COALESCE(ev.sources, '{}') AS sources,
           gs.source_count,
           gs.raw_score,
           gs.percentage_score,
           gs.source_scores,
           gs.evidence_tier,
           gs.evidence_group
    FROM genes g
    LEFT JOIN (
        SELECT gene_id, count(*) AS row_count,
               array_agg(DISTINCT source_name::text ORDER BY source_name::text) AS sources
        FROM gene_evidence
        GROUP BY gene_id
    ) ev ON ev.gene_id = g.id
    LEFT JOIN gene_scores gs ON gs.gene_id = g.id
)
SELECT base.*,
       upper(approved_symbol) AS symbol_upper,
       CASE evidence_tier
           WHEN 'comprehensive_support' THEN 1
           WHEN 'multi_source_support' THEN 2
           WHEN 'established_support' THEN 3
           WHEN 'preliminary_evidence' THEN 4
           WHEN 'minimal_evidence' THEN 5
           ELSE 999
       END AS tier_rank,
       CASE evidence_group
           WHEN 'well_supported' THEN 1
           WHEN 'emerging_evidence' THEN 2
           ELSE 999
       END AS group_rank,
       json_build_object(
           'type', 'genes',
           'id', id::text,
           'attributes', json_build_object(
               'hgnc_id', hgnc_id,
               'approved_symbol', approved_symbol,
               'aliases', aliases,
               -- UTC with a Z, whatever the session time zone of the refresh.
               'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'updated_at', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'evidence_count', evidence_rows,
               'evidence_score', percentage_score,
               'evidence_tier', evidence_tier,
               'evidence_group', evidence_group,
               'sources', sources))::text AS doc,
       -- The whole body of GET /api/genes/{symbol}.
       json_build_object('data', json_build_object(
           'type', 'genes',
           'id', id::text,
           'attributes', json_build_object(
               'hgnc_id', hgnc_id,
               'approved_symbol', approved_symbol,
               'aliases', aliases,
               'created_at', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'updated_at', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'evidence_count', cardinality(sources),
               -- The original reports a zero score as null here (but not in the list).
               'evidence_score', NULLIF(percentage_score, 0),
               'evidence_tier', evidence_tier,
               'evidence_group', evidence_group,
               'sources', sources,
               'score_breakdown', COALESCE(source_scores, '{}'::jsonb),
               'source_scores', COALESCE(source_scores, '{}'::jsonb))))::text AS detail_doc
FROM base;
CREATE UNIQUE INDEX gene_list_id ON gene_list (id);
-- Matches the default sort exactly (-evidence_score,approved_symbol + id tiebreak), so the
-- default page is an index scan that stops after LIMIT rows.
CREATE INDEX gene_list_default_order ON gene_list (percentage_score DESC NULLS LAST, approved_symbol NULLS FIRST, id);
CREATE INDEX gene_list_symbol_upper ON gene_list (symbol_upper);
CREATE INDEX gene_list_symbol ON gene_list (approved_symbol);
CREATE INDEX gene_list_hgnc ON gene_list (hgnc_id);

-- Everything /api/genes/ reports in meta that does not depend on the request's filters; the
-- JSON parts are rendered here so a request only splices them in.
CREATE MATERIALIZED VIEW gene_list_meta AS
WITH counts AS (
    SELECT (SELECT count(*) FROM gene_list)::bigint AS total_genes,
           (SELECT count(*) FROM gene_list WHERE percentage_score > 0)::bigint AS scored_genes,
           (SELECT COALESCE(max(source_count), 0) FROM gene_scores)::integer AS max_evidence_count,
           (SELECT COALESCE(array_agg(DISTINCT source_name::text ORDER BY source_name::text), '{}')
              FROM gene_evidence) AS available_sources
),
tiers AS (
    SELECT jsonb_build_object(
               'well_supported', jsonb_build_object(
                   'comprehensive_support', count(*) FILTER (WHERE evidence_tier = 'comprehensive_support'),
                   'multi_source_support', count(*) FILTER (WHERE evidence_tier = 'multi_source_support'),
                   'established_support', count(*) FILTER (WHERE evidence_tier = 'established_support'),
                   'total', count(*) FILTER (WHERE evidence_group = 'well_supported')),
               'emerging_evidence', jsonb_build_object(
                   'preliminary_evidence', count(*) FILTER (WHERE evidence_tier = 'preliminary_evidence'),
                   'minimal_evidence', count(*) FILTER (WHERE evidence_tier = 'minimal_evidence'),
                   'total', count(*) FILTER (WHERE evidence_group = 'emerging_evidence'))) AS evidence_tiers
    FROM gene_scores WHERE percentage_score > 0
)
SELECT 1 AS id,
       counts.*,
       tiers.evidence_tiers,
       json_build_object(
           'evidence_score', json_build_object('min', 0, 'max', 100),
           'evidence_count', json_build_object('min', 0, 'max', counts.max_evidence_count),
           'available_sources', counts.available_sources)::text AS filters_json,
       tiers.evidence_tiers::text AS evidence_tiers_json
FROM counts CROSS JOIN tiers;
CREATE UNIQUE INDEX gene_list_meta_id ON gene_list_meta (id);
