-- Gene annotations (descriptive, not scored): when each row is due again, the identifiers
-- /api/genes/resolve looks genes up by, and the small read models of /api/annotations/statistics.

-- When the row should be fetched again (the original keeps this per source only; per row lets a
-- scheduler pick due gene x source pairs later).
ALTER TABLE gene_annotations ADD COLUMN next_update timestamptz;

-- Resolve reads gene_identifiers instead of the JSON; these expression indexes had no reader left.
DROP INDEX idx_gene_annotations_ensembl;
DROP INDEX idx_gene_annotations_ncbi;
DROP INDEX idx_gene_annotations_uniprot;

-- The last branch of resolve: an HGNC approved name, case-insensitive.
CREATE INDEX idx_gene_annotations_hgnc_name ON gene_annotations (upper(annotations ->> 'name'))
    WHERE source = 'hgnc';

-- One row per identifier of a gene, so every identifier branch of resolve is one index lookup.
-- Written by the annotation writer from the HGNC/Ensembl data; several genes may share a value
-- (an old symbol reused, a TrEMBL accession of a readthrough), which resolve reports as ambiguous.
CREATE TABLE gene_identifiers (
    gene_id bigint NOT NULL REFERENCES genes (id) ON DELETE CASCADE,
    kind    text NOT NULL CHECK (kind IN ('ensembl_gene_id', 'ncbi_gene_id', 'uniprot_accession',
                                          'prev_symbol', 'alias_symbol')),
    value   text NOT NULL CHECK (value <> '' AND length(value) <= 100),
    PRIMARY KEY (gene_id, kind, value)
);
CREATE INDEX gene_identifiers_lookup ON gene_identifiers (kind, upper(value));

-- Per source: genes and rows annotated, newest update (what /api/annotations/statistics lists;
-- only sources with rows, as the original's GROUP BY).
CREATE MATERIALIZED VIEW annotation_source_stats AS
SELECT source,
       count(DISTINCT gene_id)::bigint AS gene_count,
       count(*)::bigint AS annotation_count,
       max(updated_at) AS last_update
  FROM gene_annotations
 GROUP BY source;
CREATE UNIQUE INDEX annotation_source_stats_source ON annotation_source_stats (source);

-- The two totals of /api/annotations/statistics, one row.
CREATE MATERIALIZED VIEW annotation_totals AS
SELECT 1 AS id,
       (SELECT count(DISTINCT gene_id) FROM gene_annotations)::bigint AS total_genes_with_annotations,
       (SELECT count(*) FROM gene_annotations h
         WHERE h.source = 'hgnc'
           AND EXISTS (SELECT 1 FROM gene_annotations g
                        WHERE g.gene_id = h.gene_id AND g.source = 'gnomad'))::bigint AS genes_with_both_sources;
CREATE UNIQUE INDEX annotation_totals_id ON annotation_totals (id);
