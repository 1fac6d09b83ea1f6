-- Read models of /api/statistics/* and /api/datasources*. The original aggregated
-- gene_evidence per request (and created source_overlap_statistics only from code nobody
-- called, so a fresh database lacked it: README, deviations). Here everything a request
-- needs is precomputed at refresh time, keyed so a request only sums a few hundred rows:
--   * the request filters (filter[hide_zero_scores], filter[tier]) only ever select a set of
--     tier buckets (a gene's evidence_tier, or 'unscored' when it has evidence but no score),
--     so every per-request number is a sum over rows keyed by tier_bucket;
--   * each gene sits in exactly one bucket, so distinct-gene counts add up across buckets.
-- Every view has a unique index so REFRESH ... CONCURRENTLY works (refresh.rs).

-- Elements of a JSON array, none for anything else. STRICT keeps it from being inlined, so
-- its ROWS estimate (evidence arrays are short) is what the planner uses; the built-in
-- estimate of 100 rows per call inflates the refresh plans' cost into JIT territory.
CREATE FUNCTION kgdb_jsonb_elements(j jsonb) RETURNS SETOF jsonb
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 4
    AS $$ SELECT jsonb_array_elements(CASE WHEN jsonb_typeof(j) = 'array' THEN j ELSE '[]'::jsonb END) $$;

-- Per gene: which sources it has evidence from, and the bucket the filters select it by.
CREATE MATERIALIZED VIEW gene_source_membership AS
SELECT g.id AS gene_id,
       (g.approved_symbol::text COLLATE "C") AS approved_symbol,
       array_agg(e.source_name::text COLLATE "C" ORDER BY e.source_name::text COLLATE "C") AS sources,
       count(*)::integer AS source_count,
       COALESCE(gs.evidence_tier, 'unscored') AS tier_bucket,
       gs.percentage_score
FROM genes g
JOIN gene_evidence e ON e.gene_id = g.id
LEFT JOIN gene_scores gs ON gs.gene_id = g.id
GROUP BY g.id, g.approved_symbol, gs.evidence_tier, gs.percentage_score;
CREATE UNIQUE INDEX gene_source_membership_gene ON gene_source_membership (gene_id);

-- UpSet input: genes per exact source combination and bucket, with their symbols (sorted)
-- for detail=true. Restricting to a subset of sources is a projection of these rows.
CREATE MATERIALIZED VIEW source_combination_stats AS
SELECT sources,
       tier_bucket,
       count(*)::integer AS gene_count,
       array_agg(approved_symbol ORDER BY approved_symbol) AS genes
FROM gene_source_membership
GROUP BY sources, tier_bucket;
CREATE UNIQUE INDEX source_combination_stats_key ON source_combination_stats (sources, tier_bucket);
CREATE INDEX source_combination_stats_tier ON source_combination_stats (tier_bucket);

-- Genes and evidence rows per source and bucket (source sets, contribution weights).
CREATE MATERIALIZED VIEW source_tier_stats AS
SELECT e.source_name::text AS source_name,
       m.tier_bucket,
       count(DISTINCT e.gene_id)::integer AS gene_count,
       count(*)::integer AS evidence_count,
       max(e.updated_at) AS last_updated
FROM gene_evidence e
JOIN gene_source_membership m ON m.gene_id = e.gene_id
GROUP BY e.source_name, m.tier_bucket;
CREATE UNIQUE INDEX source_tier_stats_key ON source_tier_stats (source_name, tier_bucket);
CREATE INDEX source_tier_stats_tier ON source_tier_stats (tier_bucket);

-- Per-source distribution categories (docs/api.md, statistics). category_value is set
-- for the count histograms (the API returns those categories as numbers); sort_order is the
-- display order. Classification categories count distinct genes, as the original does.
CREATE MATERIALIZED VIEW source_distribution_stats AS
WITH ev AS (
    SELECT e.gene_id, e.source_name::text AS source_name, e.evidence_data, m.tier_bucket
    FROM gene_evidence e
    JOIN gene_source_membership m ON m.gene_id = e.gene_id
),
counted AS (
    SELECT source_name, tier_bucket, gene_id,
           CASE source_name
               WHEN 'PanelApp' THEN kgdb_jsonb_len(evidence_data -> 'panels')
               WHEN 'PubTator' THEN kgdb_jsonb_len(evidence_data -> 'pmids')
               WHEN 'Literature' THEN kgdb_jsonb_len(evidence_data -> 'publications')
               WHEN 'DiagnosticPanels' THEN kgdb_jsonb_len(evidence_data -> 'providers')
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

-- Scored genes per tier and number of scored sources (evidence composition). Genes without
-- a score are absent, as in the original, which always joined gene_scores here.
CREATE MATERIALIZED VIEW evidence_tier_stats AS
SELECT evidence_tier, source_count, count(*)::integer AS gene_count
FROM gene_scores
GROUP BY evidence_tier, source_count;
CREATE UNIQUE INDEX evidence_tier_stats_key ON evidence_tier_stats (evidence_tier, source_count);

-- Pairwise overlaps, unfiltered (the original's definition, without its 6k x 6k cross join):
-- every pair of sources that has evidence, source1 < source2, including pairs sharing no gene.
CREATE MATERIALIZED VIEW source_overlap_statistics AS
WITH totals AS (
    SELECT source_name::text COLLATE "C" AS source_name, count(DISTINCT gene_id)::integer AS total
    FROM gene_evidence
    GROUP BY source_name
),
shared AS (
    SELECT e1.source_name::text COLLATE "C" AS source1,
           e2.source_name::text COLLATE "C" AS source2,
           count(DISTINCT e1.gene_id)::integer AS overlap_count
    FROM gene_evidence e1
    JOIN gene_evidence e2
      ON e2.gene_id = e1.gene_id
     AND e1.source_name::text COLLATE "C" < e2.source_name::text COLLATE "C"
    GROUP BY 1, 2
)
SELECT t1.source_name AS source1,
       t2.source_name AS source2,
       COALESCE(s.overlap_count, 0) AS overlap_count,
       t1.total AS source1_total,
       t2.total AS source2_total,
       round(COALESCE(s.overlap_count, 0)::numeric / NULLIF(t1.total, 0) * 100, 2)::float8
           AS overlap_percentage
FROM totals t1
JOIN totals t2 ON t1.source_name < t2.source_name
LEFT JOIN shared s ON s.source1 = t1.source_name AND s.source2 = t2.source_name;
CREATE UNIQUE INDEX source_overlap_statistics_pair ON source_overlap_statistics (source1, source2);

-- One row per source with evidence: counts over all rows and over scored genes
-- (percentage_score > 0, i.e. one of the five filterable tiers), and the source-specific
-- metadata of GET /api/datasources/ computed from the evidence_data shapes.
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
               'expert_panels', count(DISTINCT CASE WHEN key = 'expert_panels' THEN value #>> '{}'
                                                    WHEN key = 'validities' THEN value ->> 'expert_panel' END),
               'classifications', count(DISTINCT value ->> 'classification') FILTER (WHERE key = 'validities'))
               AS metadata
    FROM elems WHERE source_name = 'ClinGen'
    UNION ALL
    SELECT 'GenCC', jsonb_build_object(
               'submissions', count(*) FILTER (WHERE key = 'submissions'),
               'submitters', count(DISTINCT value ->> 'submitter') FILTER (WHERE key = 'submissions'))
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

-- Totals of GET /api/datasources/ (one row).
CREATE MATERIALIZED VIEW datasource_totals AS
SELECT 1 AS id,
       (SELECT count(*) FROM gene_source_membership
         WHERE tier_bucket NOT IN ('unscored', 'no_evidence'))::bigint AS scored_genes,
       (SELECT count(*) FROM gene_source_membership)::bigint AS genes_with_evidence,
       (SELECT count(*) FROM genes g
         WHERE NOT EXISTS (SELECT 1 FROM gene_evidence e WHERE e.gene_id = g.id))::bigint AS orphaned_genes,
       (SELECT count(*) FROM gene_evidence)::bigint AS total_evidence_records,
       (SELECT max(updated_at) FROM gene_evidence) AS last_data_update;
CREATE UNIQUE INDEX datasource_totals_id ON datasource_totals (id);

-- The ten best-scored genes of each source (GET /api/datasources/{source_name}); count is the
-- per-source evidence count the score ranks (panels, publications, terms, ...).
CREATE MATERIALIZED VIEW datasource_top_genes AS
SELECT source_name, rank, approved_symbol, score, evidence_count
FROM (
    SELECT s.source_name,
           row_number() OVER (PARTITION BY s.source_name
                              ORDER BY s.source_score DESC, c.source_count DESC,
                                       g.approved_symbol::text COLLATE "C", g.id)::integer AS rank,
           g.approved_symbol::text AS approved_symbol,
           round(s.source_score::numeric, 4)::float8 AS score,
           c.source_count AS evidence_count
    FROM gene_source_scores s
    JOIN genes g ON g.id = s.gene_id
    JOIN evidence_source_counts c ON c.gene_id = s.gene_id AND c.source_name = s.source_name
) ranked
WHERE rank <= 10;
CREATE UNIQUE INDEX datasource_top_genes_key ON datasource_top_genes (source_name, rank);

-- last_pipeline_run of GET /api/datasources/ reads the newest completed run by index.
CREATE INDEX pipeline_runs_completed ON pipeline_runs (completed_at DESC) WHERE status = 'completed';
