-- Core tables of kgdb. Applied once by `kgdb-local migrate` (or the migration step of a deploy),
-- never on a Lambda cold start.

CREATE TABLE genes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hgnc_id         varchar(50) NOT NULL UNIQUE,
    approved_symbol varchar(100) NOT NULL,
    aliases         text[] NOT NULL DEFAULT '{}',
    valid_from      timestamptz NOT NULL DEFAULT now(),
    valid_to        timestamptz NOT NULL DEFAULT 'infinity',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_genes_symbol ON genes (approved_symbol);
CREATE INDEX idx_gene_symbol_upper ON genes (upper(approved_symbol));

-- Case-insensitive alias lookup needs an immutable wrapper so it can be indexed.
CREATE FUNCTION kgdb_upper_array(arr text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT COALESCE(array_agg(upper(a)), '{}') FROM unnest(arr) AS a $$;
CREATE INDEX idx_genes_aliases_upper ON genes USING gin (kgdb_upper_array(aliases));

-- One row per gene x source (the writer upserts on this key; retries are idempotent).
CREATE TABLE gene_evidence (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gene_id       bigint NOT NULL REFERENCES genes (id) ON DELETE CASCADE,
    source_name   varchar(100) NOT NULL,
    source_detail varchar(255),
    evidence_data jsonb NOT NULL,
    evidence_date date,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT gene_evidence_gene_source UNIQUE (gene_id, source_name)
);
CREATE INDEX idx_gene_evidence_source ON gene_evidence (source_name);
CREATE INDEX idx_gene_evidence_providers ON gene_evidence USING gin ((evidence_data -> 'providers'))
    WHERE source_name = 'DiagnosticPanels';
CREATE INDEX idx_gene_evidence_publications ON gene_evidence USING gin ((evidence_data -> 'publications'))
    WHERE source_name = 'Literature';

CREATE TABLE gene_annotations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gene_id         bigint NOT NULL REFERENCES genes (id) ON DELETE CASCADE,
    source          varchar(50) NOT NULL,
    version         varchar(20),
    annotations     jsonb NOT NULL,
    source_metadata jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT unique_gene_source UNIQUE (gene_id, source)
);
CREATE INDEX idx_gene_annotations_source ON gene_annotations (source);
-- Identifier branches of /api/genes/resolve.
CREATE INDEX idx_gene_annotations_ensembl ON gene_annotations ((annotations ->> 'ensembl_gene_id'))
    WHERE source = 'hgnc';
CREATE INDEX idx_gene_annotations_ncbi ON gene_annotations ((annotations ->> 'ncbi_gene_id'))
    WHERE source = 'hgnc';
CREATE INDEX idx_gene_annotations_uniprot ON gene_annotations ((annotations ->> 'accession'))
    WHERE source = 'uniprot';

CREATE TABLE annotation_sources (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_name      text NOT NULL UNIQUE,
    display_name     text NOT NULL,
    version          text NOT NULL,
    description      text,
    url              text,
    base_url         text,
    is_active        boolean NOT NULL DEFAULT true,
    priority         integer NOT NULL DEFAULT 0,
    update_frequency text,
    last_update      timestamptz,
    next_update      timestamptz,
    config           jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

INSERT INTO annotation_sources (source_name, display_name, version, description, url, base_url, priority, update_frequency) VALUES
 ('hgnc', 'HGNC', '2024.01', 'HUGO Gene Nomenclature Committee approved symbols and identifiers',
  'https://www.genenames.org', 'https://rest.genenames.org', 10, 'quarterly'),
 ('gnomad', 'gnomAD', 'v4.1.0', 'Gene constraint metrics (pLI, LOEUF, Z-scores)',
  'https://gnomad.broadinstitute.org', 'https://gnomad.broadinstitute.org/api', 9, 'quarterly'),
 ('clinvar', 'ClinVar', '2.0', 'Variant counts by clinical significance',
  'https://www.ncbi.nlm.nih.gov/clinvar/', 'https://eutils.ncbi.nlm.nih.gov/entrez/eutils', 8, 'quarterly'),
 ('hpo', 'HPO', '1.0', 'Human Phenotype Ontology gene-phenotype annotations',
  'https://hpo.jax.org', 'https://ontology.jax.org/api', 7, 'quarterly'),
 ('mpo_mgi', 'MGI/MPO', '1.0', 'Mouse phenotypes of orthologs (kidney MP terms)',
  'https://www.informatics.jax.org', 'https://www.mousemine.org/mousemine/service', 6, 'quarterly'),
 ('gtex', 'GTEx', 'v8', 'Tissue expression (median TPM)',
  'https://gtexportal.org', 'https://storage.googleapis.com/adult-gtex', 5, 'quarterly'),
 ('descartes', 'Descartes', 'human_gtex', 'Fetal kidney single-cell expression',
  'https://descartes.brotmanbaty.org', 'https://atlas.fredhutch.org/data/bbi/descartes', 4, 'quarterly'),
 ('string_ppi', 'STRING', '12.0', 'Protein-protein interactions among kidney genes',
  'https://string-db.org', 'https://stringdb-downloads.org/download', 3, 'monthly'),
 ('ensembl', 'Ensembl', '2.0', 'Gene structure, canonical transcript and exons (GRCh38)',
  'https://www.ensembl.org', 'https://ftp.ensembl.org/pub', 2, 'monthly'),
 ('uniprot', 'UniProt', '1.0', 'Protein domains and features (reviewed entries)',
  'https://www.uniprot.org', 'https://rest.uniprot.org', 1, 'monthly');

-- Releases are immutable snapshots once published (the release issue fills this in).
CREATE TABLE data_releases (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version              varchar(20) NOT NULL UNIQUE CHECK (version ~ '^\d{4}\.\d{1,2}$'),
    release_date         timestamptz,
    status               varchar(20) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    published_at         timestamptz,
    published_by         text,
    gene_count           integer,
    total_evidence_count integer,
    export_file_path     text,
    export_checksum      varchar(64),
    doi                  text,
    citation_text        text,
    release_notes        text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_data_releases_status ON data_releases (status);

-- Pipeline state: one row per source or internal process, plus a run log.
CREATE TABLE data_source_progress (
    source_name      text PRIMARY KEY,
    status           text NOT NULL DEFAULT 'idle'
                     CHECK (status IN ('idle', 'running', 'completed', 'failed', 'paused')),
    items_processed  integer NOT NULL DEFAULT 0,
    items_added      integer NOT NULL DEFAULT 0,
    items_updated    integer NOT NULL DEFAULT 0,
    items_failed     integer NOT NULL DEFAULT 0,
    current_operation text,
    last_error       text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    started_at       timestamptz,
    completed_at     timestamptz,
    last_update_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pipeline_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    status       text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    stats        jsonb NOT NULL DEFAULT '{}',
    error_log    text
);

-- The single monotonic data version: every write path bumps it, every cache key contains it.
CREATE TABLE data_version (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version    bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO data_version (version) VALUES (1);
