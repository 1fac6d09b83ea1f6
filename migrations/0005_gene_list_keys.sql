-- A narrow read model of /api/genes/: every column a filter or a sort reads, and nothing else.
-- `gene_list` rows carry two rendered JSON documents (~1.5 KB a gene), so filtering and sorting
-- there read every wide row; here a gene is ~100 bytes and a filtered, sorted page reads a few
-- dozen pages, then fetches the documents of only the rows on the page (by primary key).
CREATE MATERIALIZED VIEW gene_list_keys AS
SELECT id,
       hgnc_id,
       approved_symbol,
       percentage_score,
       source_count,
       sources,
       evidence_tier,
       evidence_group,
       tier_rank,
       group_rank,
       created_at,
       updated_at
FROM gene_list;

CREATE UNIQUE INDEX gene_list_keys_id ON gene_list_keys (id);
-- The default sort (-evidence_score,approved_symbol, id last): the default page stops after
-- LIMIT index entries.
CREATE INDEX gene_list_keys_default_order
    ON gene_list_keys (percentage_score DESC NULLS LAST, approved_symbol ASC NULLS FIRST, id);
-- sort=approved_symbol asks for ASC NULLS FIRST, which the plain symbol index cannot give.
CREATE INDEX gene_list_keys_symbol_order
    ON gene_list_keys (approved_symbol ASC NULLS FIRST, id);

-- The wide view's list index is no longer read; each index costs every refresh.
DROP INDEX gene_list_default_order;
