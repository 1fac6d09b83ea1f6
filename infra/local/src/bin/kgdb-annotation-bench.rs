//! `kgdb-annotation-bench`: what the live annotation clients of `kgdb-fetch` cost (a benchmark,
//! not a test). `./infra/annotation-bench.sh` drives it:
//!
//! * `generate --dir DIR`: real-size bulk files in the providers' formats, written streaming
//!   (bounded memory) as `DIR/<host>/<path>`, the layout `Endpoints::local` asks for: ClinVar's
//!   `variant_summary.txt.gz` (the fixture's 43-column header, GRCh37 and GRCh38 rows), Ensembl's
//!   `Homo_sapiens.GRCh38.115.chr.gtf.gz` and NCBI's MANE summary. Genes, symbols, Ensembl ids,
//!   NCBI ids, coordinates and bands are the real ones of the bundled Ensembl 100 table; HGNC ids
//!   are the real ones of the bundled kidney set (other genes get ids above `HGNC:500000`);
//!   every variant, transcript, exon and value is generated (seeded, so reruns give the same
//!   bytes). `DIR/../manifest.json` records the sizes so a rerun reuses the files.
//! * `bulk --source clinvar|ensembl --origin URL --dir DIR`: the live fetcher over the whole
//!   kidney gene set (one bulk chunk, as the worker runs it) through `HttpClient` and
//!   `Endpoints::local(URL)`, in this process only (the files come from a separate HTTP server),
//!   then wall and CPU time, lines/s, MB/s, records and peak RSS (`VmHWM`).
//! * `api`: each API path (UniProt ID mapping, MouseMine, the HGNC REST, gnomAD GraphQL and
//!   E-utilities fallbacks) on one realistic chunk against the in-process `MockServer` answering
//!   at once in the provider's format, with `DomainLimits::original()`: requests, time, achieved
//!   rate against the configured one.
//! * `readme --from FILE --readme README.md`: the results (JSON lines) as the README's table
//!   between `<!-- annotation-bench:start -->` and `<!-- annotation-bench:end -->`.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kgdb_fetch::annotation::{AnnotationFetcher, FetchOutcome, GeneKey, MissKind};
use kgdb_fetch::mock::{MockResponse, MockServer, RecordedRequest};
use kgdb_fetch::sources::{clinvar, ensembl, gnomad, hgnc, mpo_mgi, uniprot};
use kgdb_fetch::{ClientConfig, DomainLimits, Endpoints, HttpClient};
use serde_json::{Value, json};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;

const START: &str = "<!-- annotation-bench:start -->";
const END: &str = "<!-- annotation-bench:end -->";
const USAGE: &str = "usage:
  kgdb-annotation-bench generate --dir DIR [--clinvar-gz-mb 420] [--gtf-mb 1000] [--gtf-genes N (smoke tests)]
  kgdb-annotation-bench bulk --source clinvar|ensembl --origin http://127.0.0.1:PORT --dir DIR [--out FILE]
                             [--max-variant-details N (clinvar: the per-gene variant lists' cap)]
  kgdb-annotation-bench api [--only uniprot,mpo_mgi,hgnc,gnomad,clinvar] [--out FILE]
  kgdb-annotation-bench readme --from FILE --readme README.md [--note TEXT]
Run from the repository root (it reads data/snapshots/).";

/// Bump when the generated files change, so old ones are not reused.
const GENERATOR: u32 = 1;
const MB: f64 = 1_000_000.0;
/// The smallest useful Lambda size.
const RSS_TARGET_MB: f64 = 128.0;
const RATE_TARGET: f64 = 0.9;

const ENSEMBL100: &str = "data/snapshots/ensembl100-hgnc-grch38/ensembl100_hgnc_genes.tsv.gz";
const KIDNEY_DIR: &str = "data/snapshots/kidney-genetics-v1-2024-05-14";
const KIDNEY_LISTS: [&str; 5] = [
    "01_PanelApp_genes",
    "02_Literature_genes",
    "03_DiagnosticPanels_genes",
    "04_HPO_genes",
    "05_PubTator_genes",
];
const KIDNEY_MP_TERMS: &str = "data/snapshots/kgdb-curated-2025/mpo_kidney_terms.json";
// The fixtures the mock provider world serves (one copy, in kgdb-fetch).
const CLINVAR_FIXTURE: &str = kgdb_fetch::mock::providers::CLINVAR_VARIANT_SUMMARY;
const MANE_FIXTURE: &str = kgdb_fetch::mock::providers::ENSEMBL_MANE;
const GTF_FIXTURE: &str = kgdb_fetch::mock::providers::ENSEMBL_GTF;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let args = Args(rest.to_vec());
    // The worker's runtime (`#[tokio::main]`: multi-threaded), so RSS counts what it would.
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        eprintln!("cannot start a tokio runtime");
        std::process::exit(1);
    };
    let result = match command.as_str() {
        "generate" => generate(&args),
        "bulk" => runtime.block_on(bulk(&args)),
        "api" => runtime.block_on(api(&args)),
        "readme" => readme(&args),
        _ => Err(USAGE.into()),
    };
    if let Err(e) = result {
        eprintln!("kgdb-annotation-bench: {e}");
        std::process::exit(1);
    }
}

/// `--name value` options after the subcommand.
struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }
    fn required(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| format!("{name} is required\n{USAGE}").into())
    }
    fn num(&self, name: &str, default: f64) -> Result<f64> {
        self.get(name).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("{name} must be a number").into())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness (no dependency: the files must be the same on every machine).

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    /// `0..n` (0 when n is 0).
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    /// `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = u64::try_from(hi - lo).unwrap_or(0).saturating_add(1);
        lo + i64::try_from(self.below(span)).unwrap_or(0)
    }
    fn chance(&mut self, p: f64) -> bool {
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[i.min(items.len().saturating_sub(1))]
    }
    /// An item by its weight (weights need not sum to anything in particular).
    fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut x = self.below(total);
        for &(item, w) in items {
            if x < u64::from(w) {
                return item;
            }
            x -= u64::from(w);
        }
        items[items.len() - 1].0
    }
}

/// splitmix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash2(a: u64, b: u64) -> u64 {
    mix(a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(b))
}

fn hash_str(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

// ---------------------------------------------------------------------------------------------
// Genes: the bundled Ensembl 100 table (every human gene) and the kidney set (~3,000 genes).

struct UGene {
    index: u64,
    ensembl: String,
    chrom: String,
    start: i64,
    end: i64,
    minus: bool,
    ensembl_name: String,
    biotype: String,
    coding_length: i64,
    symbol: Option<String>,
    full_name: String,
    band: String,
    uniprot: Option<String>,
    entrez: Option<String>,
    /// Real for the kidney set, `HGNC:5xxxxx` (generated) for other named genes.
    hgnc: Option<String>,
    kidney: bool,
}

impl UGene {
    fn version(&self) -> u64 {
        1 + hash2(self.index, 3) % 20
    }
    /// The gene's RefSeq transcript (generated, shared by the ClinVar names and MANE).
    fn refseq(&self) -> String {
        format!(
            "NM_{:06}.{}",
            1000 + hash2(self.index, 1) % 998_000,
            1 + hash2(self.index, 2) % 8
        )
    }
    fn mouse_symbol(&self) -> String {
        mouse_symbol(self.symbol.as_deref().unwrap_or(&self.ensembl_name))
    }
}

fn mouse_symbol(human: &str) -> String {
    let mut out = String::with_capacity(human.len());
    for (i, c) in human.chars().enumerate() {
        if i == 0 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

fn gz_lines(path: &str) -> Result<impl Iterator<Item = std::io::Result<String>>> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("{path}: {e} (run from the repository root)"))?;
    Ok(std::io::BufReader::new(flate2::read::GzDecoder::new(file)).lines())
}

/// The five gene lists of the kidney snapshot, united by HGNC id: `(number, symbol)` by number.
fn kidney_set() -> Result<Vec<(u32, String)>> {
    let mut by_id: std::collections::BTreeMap<u32, String> = std::collections::BTreeMap::new();
    for list in KIDNEY_LISTS {
        let path = format!("{KIDNEY_DIR}/{list}.2024-05-14.csv.gz");
        let mut lines = gz_lines(&path)?;
        let header = lines.next().ok_or(format!("{path}: empty"))??;
        if !header.starts_with("approved_symbol,hgnc_id,") {
            return Err(format!("{path}: unexpected header {header:?}").into());
        }
        for line in lines {
            let line = line?;
            let mut cells = line.splitn(3, ',');
            let (Some(symbol), Some(id)) = (cells.next(), cells.next()) else {
                continue;
            };
            if let Ok(n) = id.trim().parse::<u32>() {
                by_id.entry(n).or_insert_with(|| symbol.trim().to_string());
            }
        }
    }
    Ok(by_id.into_iter().collect())
}

fn universe(kidney: &[(u32, String)]) -> Result<Vec<UGene>> {
    let kidney_by_symbol: HashMap<&str, u32> =
        kidney.iter().map(|(n, s)| (s.as_str(), *n)).collect();
    let mut taken: BTreeSet<u32> = BTreeSet::new();
    let mut lines = gz_lines(ENSEMBL100)?;
    let header = lines.next().ok_or("empty Ensembl table")??;
    let names: Vec<&str> = header.split('\t').collect();
    let col = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| format!("{ENSEMBL100}: no column {name}"))
    };
    let c_id = col("ensembl_gene_id")?;
    let c_chrom = col("chromosome")?;
    let c_start = col("start")?;
    let c_end = col("end")?;
    let c_strand = col("strand")?;
    let c_name = col("ensembl_gene_name")?;
    let c_biotype = col("biotype")?;
    let c_coding = col("coding_length")?;
    let c_symbol = col("approved_symbol")?;
    let c_full = col("approved_name")?;
    let c_band = col("chromosome_region")?;
    let c_uniprot = col("uniprot_ids")?;
    let c_entrez = col("entrez_ids")?;
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line?;
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |c: usize| cells.get(c).copied().unwrap_or_default().trim();
        let number = |c: usize| -> Result<i64> {
            cell(c).parse::<i64>().map_err(|_| {
                format!("{ENSEMBL100} row {}: {:?} is not a number", i + 2, cell(c)).into()
            })
        };
        let symbol = Some(cell(c_symbol))
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let index = i as u64;
        let (hgnc, is_kidney) = match symbol.as_deref().and_then(|s| kidney_by_symbol.get(s)) {
            Some(&n) if taken.insert(n) => (Some(format!("HGNC:{n}")), true),
            _ => (
                symbol.as_ref().map(|_| format!("HGNC:{}", 500_000 + index)),
                false,
            ),
        };
        // The Swiss-Prot accession is the one that looks like one (O/P/Q + 5), else the first.
        let uniprots: Vec<&str> = cell(c_uniprot)
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let uniprot = uniprots
            .iter()
            .find(|a| a.len() == 6 && a.starts_with(['O', 'P', 'Q']))
            .or(uniprots.first())
            .map(|s| (*s).to_string());
        out.push(UGene {
            index,
            ensembl: cell(c_id).to_string(),
            chrom: cell(c_chrom).to_string(),
            start: number(c_start)?.max(1),
            end: number(c_end)?,
            minus: cell(c_strand) == "-",
            ensembl_name: cell(c_name).to_string(),
            biotype: cell(c_biotype).to_string(),
            coding_length: cell(c_coding).parse().unwrap_or(0),
            symbol,
            full_name: cell(c_full).to_string(),
            band: cell(c_band).to_string(),
            uniprot,
            entrez: cell(c_entrez)
                .split('|')
                .map(str::trim)
                .find(|s| !s.is_empty())
                .map(str::to_string),
            hgnc,
            kidney: is_kidney,
        });
    }
    Ok(out)
}

/// A gene of a chunk: its key as the pipeline builds it, and the Ensembl row it joins to.
struct ChunkGene {
    key: GeneKey,
    row: Option<usize>,
}

/// The kidney set as the pipeline's genes: HGNC id and symbol, Ensembl and NCBI ids from the
/// Ensembl table when the symbol is there.
fn kidney_genes(kidney: &[(u32, String)], universe: &[UGene]) -> Vec<ChunkGene> {
    let by_hgnc: HashMap<&str, usize> = universe
        .iter()
        .enumerate()
        .filter(|(_, g)| g.kidney)
        .filter_map(|(i, g)| g.hgnc.as_deref().map(|h| (h, i)))
        .collect();
    kidney
        .iter()
        .map(|(n, symbol)| {
            let hgnc_id = format!("HGNC:{n}");
            let row = by_hgnc.get(hgnc_id.as_str()).copied();
            let g = row.map(|i| &universe[i]);
            ChunkGene {
                key: GeneKey {
                    hgnc_id,
                    symbol: symbol.clone(),
                    ensembl_gene_id: g.map(|g| g.ensembl.clone()),
                    ncbi_gene_id: g.and_then(|g| g.entrez.clone()),
                    percentage_score: None,
                },
                row,
            }
        })
        .collect()
}

fn chrom_rank(chrom: &str) -> Option<u8> {
    match chrom {
        "X" => Some(23),
        "Y" => Some(24),
        "MT" => Some(25),
        n => n.parse::<u8>().ok().filter(|n| (1..=22).contains(n)),
    }
}

/// RefSeq accession of a chromosome in GRCh38 / GRCh37.
fn chrom_accession(chrom: &str, grch38: bool) -> String {
    const V38: [u8; 24] = [
        11, 12, 12, 12, 10, 12, 14, 11, 12, 11, 10, 12, 11, 9, 10, 10, 11, 10, 10, 11, 9, 11, 11,
        10,
    ];
    const V37: [u8; 24] = [
        10, 11, 11, 11, 9, 11, 13, 10, 11, 10, 9, 11, 10, 8, 9, 9, 10, 9, 9, 10, 8, 10, 10, 9,
    ];
    match chrom_rank(chrom) {
        Some(25) => "NC_012920.1".to_string(),
        Some(r) => {
            let i = usize::from(r - 1);
            let v = if grch38 { V38[i] } else { V37[i] };
            format!("NC_0000{r:02}.{v}")
        }
        None => "-".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Variants (shared by the ClinVar file and the E-utilities answers).

const AMINO_ACIDS: [&str; 20] = [
    "Ala", "Arg", "Asn", "Asp", "Cys", "Gln", "Glu", "Gly", "His", "Ile", "Leu", "Lys", "Met",
    "Phe", "Pro", "Ser", "Thr", "Trp", "Tyr", "Val",
];
const BASES: [char; 4] = ['A', 'C', 'G', 'T'];
const KIDNEY_DISEASES: [&str; 18] = [
    "Polycystic kidney disease",
    "Nephronophthisis",
    "Alport syndrome",
    "Nephrotic syndrome",
    "Focal segmental glomerulosclerosis",
    "Congenital anomalies of kidney and urinary tract",
    "Bardet-Biedl syndrome",
    "Joubert syndrome",
    "Distal renal tubular acidosis",
    "Bartter disease",
    "Gitelman syndrome",
    "Dent disease",
    "Cystinosis",
    "Fabry disease",
    "Atypical hemolytic-uremic syndrome",
    "Autosomal dominant tubulointerstitial kidney disease",
    "Primary hyperoxaluria",
    "Renal coloboma syndrome",
];
const OTHER_DISEASES: [&str; 10] = [
    "Hereditary cancer-predisposing syndrome",
    "Cardiovascular phenotype",
    "Intellectual disability",
    "Developmental and epileptic encephalopathy",
    "Primary ciliary dyskinesia",
    "Dilated cardiomyopathy",
    "Retinitis pigmentosa",
    "Hearing loss, autosomal recessive",
    "Charcot-Marie-Tooth disease",
    "Familial hypercholesterolemia",
];

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Missense,
    Synonymous,
    Nonsense,
    Intronic,
    Splice,
    Utr5,
    Utr3,
    FrameshiftDel,
    FrameshiftDup,
    InframeDel,
    Insertion,
    Indel,
    StartLost,
    CnvGene,
    CnvMulti,
}

const KINDS: [(Kind, u32); 15] = [
    (Kind::Missense, 400),
    (Kind::Synonymous, 130),
    (Kind::Nonsense, 50),
    (Kind::Intronic, 140),
    (Kind::Splice, 30),
    (Kind::Utr5, 30),
    (Kind::Utr3, 30),
    (Kind::FrameshiftDel, 50),
    (Kind::FrameshiftDup, 30),
    (Kind::InframeDel, 20),
    (Kind::Insertion, 10),
    (Kind::Indel, 10),
    (Kind::StartLost, 5),
    (Kind::CnvGene, 10),
    (Kind::CnvMulti, 30),
];

/// `(ClinicalSignificance, ClinSigSimple, weight)` by how damaging the change looks.
const SIG_TRUNCATING: [((&str, i8), u32); 6] = [
    (("Pathogenic", 1), 45),
    (("Likely pathogenic", 1), 25),
    (("Pathogenic/Likely pathogenic", 1), 8),
    (("Uncertain significance", 0), 10),
    (("Conflicting classifications of pathogenicity", 0), 7),
    (("not provided", -1), 5),
];
const SIG_MISSENSE: [((&str, i8), u32); 8] = [
    (("Uncertain significance", 0), 60),
    (("Likely benign", 0), 10),
    (("Benign", 0), 3),
    (("Pathogenic", 1), 6),
    (("Likely pathogenic", 1), 6),
    (("Conflicting classifications of pathogenicity", 0), 12),
    (("not provided", -1), 2),
    (("risk factor", 0), 1),
];
const SIG_QUIET: [((&str, i8), u32); 7] = [
    (("Likely benign", 0), 45),
    (("Benign", 0), 20),
    (("Benign/Likely benign", 0), 10),
    (("Uncertain significance", 0), 20),
    (("Conflicting classifications of pathogenicity", 0), 3),
    (("not provided", -1), 2),
    (("drug response", 0), 1),
];
const REVIEW: [(&str, u32); 5] = [
    ("criteria provided, single submitter", 580),
    ("criteria provided, multiple submitters, no conflicts", 220),
    ("no assertion criteria provided", 160),
    ("reviewed by expert panel", 35),
    ("practice guideline", 5),
];

struct Variant {
    variant_type: &'static str,
    name: String,
    cdna: String,
    consequence: &'static str,
    significance: &'static str,
    sig_simple: i8,
    review: &'static str,
    /// GRCh38.
    start: i64,
    stop: i64,
    /// `(name, ids)` of the conditions.
    traits: Vec<(String, String)>,
    /// Other genes of a multi-gene copy-number variant.
    multi: bool,
}

/// One variant in gene `g` (`neighbours` are the next genes along the chromosome).
fn variant(rng: &mut Rng, g: &UGene, neighbours: &[&UGene]) -> Variant {
    let symbol = g.symbol.as_deref().unwrap_or(&g.ensembl_name);
    let nm = g.refseq();
    let cds = g.coding_length.max(300);
    let mut kind = rng.weighted(&KINDS);
    if kind == Kind::CnvMulti && neighbours.is_empty() {
        kind = Kind::CnvGene;
    }
    let c = rng.range(1, cds - 3);
    let p = (c + 2) / 3;
    let aa = *rng.pick(&AMINO_ACIDS);
    let aa2 = *rng.pick(&AMINO_ACIDS);
    let (r, a) = (*rng.pick(&BASES), *rng.pick(&BASES));
    let k = rng.range(3, 400);
    let (variant_type, cdna, protein, consequence): (&str, String, String, &str) = match kind {
        Kind::Missense => (
            "single nucleotide variant",
            format!("c.{c}{r}>{a}"),
            format!("p.{aa}{p}{aa2}"),
            "missense variant",
        ),
        Kind::Synonymous => (
            "single nucleotide variant",
            format!("c.{c}{r}>{a}"),
            format!("p.{aa}{p}="),
            "synonymous variant",
        ),
        Kind::Nonsense => (
            "single nucleotide variant",
            format!("c.{c}{r}>{a}"),
            format!("p.{aa}{p}Ter"),
            "nonsense",
        ),
        Kind::Intronic => (
            "single nucleotide variant",
            if rng.chance(0.5) {
                format!("c.{c}+{k}{r}>{a}")
            } else {
                format!("c.{c}-{k}{r}>{a}")
            },
            String::new(),
            "intron variant",
        ),
        Kind::Splice => {
            let donor = rng.chance(0.5);
            let k = rng.range(1, 2);
            (
                "single nucleotide variant",
                format!("c.{c}{}{k}{r}>{a}", if donor { '+' } else { '-' }),
                String::new(),
                if donor {
                    "splice donor variant"
                } else {
                    "splice acceptor variant"
                },
            )
        }
        Kind::Utr5 => (
            "single nucleotide variant",
            format!("c.-{k}{r}>{a}"),
            String::new(),
            "5 prime UTR variant",
        ),
        Kind::Utr3 => (
            "single nucleotide variant",
            format!("c.*{k}{r}>{a}"),
            String::new(),
            "3 prime UTR variant",
        ),
        Kind::FrameshiftDel => (
            "Deletion",
            if rng.chance(0.5) {
                format!("c.{c}del")
            } else {
                format!("c.{c}_{}del", c + 1)
            },
            format!("p.{aa}{p}fs"),
            "frameshift variant",
        ),
        Kind::FrameshiftDup => (
            "Duplication",
            format!("c.{c}dup"),
            format!("p.{aa}{}fs", p + 1),
            "frameshift variant",
        ),
        Kind::InframeDel => (
            "Deletion",
            format!("c.{c}_{}del", c + 2),
            format!("p.{aa}{p}del"),
            "inframe_deletion",
        ),
        Kind::Insertion => (
            "Insertion",
            format!("c.{c}_{}ins{a}", c + 1),
            format!("p.{aa}{p}fs"),
            "frameshift variant",
        ),
        Kind::Indel => (
            "Indel",
            format!("c.{c}delins{r}{a}"),
            format!("p.{aa}{p}{aa2}fs"),
            "frameshift variant",
        ),
        Kind::StartLost => (
            "single nucleotide variant",
            "c.1A>G".to_string(),
            "p.Met1?".to_string(),
            "initiator_codon_variant",
        ),
        Kind::CnvGene | Kind::CnvMulti => (
            if rng.chance(0.6) {
                "copy number loss"
            } else {
                "copy number gain"
            },
            String::new(),
            String::new(),
            "copy_number_change",
        ),
    };
    let length = (g.end - g.start).max(1);
    let (start, stop, name, multi) = match kind {
        Kind::CnvGene | Kind::CnvMulti => {
            let last = if kind == Kind::CnvMulti {
                neighbours[usize::try_from(rng.below(neighbours.len() as u64)).unwrap_or(0)]
            } else {
                g
            };
            let start = (g.start - rng.range(1_000, 200_000)).max(1);
            let stop = last.end.max(g.end) + rng.range(1_000, 200_000);
            let copies = if variant_type == "copy number loss" {
                1
            } else {
                3
            };
            (
                start,
                stop,
                format!(
                    "GRCh38/hg38 {}({}:{}-{})x{copies}",
                    g.band, g.chrom, start, stop
                ),
                kind == Kind::CnvMulti,
            )
        }
        _ => {
            let start = g.start + rng.range(0, length);
            let stop = start + i64::from(cdna.contains('_'));
            let name = if protein.is_empty() {
                format!("{nm}({symbol}):{cdna}")
            } else {
                format!("{nm}({symbol}):{cdna} ({protein})")
            };
            (start, stop, name, false)
        }
    };
    let table: &[((&str, i8), u32)] = match consequence {
        "nonsense"
        | "frameshift variant"
        | "initiator_codon_variant"
        | "splice donor variant"
        | "splice acceptor variant"
        | "copy_number_change" => &SIG_TRUNCATING,
        "missense variant" | "inframe_deletion" => &SIG_MISSENSE,
        _ => &SIG_QUIET,
    };
    let (significance, sig_simple) = rng.weighted(table);
    let review = match significance {
        "Conflicting classifications of pathogenicity" => {
            "criteria provided, conflicting classifications"
        }
        "not provided" => "no classification provided",
        _ => rng.weighted(&REVIEW),
    };
    let disease = if g.kidney {
        KIDNEY_DISEASES[usize::try_from(hash2(g.index, 7) % 18).unwrap_or(0)]
    } else {
        OTHER_DISEASES[usize::try_from(hash2(g.index, 7) % 10).unwrap_or(0)]
    };
    let disease_type = 1 + hash2(g.index, 8) % 9;
    let mut traits = Vec::new();
    if rng.chance(0.45) {
        let name = format!("{disease} {disease_type}");
        let ids = format!(
            "MONDO:MONDO:{:07},MedGen:C{:07},OMIM:{:06}",
            hash2(g.index, 9) % 10_000_000,
            hash2(g.index, 10) % 10_000_000,
            100_000 + hash2(g.index, 11) % 500_000
        );
        traits.push((name, ids));
    }
    if rng.chance(0.15) {
        traits.push((
            format!("{symbol}-related disorder"),
            format!("MedGen:CN{:06}", hash2(g.index, 12) % 1_000_000),
        ));
    }
    if rng.chance(0.15) {
        traits.push((
            "Inborn genetic diseases".to_string(),
            "MeSH:D030342,MedGen:C0950123".to_string(),
        ));
    }
    if rng.chance(0.15) {
        traits.push(("not specified".to_string(), "MedGen:CN169374".to_string()));
    }
    if traits.is_empty() || rng.chance(0.3) {
        traits.push(("not provided".to_string(), "MedGen:C3661900".to_string()));
    }
    Variant {
        variant_type,
        name,
        cdna,
        consequence,
        significance,
        sig_simple,
        review,
        start,
        stop,
        traits,
        multi,
    }
}

// ---------------------------------------------------------------------------------------------
// `generate`

/// Bytes through a writer.
struct Counting<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A gzip file being written: text bytes and lines in, compressed bytes out.
struct GzOut {
    path: PathBuf,
    partial: PathBuf,
    writer: BufWriter<flate2::write::GzEncoder<Counting<BufWriter<std::fs::File>>>>,
    text_bytes: u64,
    lines: u64,
}

impl GzOut {
    fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let partial = path.with_extension("partial");
        let file =
            std::fs::File::create(&partial).map_err(|e| format!("{}: {e}", partial.display()))?;
        let counting = Counting {
            inner: BufWriter::with_capacity(1 << 20, file),
            bytes: 0,
        };
        // Level 6: gzip's default, what the providers' files are written with.
        let encoder = flate2::write::GzEncoder::new(counting, flate2::Compression::new(6));
        Ok(Self {
            path: path.to_path_buf(),
            partial,
            writer: BufWriter::with_capacity(1 << 20, encoder),
            text_bytes: 0,
            lines: 0,
        })
    }

    /// `line` plus a newline.
    fn line(&mut self, line: &str) -> Result<()> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")?;
        self.text_bytes += line.len() as u64 + 1;
        self.lines += 1;
        Ok(())
    }

    fn compressed(&self) -> u64 {
        self.writer.get_ref().get_ref().bytes
    }

    fn finish(self) -> Result<FileStats> {
        let encoder = self
            .writer
            .into_inner()
            .map_err(|e| format!("{}: {e}", self.partial.display()))?;
        let mut counting = encoder.finish()?;
        counting.inner.flush()?;
        let bytes = counting.bytes;
        drop(counting);
        std::fs::rename(&self.partial, &self.path)?;
        Ok(FileStats {
            bytes,
            text_bytes: self.text_bytes,
            lines: self.lines,
        })
    }
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct FileStats {
    /// On disk (gzip).
    bytes: u64,
    text_bytes: u64,
    lines: u64,
}

/// Where each real URL's file goes under the served directory (`Endpoints::local`'s layout).
fn local_file(dir: &Path, real_url: &str) -> Result<PathBuf> {
    let rest = real_url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| format!("not a URL: {real_url}"))?;
    Ok(dir.join(rest))
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.parent()
        .unwrap_or(dir)
        .join("annotation-bench-manifest.json")
}

/// The kidney genes' keys as the worker gets them, so `bulk` loads nothing else.
fn chunk_path(dir: &Path) -> PathBuf {
    dir.parent()
        .unwrap_or(dir)
        .join("annotation-bench-kidney-genes.json")
}

fn read_manifest(dir: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(manifest_path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The recorded stats of `url`'s file when it is there with the recorded size.
fn reusable(manifest: Option<&Value>, dir: &Path, url: &str) -> Option<FileStats> {
    let m = manifest?;
    if m.get("generator").and_then(Value::as_u64) != Some(u64::from(GENERATOR)) {
        return None;
    }
    let stats: FileStats = serde_json::from_value(m.get("files")?.get(url)?.clone()).ok()?;
    let on_disk = std::fs::metadata(local_file(dir, url).ok()?).ok()?.len();
    (on_disk == stats.bytes).then_some(stats)
}

fn generate(args: &Args) -> Result<()> {
    let dir = PathBuf::from(args.required("--dir")?);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let clinvar_gz = (args.num("--clinvar-gz-mb", 420.0)? * MB) as u64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let gtf_text = (args.num("--gtf-mb", 1000.0)? * MB) as u64;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let gtf_genes = args.num("--gtf-genes", f64::INFINITY)?.min(1e9) as usize;
    let manifest = read_manifest(&dir);
    let clinvar_url = clinvar::VARIANT_SUMMARY_URL;
    let (gtf_url, mane_url) = (ensembl::GTF_URL, ensembl::MANE_URL);
    let old_clinvar =
        reusable(manifest.as_ref(), &dir, clinvar_url).filter(|s| s.bytes >= clinvar_gz);
    let old_gtf = reusable(manifest.as_ref(), &dir, gtf_url).filter(|s| s.text_bytes >= gtf_text);
    let old_mane = reusable(manifest.as_ref(), &dir, mane_url);
    let kidney = kidney_set()?;
    let genes = universe(&kidney)?;
    eprintln!(
        "    {} Ensembl 100 genes, {} of the {} kidney genes matched by symbol",
        genes.len(),
        genes.iter().filter(|g| g.kidney).count(),
        kidney.len()
    );
    let keys: Vec<GeneKey> = kidney_genes(&kidney, &genes)
        .into_iter()
        .map(|g| g.key)
        .collect();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(chunk_path(&dir), serde_json::to_vec(&keys)?)?;
    let started = Instant::now();
    let (clinvar_stats, (gtf_stats, mane_stats)) = std::thread::scope(|s| {
        let clinvar = s.spawn(|| match old_clinvar {
            Some(stats) => {
                eprintln!("    reusing {clinvar_url}");
                Ok(stats)
            }
            None => generate_clinvar(&genes, &local_file(&dir, clinvar_url)?, clinvar_gz),
        });
        let ensembl = match (old_gtf, old_mane) {
            (Some(g), Some(m)) => {
                eprintln!("    reusing {gtf_url} and {mane_url}");
                Ok((g, m))
            }
            _ => generate_ensembl(
                &genes,
                &local_file(&dir, gtf_url)?,
                &local_file(&dir, mane_url)?,
                gtf_text,
                gtf_genes,
            ),
        };
        let clinvar = clinvar
            .join()
            .map_err(|_| Error::from("the ClinVar generator panicked"))?;
        Ok::<_, Error>((clinvar?, ensembl?))
    })?;
    let files = json!({
        clinvar_url: clinvar_stats,
        gtf_url: gtf_stats,
        mane_url: mane_stats,
    });
    let manifest = json!({"generator": GENERATOR, "files": files});
    std::fs::write(
        manifest_path(&dir),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    for (url, s) in [
        (clinvar_url, clinvar_stats),
        (gtf_url, gtf_stats),
        (mane_url, mane_stats),
    ] {
        #[allow(clippy::cast_precision_loss)]
        let (gz, text) = (s.bytes as f64 / MB, s.text_bytes as f64 / MB);
        eprintln!(
            "    {url}: {gz:.0} MB gzipped, {text:.0} MB of text, {} lines",
            s.lines
        );
    }
    eprintln!("    ready in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// ClinVar's `variant_summary.txt.gz`: variants in AlleleID order, each as its GRCh37 and
/// GRCh38 rows (a few only one of them), until the file has `target_gz` compressed bytes.
fn generate_clinvar(universe: &[UGene], path: &Path, target_gz: u64) -> Result<FileStats> {
    let header = CLINVAR_FIXTURE.lines().next().unwrap_or_default();
    let width = header.split('\t').count();
    if width != 43 {
        return Err(format!("the ClinVar fixture's header has {width} columns, not 43").into());
    }
    // Genes ClinVar names: a symbol and an NCBI id, on a primary chromosome; in genome order so
    // a copy-number variant can span neighbours.
    let mut order: Vec<&UGene> = universe
        .iter()
        .filter(|g| g.symbol.is_some() && g.entrez.is_some() && chrom_rank(&g.chrom).is_some())
        .collect();
    order.sort_by_key(|g| (chrom_rank(&g.chrom), g.start));
    // Disease genes (the kidney set) and long coding genes collect more variants.
    let mut cumulative = Vec::with_capacity(order.len());
    let mut total = 0u64;
    for g in &order {
        let base = if g.biotype == "protein_coding" {
            u64::try_from(g.coding_length.clamp(300, 40_000)).unwrap_or(300)
        } else {
            150
        };
        total += base * if g.kidney { 4 } else { 1 };
        cumulative.push(total);
    }
    let mut out = GzOut::create(path)?;
    out.line(header)?;
    let mut rng = Rng::new(0xC11_4A5);
    let mut allele = 15_000u64;
    let mut variation = 1_200u64;
    let mut row = String::with_capacity(1024);
    let mut last_report = Instant::now();
    while out.compressed() < target_gz {
        for _ in 0..4096 {
            allele += 1 + rng.below(3);
            variation += 1 + rng.below(2);
            let x = rng.below(total);
            let k = cumulative.partition_point(|&c| c <= x).min(order.len() - 1);
            let g = order[k];
            let neighbours: Vec<&UGene> = order[k + 1..(k + 4).min(order.len())]
                .iter()
                .copied()
                .filter(|n| n.chrom == g.chrom)
                .collect();
            let v = variant(&mut rng, g, &neighbours);
            let (gene_id, symbols, hgnc) = if v.multi {
                let mut symbols = g.symbol.clone().unwrap_or_default();
                for n in &neighbours {
                    symbols.push(';');
                    symbols.push_str(n.symbol.as_deref().unwrap_or_default());
                }
                ("-1".to_string(), symbols, "-".to_string())
            } else {
                (
                    g.entrez.clone().unwrap_or_default(),
                    g.symbol.clone().unwrap_or_default(),
                    g.hgnc.clone().unwrap_or_else(|| "-".into()),
                )
            };
            let evaluated = if rng.chance(0.8) {
                format!(
                    "{} {:02}, {}",
                    rng.pick(&[
                        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                        "Nov", "Dec"
                    ]),
                    rng.range(1, 28),
                    rng.range(2012, 2025)
                )
            } else {
                "-".to_string()
            };
            let rs = if rng.chance(0.7) {
                rng.range(1_000, 2_000_000_000).to_string()
            } else {
                "-1".to_string()
            };
            let submitters = rng.range(1, 8);
            let mut rcv = String::new();
            for i in 0..v.traits.len() {
                if i > 0 {
                    rcv.push('|');
                }
                let _ = write!(rcv, "RCV{:09}", rng.range(1, 4_000_000));
            }
            let phenotype_ids: Vec<&str> = v.traits.iter().map(|(_, ids)| ids.as_str()).collect();
            let phenotypes: Vec<&str> = v.traits.iter().map(|(n, _)| n.as_str()).collect();
            let mut scv = String::new();
            for i in 0..submitters {
                if i > 0 {
                    scv.push('|');
                }
                let _ = write!(scv, "SCV{:09}", rng.range(1, 5_000_000));
            }
            let other_ids = if rng.chance(0.3) {
                format!("ClinGen:CA{}", rng.range(100_000, 999_999_999))
            } else {
                "-".to_string()
            };
            let (r, a) = (*rng.pick(&BASES), *rng.pick(&BASES));
            let shift37 = i64::try_from(hash2(g.index, 5) % 2_000_000).unwrap_or(0) - 1_000_000;
            let both = rng.below(100);
            for grch38 in [false, true] {
                if (grch38 && both >= 99) || (!grch38 && (97..99).contains(&both)) {
                    continue;
                }
                let shift = if grch38 { 0 } else { shift37 };
                let (start, stop) = ((v.start + shift).max(1), (v.stop + shift).max(1));
                row.clear();
                let _ = write!(
                    row,
                    "{allele}\t{}\t{}\t{gene_id}\t{symbols}\t{hgnc}\t{}\t{}\t{evaluated}\t{rs}\t-\t{rcv}\t{}\t{}\tgermline\tgermline\t{}\t{}\t{}\t{start}\t{stop}\tna\tna\t{}\t{}\t{submitters}\t-\tN\t{other_ids}\t{}\t{variation}\t{start}\t{r}\t{a}\t-\t-\t-\t-\t-\t-\t{scv}\t-\t-",
                    v.variant_type,
                    v.name,
                    v.significance,
                    v.sig_simple,
                    phenotype_ids.join("|"),
                    phenotypes.join("|"),
                    if grch38 { "GRCh38" } else { "GRCh37" },
                    chrom_accession(&g.chrom, grch38),
                    g.chrom,
                    g.band,
                    v.review,
                    rng.range(1, 3),
                );
                out.line(&row)?;
            }
        }
        if last_report.elapsed() > Duration::from_secs(15) {
            last_report = Instant::now();
            #[allow(clippy::cast_precision_loss)]
            let done = out.compressed() as f64 / MB;
            eprintln!("    variant_summary: {done:.0} MB gzipped so far");
        }
    }
    out.finish()
}

/// The GTF (every gene on a primary chromosome, in genome order, its transcripts, exons, CDS,
/// codons and UTRs) and the MANE summary of its protein-coding genes' canonical transcripts.
fn generate_ensembl(
    universe: &[UGene],
    gtf_path: &Path,
    mane_path: &Path,
    min_text: u64,
    max_genes: usize,
) -> Result<(FileStats, FileStats)> {
    let mut genes: Vec<&UGene> = universe
        .iter()
        .filter(|g| chrom_rank(&g.chrom).is_some() && g.end > g.start)
        .collect();
    genes.sort_by_key(|g| (chrom_rank(&g.chrom), g.start));
    genes.truncate(max_genes);
    let mut gtf = GzOut::create(gtf_path)?;
    for line in GTF_FIXTURE.lines().take_while(|l| l.starts_with("#!")) {
        gtf.line(line)?;
    }
    let mut mane = GzOut::create(mane_path)?;
    mane.line(MANE_FIXTURE.lines().next().unwrap_or_default())?;
    let mut rng = Rng::new(0x0E45_E3B1);
    let mut transcript_counter = 200_000u64;
    let mut exon_counter = 1_000_000u64;
    let mut line = String::with_capacity(1024);
    for g in genes {
        gene_lines(
            &mut rng,
            g,
            &mut gtf,
            &mut mane,
            &mut line,
            &mut transcript_counter,
            &mut exon_counter,
        )?;
    }
    if gtf.text_bytes < min_text {
        return Err(format!(
            "the generated GTF has {} bytes of text, less than the {min_text} asked for",
            gtf.text_bytes
        )
        .into());
    }
    Ok((gtf.finish()?, mane.finish()?))
}

#[allow(clippy::too_many_arguments)]
fn gene_lines(
    rng: &mut Rng,
    g: &UGene,
    gtf: &mut GzOut,
    mane: &mut GzOut,
    line: &mut String,
    transcript_counter: &mut u64,
    exon_counter: &mut u64,
) -> Result<()> {
    let strand = if g.minus { '-' } else { '+' };
    let source = if g.biotype == "protein_coding" {
        "ensembl_havana"
    } else {
        *rng.pick(&["havana", "ensembl", "ensembl_havana"])
    };
    let mut gene_attrs = format!(
        "gene_id \"{}\"; gene_version \"{}\";",
        g.ensembl,
        g.version()
    );
    let named = g.ensembl_name != g.ensembl;
    let display = if named { &g.ensembl_name } else { &g.ensembl };
    if named {
        let _ = write!(gene_attrs, " gene_name \"{}\";", g.ensembl_name);
    }
    let _ = write!(
        gene_attrs,
        " gene_source \"{source}\"; gene_biotype \"{}\";",
        g.biotype
    );
    line.clear();
    let _ = write!(
        line,
        "{}\t{source}\tgene\t{}\t{}\t.\t{strand}\t.\t{gene_attrs}",
        g.chrom, g.start, g.end
    );
    gtf.line(line)?;

    let coding_gene = g.biotype == "protein_coding";
    let transcripts = match g.biotype.as_str() {
        "protein_coding" => 1 + rng.below(3) + rng.below(4) + rng.below(3),
        "lncRNA" => 1 + rng.below(3) + rng.below(2),
        _ => 1,
    };
    let canonical_at = rng.below(transcripts);
    let mane_select = coding_gene && g.symbol.is_some() && g.entrez.is_some();
    let length = g.end - g.start + 1;
    for t in 0..transcripts {
        let canonical = t == canonical_at;
        *transcript_counter += 1 + rng.below(40);
        let tid = format!("ENST{:011}", *transcript_counter);
        let tversion = 1 + rng.below(12);
        let biotype: &str = if canonical || !coding_gene {
            &g.biotype
        } else {
            rng.weighted(&[
                ("protein_coding", 50),
                ("retained_intron", 20),
                ("nonsense_mediated_decay", 15),
                ("processed_transcript", 15),
            ])
        };
        let coding = biotype == "protein_coding" || biotype == "nonsense_mediated_decay";
        let (start, end) = if canonical || length < 300 {
            (g.start, g.end)
        } else {
            let keep = rng.range(length / 3, length - 1);
            let s = g.start + rng.range(0, length - keep);
            (s, (s + keep).min(g.end))
        };
        let span = end - start + 1;
        let exon_count = if coding {
            let from_cds = (g.coding_length / 300).clamp(2, 80);
            let n = if canonical {
                from_cds
            } else {
                (from_cds * rng.range(5, 10) / 10).max(2)
            };
            n.min(span / 60).max(1)
        } else {
            rng.range(1, 6).min(span / 60).max(1)
        };
        let attrs = format!(
            "gene_id \"{}\"; gene_version \"{}\"; transcript_id \"{tid}\"; transcript_version \"{tversion}\";",
            g.ensembl,
            g.version()
        );
        // Exon lines put exon_number here, so the transcript's attributes come in two halves.
        let mut tail = String::new();
        if named {
            let _ = write!(tail, " gene_name \"{}\";", g.ensembl_name);
        }
        let _ = write!(
            tail,
            " gene_source \"{source}\"; gene_biotype \"{}\"; transcript_name \"{display}-2{:02}\"; transcript_source \"{source}\"; transcript_biotype \"{biotype}\";",
            g.biotype,
            t + 1
        );
        if (coding && rng.chance(0.6)) || canonical {
            tail.push_str(" tag \"basic\";");
        }
        if canonical {
            tail.push_str(" tag \"Ensembl_canonical\";");
            if mane_select {
                tail.push_str(" tag \"MANE_Select\";");
            }
        }
        if coding && (canonical || rng.chance(0.3)) {
            tail.push_str(" tag \"CCDS\";");
        }
        if !canonical {
            let _ = write!(tail, " transcript_support_level \"{}\";", rng.range(1, 5));
        }
        line.clear();
        let _ = write!(
            line,
            "{}\t{source}\ttranscript\t{start}\t{end}\t.\t{strand}\t.\t{attrs}{tail}",
            g.chrom
        );
        gtf.line(line)?;
        let protein = format!("ENSP{:011}", *transcript_counter);
        // Exons 5'→3': on the minus strand exon 1 has the highest coordinates.
        let segment = span / exon_count;
        let mut exons = Vec::with_capacity(usize::try_from(exon_count).unwrap_or(1));
        for e in 0..exon_count {
            let seg_start = start + e * segment;
            let seg_end = if e == exon_count - 1 {
                end
            } else {
                seg_start + segment - 1
            };
            let len = rng.range(60, 260).min(seg_end - seg_start + 1);
            let (s, x) = if e == exon_count - 1 {
                (seg_end - len + 1, seg_end)
            } else {
                (seg_start, seg_start + len - 1)
            };
            exons.push((s, x));
        }
        if g.minus {
            exons.reverse();
        }
        for (number, &(s, x)) in exons.iter().enumerate() {
            let number = number + 1;
            *exon_counter += 1;
            let exon_attrs = format!(
                "{attrs} exon_number \"{number}\";{tail} exon_id \"ENSE{:011}\"; exon_version \"{}\";",
                *exon_counter,
                1 + rng.below(3)
            );
            line.clear();
            let _ = write!(
                line,
                "{}\t{source}\texon\t{s}\t{x}\t.\t{strand}\t.\t{exon_attrs}",
                g.chrom
            );
            gtf.line(line)?;
            if !coding {
                continue;
            }
            let first = number == 1;
            let last = number == exons.len();
            // The CDS leaves some UTR in the first and last exons.
            let (mut cs, mut cx) = (s, x);
            let trim = |n: i64| n.min((x - s) / 3);
            if first {
                if g.minus {
                    cx -= trim(40);
                } else {
                    cs += trim(40);
                }
            }
            if last {
                if g.minus {
                    cs += trim(60);
                } else {
                    cx -= trim(60);
                }
            }
            let coding_attrs = format!(
                "{attrs} exon_number \"{number}\";{tail} protein_id \"{protein}\"; protein_version \"{}\";",
                1 + tversion % 4
            );
            line.clear();
            let _ = write!(
                line,
                "{}\t{source}\tCDS\t{cs}\t{cx}\t.\t{strand}\t{}\t{coding_attrs}",
                g.chrom,
                number % 3
            );
            gtf.line(line)?;
            let codon_attrs = format!("{attrs} exon_number \"{number}\";{tail}");
            if first {
                let (a, b) = if g.minus { (cx - 2, cx) } else { (cs, cs + 2) };
                line.clear();
                let _ = write!(
                    line,
                    "{}\t{source}\tstart_codon\t{a}\t{b}\t.\t{strand}\t0\t{codon_attrs}",
                    g.chrom
                );
                gtf.line(line)?;
            }
            if last {
                let (a, b) = if g.minus {
                    ((cs - 3).max(1), (cs - 1).max(1))
                } else {
                    (cx + 1, cx + 3)
                };
                line.clear();
                let _ = write!(
                    line,
                    "{}\t{source}\tstop_codon\t{a}\t{b}\t.\t{strand}\t0\t{codon_attrs}",
                    g.chrom
                );
                gtf.line(line)?;
            }
        }
        if coding && let (Some(&(fs, fx)), Some(&(ls, lx))) = (exons.first(), exons.last()) {
            for (feature, (a, b)) in [
                (
                    "five_prime_utr",
                    if g.minus {
                        (fx - 39, fx)
                    } else {
                        (fs, fs + 39)
                    },
                ),
                (
                    "three_prime_utr",
                    if g.minus {
                        (ls, ls + 59)
                    } else {
                        (lx - 59, lx)
                    },
                ),
            ] {
                line.clear();
                let _ = write!(
                    line,
                    "{}\t{source}\t{feature}\t{}\t{}\t.\t{strand}\t.\t{attrs}{tail}",
                    g.chrom,
                    a.max(1),
                    b.max(1)
                );
                gtf.line(line)?;
            }
        }
        if canonical && mane_select {
            line.clear();
            let _ = write!(
                line,
                "GeneID:{}\t{}.{}\t{}\t{}\t{}\t{}\tNP_{:06}.{}\t{tid}.{tversion}\t{protein}.{}\tMANE Select\t{}\t{}\t{}\t{strand}",
                g.entrez.as_deref().unwrap_or_default(),
                g.ensembl,
                g.version(),
                g.hgnc.as_deref().unwrap_or_default(),
                g.symbol.as_deref().unwrap_or_default(),
                g.full_name,
                g.refseq(),
                hash2(g.index, 4) % 1_000_000,
                1 + tversion % 3,
                1 + tversion % 4,
                chrom_accession(&g.chrom, true),
                g.start,
                g.end,
            );
            mane.line(line)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// `bulk`

/// `VmHWM` / `VmRSS` of this process, in MiB (Lambda's "MB" of memory).
fn proc_status_mib(key: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// User + system CPU seconds of this process (every thread), from `/proc/self/stat`.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of proc(5), counted after the command name; USER_HZ is 100 on Linux.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn append_result(args: &Args, value: &Value) -> Result<()> {
    let line = serde_json::to_string(value)?;
    println!("{line}");
    if let Some(path) = args.get("--out") {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{path}: {e}"))?;
        writeln!(f, "{line}")?;
    }
    Ok(())
}

fn misses(outcome: &FetchOutcome) -> (usize, usize) {
    let failed = outcome
        .misses
        .iter()
        .filter(|m| m.kind == MissKind::Failed)
        .count();
    (outcome.misses.len() - failed, failed)
}

async fn bulk(args: &Args) -> Result<()> {
    let source = args.required("--source")?.to_string();
    let origin = args.required("--origin")?;
    let dir = PathBuf::from(args.required("--dir")?);
    let manifest = read_manifest(&dir).ok_or("no manifest: run `generate` first")?;
    let urls: Vec<&str> = match source.as_str() {
        "clinvar" => vec![clinvar::VARIANT_SUMMARY_URL],
        "ensembl" => vec![ensembl::GTF_URL, ensembl::MANE_URL],
        other => return Err(format!("--source {other}: clinvar or ensembl").into()),
    };
    let mut files = Vec::new();
    for url in &urls {
        files.push(
            reusable(Some(&manifest), &dir, url)
                .ok_or_else(|| format!("{url}: not generated (run `generate`)"))?,
        );
    }
    // The chunk as the worker gets it: the genes' keys, nothing else loaded (the peak is ours).
    let chunk = chunk_path(&dir);
    let genes: Vec<GeneKey> = serde_json::from_slice(
        &std::fs::read(&chunk).map_err(|e| format!("{}: {e} (run `generate`)", chunk.display()))?,
    )?;
    let client = HttpClient::new(
        ClientConfig::default(),
        DomainLimits::original(),
        Endpoints::local(origin)?,
    )?;
    let mut label = source.clone();
    let fetcher: Box<dyn AnnotationFetcher> = match source.as_str() {
        "clinvar" => {
            let mut config = clinvar::ClinvarConfig::default();
            if let Some(n) = args.get("--max-variant-details") {
                config.max_variant_details = n
                    .parse()
                    .map_err(|_| "--max-variant-details must be a count")?;
                label = format!("clinvar` with `max_variant_details = {n}");
            }
            Box::new(clinvar::ClinvarFetcher::with_config(client, config))
        }
        _ => Box::new(ensembl::EnsemblFetcher::new(client)),
    };
    let rss_before = proc_status_mib("VmRSS:").unwrap_or(f64::NAN);
    let cpu_before = cpu_seconds().unwrap_or(f64::NAN);
    eprintln!(
        "    {source}: {} genes in one bulk chunk from {origin}",
        genes.len()
    );
    // As the worker runs a chunk: `fetch_each` hands records over one by one while a writer
    // takes them (here it measures and drops them, as the worker drops a written batch).
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<kgdb_core::annotation::AnnotationRecord>(64);
    let writer = tokio::spawn(async move {
        let (mut records, mut json_bytes) = (0usize, 0usize);
        while let Some(record) = rx.recv().await {
            records += 1;
            json_bytes += serde_json::to_vec(&record.annotations).map_or(0, |v| v.len());
        }
        (records, json_bytes)
    });
    let fetched = fetcher.fetch_each(&genes, &tx).await;
    drop(tx);
    let (records, json_bytes) = writer.await?;
    let outcome = FetchOutcome {
        records: Vec::new(),
        misses: fetched?,
    };
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().unwrap_or(f64::NAN) - cpu_before;
    let peak = proc_status_mib("VmHWM:").unwrap_or(f64::NAN);
    let (not_found, failed) = misses(&outcome);
    #[allow(clippy::cast_precision_loss)]
    let (gz, text, lines) = (
        files.iter().map(|f| f.bytes).sum::<u64>() as f64,
        files.iter().map(|f| f.text_bytes).sum::<u64>() as f64,
        files.iter().map(|f| f.lines).sum::<u64>() as f64,
    );
    #[allow(clippy::cast_precision_loss)]
    let result = json!({
        "kind": "bulk",
        "source": label,
        "files": urls.iter().map(|u| u.rsplit('/').next().unwrap_or(u)).collect::<Vec<_>>(),
        "gz_mb": gz / MB,
        "text_mb": text / MB,
        "lines": lines,
        "genes": genes.len(),
        "records": records,
        "not_found": not_found,
        "failed": failed,
        "wall_s": wall,
        "cpu_s": cpu,
        "lines_per_s": lines / wall,
        "gz_mb_per_s": gz / MB / wall,
        "text_mb_per_s": text / MB / wall,
        "records_json_mb": json_bytes as f64 / MB,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak,
    });
    append_result(args, &result)
}

// ---------------------------------------------------------------------------------------------
// `api`

/// One chunk of an API path, measured.
struct ApiRun {
    source: &'static str,
    path: &'static str,
    host: &'static str,
    genes: usize,
    chunk: Duration,
    outcome: FetchOutcome,
    server: MockServer,
}

fn api_result(run: &ApiRun) -> Value {
    let prefix = format!("/{}/", run.host);
    let mut times: Vec<Instant> = run
        .server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(&prefix))
        .map(|r| r.at)
        .collect();
    times.sort();
    let requests = times.len();
    let span = match (times.first(), times.last()) {
        (Some(a), Some(b)) => b.duration_since(*a).as_secs_f64(),
        _ => 0.0,
    };
    #[allow(clippy::cast_precision_loss)]
    let achieved = if requests > 1 && span > 0.0 {
        (requests - 1) as f64 / span
    } else {
        f64::NAN
    };
    let limit = DomainLimits::original().rate(run.host).unwrap_or(f64::NAN);
    let (not_found, failed) = misses(&run.outcome);
    json!({
        "kind": "api",
        "source": run.source,
        "path": run.path,
        "host": run.host,
        "genes": run.genes,
        "requests": requests,
        "chunk_s": run.chunk.as_secs_f64(),
        "span_s": span,
        "achieved_per_s": achieved,
        "limit_per_s": limit,
        "fraction": achieved / limit,
        "records": run.outcome.records.len(),
        "not_found": not_found,
        "failed": failed,
    })
}

/// A client as deployed (default timeouts and retries, the original's domain limits) to the mock.
fn mock_client(server: &MockServer) -> Result<HttpClient> {
    Ok(HttpClient::new(
        ClientConfig::default(),
        DomainLimits::original(),
        Endpoints::local(&server.origin())?,
    )?)
}

fn json_response(value: &Value) -> MockResponse {
    MockResponse::json(value)
}

fn query_of(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query.as_deref().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn form_of(req: &RecordedRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(&req.body)
        .into_owned()
        .collect()
}

async fn api(args: &Args) -> Result<()> {
    let only: Option<BTreeSet<&str>> = args.get("--only").map(|s| s.split(',').collect());
    let wanted = |s: &str| only.as_ref().is_none_or(|o| o.contains(s));
    let kidney = kidney_set()?;
    let universe = universe(&kidney)?;
    // Chunks are cut from the kidney genes the Ensembl table knows (their ids are complete).
    let genes: Vec<ChunkGene> = kidney_genes(&kidney, &universe)
        .into_iter()
        .filter(|g| g.row.is_some() && g.key.ncbi_gene_id.is_some())
        .collect();
    let ctx = Ctx {
        genes,
        universe: Arc::new(universe),
    };
    let mut runs = Vec::new();
    if wanted("uniprot") {
        runs.push(uniprot_run(&ctx).await?);
    }
    if wanted("mpo_mgi") {
        runs.push(mouse_mine_run(&ctx).await?);
    }
    if wanted("hgnc") {
        runs.push(hgnc_run(&ctx).await?);
    }
    if wanted("gnomad") {
        runs.push(gnomad_run(&ctx).await?);
    }
    if wanted("clinvar") {
        runs.push(eutils_run(&ctx).await?);
    }
    for run in &runs {
        append_result(args, &api_result(run))?;
    }
    Ok(())
}

struct Ctx {
    genes: Vec<ChunkGene>,
    universe: Arc<Vec<UGene>>,
}

impl Ctx {
    fn chunk(&self, n: usize) -> (Vec<GeneKey>, Vec<usize>) {
        let picked = &self.genes[..n.min(self.genes.len())];
        (
            picked.iter().map(|g| g.key.clone()).collect(),
            picked.iter().filter_map(|g| g.row).collect(),
        )
    }
}

async fn timed(
    fetcher: &dyn AnnotationFetcher,
    genes: &[GeneKey],
) -> Result<(Duration, FetchOutcome)> {
    eprintln!("    {}: {} genes", fetcher.source(), genes.len());
    let started = Instant::now();
    let outcome = fetcher.fetch(genes).await?;
    Ok((started.elapsed(), outcome))
}

/// UniProt ID mapping: submit, one RUNNING poll, the 303 to the results (followed), one page.
async fn uniprot_run(ctx: &Ctx) -> Result<ApiRun> {
    let server = MockServer::start().await?;
    let fetcher = uniprot::UniprotFetcher::new(mock_client(&server)?);
    let n = fetcher.config().chunk_genes;
    let (genes, rows) = ctx.chunk(n);
    const JOB: &str = "5b0c0e4f7a2d9c1e3b6a8f0d2c4e6a8b0d2f4a6c";
    server.route("POST", uniprot::RUN_URL, |_| {
        json_response(&json!({"jobId": JOB}))
    });
    let results_url = format!("{}{JOB}", uniprot::RESULTS_URL);
    let polls = Arc::new(AtomicUsize::new(0));
    let location = results_url.clone();
    server.route("GET", &format!("{}{JOB}", uniprot::STATUS_URL), move |_| {
        if polls.fetch_add(1, Ordering::SeqCst) == 0 {
            json_response(&json!({"jobStatus": "RUNNING"}))
        } else {
            MockResponse::new(303, "").header("Location", &location)
        }
    });
    let mut rng = Rng::new(0x0001);
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for &row in &rows {
        let g = &ctx.universe[row];
        let symbol = g.symbol.clone().unwrap_or_default();
        if rng.chance(0.03) || g.uniprot.is_none() {
            failed.push(symbol);
            continue;
        }
        results.push(json!({"from": symbol, "to": uniprot_entry(&mut rng, g)}));
    }
    let page = Bytes::from(json!({"results": results, "failedIds": failed}).to_string());
    server.route("GET", &results_url, move |_| {
        MockResponse::ok(page.clone()).header("content-type", "application/json")
    });
    let (chunk, outcome) = timed(&fetcher, &genes).await?;
    Ok(ApiRun {
        source: "uniprot",
        path: "ID mapping (submit, poll every 3 s, results)",
        host: "rest.uniprot.org",
        genes: genes.len(),
        chunk,
        outcome,
        server,
    })
}

fn uniprot_entry(rng: &mut Rng, g: &UGene) -> Value {
    let symbol = g.symbol.as_deref().unwrap_or_default();
    let length = (g.coding_length / 3).max(80);
    let mut features = Vec::new();
    if rng.chance(0.3) {
        features.push(json!({"type": "Signal", "description": "",
            "location": {"start": {"value": 1}, "end": {"value": rng.range(16, 35)}}}));
    }
    let domains = rng.range(0, 6);
    for d in 0..domains {
        let s = rng.range(40, (length - 60).max(41));
        features.push(json!({"type": "Domain", "description": format!("{symbol} domain {}", d + 1),
            "location": {"start": {"value": s}, "end": {"value": (s + rng.range(40, 120)).min(length)}},
            "evidences": [{"evidenceCode": "ECO:0000255", "source": "PROSITE-ProRule"}]}));
    }
    if rng.chance(0.25) {
        let s = rng.range(20, (length - 30).max(21));
        features.push(json!({"type": "Transmembrane", "description": "Helical",
            "location": {"start": {"value": s}, "end": {"value": s + 20}}}));
    }
    features.push(json!({"type": "Chain", "description": g.full_name,
        "location": {"start": {"value": 1}, "end": {"value": length}}}));
    let pfam = format!("PF{:05}", hash2(g.index, 20) % 20_000);
    let interpro = format!("IPR{:06}", hash2(g.index, 21) % 60_000);
    json!({
        "entryType": "UniProtKB reviewed (Swiss-Prot)",
        "primaryAccession": g.uniprot,
        "uniProtkbId": format!("{symbol}_HUMAN"),
        "organism": {"scientificName": "Homo sapiens", "commonName": "Human", "taxonId": 9606},
        "proteinDescription": {"recommendedName": {"fullName": {"value": g.full_name}}},
        "genes": [{"geneName": {"value": symbol}}],
        "sequence": {"length": length},
        "comments": [{"commentType": "FUNCTION", "texts": [{"value":
            format!("Generated function text of {symbol}: part of a complex at the plasma membrane of renal tubular cells.")}]}],
        "features": features,
        "uniProtKBCrossReferences": [
            {"database": "Pfam", "id": pfam, "properties": [{"key": "EntryName", "value": format!("{symbol}_dom")}, {"key": "MatchStatus", "value": "1"}]},
            {"database": "InterPro", "id": interpro, "properties": [{"key": "EntryName", "value": format!("{symbol}_fam")}]}
        ]
    })
}

/// MouseMine: the kidney MP subtree, one bulk lookup of the chunk, one genotype query per
/// mouse orthologue (4 in flight, spaced by the 2/s limit).
async fn mouse_mine_run(ctx: &Ctx) -> Result<ApiRun> {
    let server = MockServer::start().await?;
    let fetcher = mpo_mgi::MpoMgiFetcher::new(mock_client(&server)?);
    let (genes, rows) = ctx.chunk(fetcher.config().chunk_genes);
    let terms: Vec<String> = serde_json::from_str(
        &std::fs::read_to_string(KIDNEY_MP_TERMS).map_err(|e| format!("{KIDNEY_MP_TERMS}: {e}"))?,
    )?;
    let term_rows: Vec<Value> = terms
        .iter()
        .map(|t| json!([t, format!("renal/urinary phenotype {t}")]))
        .collect();
    let envelope = |views: &[&str], rows: Vec<Value>| {
        json!({"rootClass": "Gene", "modelName": "genomic", "start": 0, "views": views,
               "results": rows, "executionTime": "2026.03.01 10:00::00",
               "wasSuccessful": true, "error": null, "statusCode": 200})
    };
    let terms_answer = envelope(&["OntologyTerm.identifier", "OntologyTerm.name"], term_rows);
    server.route("GET", mpo_mgi::QUERY_RESULTS_URL, move |_| {
        json_response(&terms_answer)
    });
    // Per human symbol of the chunk: its orthologue(s) and their phenotype rows.
    let mut by_symbol: HashMap<String, (String, Vec<Value>)> = HashMap::new();
    let mut rng = Rng::new(0x0002);
    let other_terms = [
        ("MP:0002083", "premature death"),
        ("MP:0001262", "decreased body weight"),
        ("MP:0001265", "decreased body size"),
        ("MP:0002169", "no abnormal phenotype detected"),
        ("MP:0000600", "liver hypoplasia"),
        ("MP:0001914", "hemorrhage"),
        ("MP:0003984", "embryonic growth retardation"),
    ];
    for &row in &rows {
        let g = &ctx.universe[row];
        let symbol = g.symbol.clone().unwrap_or_default();
        if rng.chance(0.1) {
            continue; // no orthologue with phenotypes
        }
        let mouse = g.mouse_symbol();
        let mgi = format!("MGI:{}", 90_000 + hash2(g.index, 30) % 6_000_000);
        let mut mouse_rows = Vec::new();
        for _ in 0..rng.range(2, 12) {
            let (mp, name) = if rng.chance(0.4) {
                let t = rng.pick(&terms).clone();
                let name = format!("renal/urinary phenotype {t}");
                (t, name)
            } else {
                let (t, n) = rng.pick(&other_terms);
                ((*t).to_string(), (*n).to_string())
            };
            mouse_rows.push(json!([
                g.entrez,
                symbol,
                "H. sapiens",
                mgi,
                mouse,
                "M. musculus",
                mp,
                name
            ]));
        }
        by_symbol.insert(symbol.to_ascii_uppercase(), (mouse, mouse_rows));
    }
    let kidney_terms = terms.clone();
    server.route("GET", mpo_mgi::TEMPLATE_RESULTS_URL, move |req| {
        let q = query_of(req);
        let value = q.get("value1").cloned().unwrap_or_default();
        match q.get("name").map(String::as_str) {
            Some("HGene_MPhenotype") => {
                let rows: Vec<Value> = value
                    .split(',')
                    .filter_map(|s| by_symbol.get(&s.trim().to_ascii_uppercase()))
                    .flat_map(|(_, rows)| rows.iter().cloned())
                    .collect();
                json_response(&envelope(&["Gene.primaryIdentifier", "Gene.symbol"], rows))
            }
            Some("_Genotype_Phenotype") => {
                let mut rng = Rng::new(hash_str(&value));
                let rows: Vec<Value> = (0..rng.range(1, 8))
                    .map(|i| {
                        let (genotype, zygosity) = match rng.below(3) {
                            0 => (format!("{value}<tm{i}Lab>/{value}<tm{i}Lab>"), "hm"),
                            1 => (format!("{value}<tm{i}Lab>/{value}<+>"), "ht"),
                            _ => (
                                format!(
                                    "{value}<tm{i}.1Lab>/{value}<tm{i}.1Lab> Tg(Cdh16-cre)91Igr/0"
                                ),
                                "cn",
                            ),
                        };
                        let mp = rng.pick(&kidney_terms).clone();
                        json!([
                            format!("MGI:{}", 3_000_000 + rng.below(3_000_000)),
                            genotype,
                            "involves: 129S4/SvJae * C57BL/6",
                            zygosity,
                            mp,
                            format!("renal/urinary phenotype {mp}")
                        ])
                    })
                    .collect();
                json_response(&envelope(
                    &["OntologyAnnotation.subject.primaryIdentifier"],
                    rows,
                ))
            }
            _ => MockResponse::new(400, "unknown template"),
        }
    });
    let (chunk, outcome) = timed(&fetcher, &genes).await?;
    Ok(ApiRun {
        source: "mpo_mgi",
        path: "MouseMine (terms, bulk lookup, a genotype query per orthologue)",
        host: "www.mousemine.org",
        genes: genes.len(),
        chunk,
        outcome,
        server,
    })
}

/// HGNC's bulk file answering 404 (not retried), so the chunk goes to the per-gene REST.
async fn hgnc_run(ctx: &Ctx) -> Result<ApiRun> {
    let server = MockServer::start().await?;
    let fetcher = hgnc::HgncFetcher::new(mock_client(&server)?);
    let (genes, rows) = ctx.chunk(hgnc::DEFAULT_REST_FALLBACK_MAX);
    server.script(
        "GET",
        hgnc::BULK_URL,
        vec![MockResponse::new(404, "No such object")],
    );
    let mut rng = Rng::new(0x0003);
    let empty = json!({"responseHeader": {"status": 0, "QTime": 1},
                       "response": {"numFound": 0, "start": 0, "docs": []}});
    for (key, &row) in genes.iter().zip(&rows) {
        let g = &ctx.universe[row];
        let number = key.hgnc_id.trim_start_matches("HGNC:");
        let by_id = format!("{}/hgnc_id/{number}", hgnc::REST_URL);
        if rng.chance(0.04) {
            // Withdrawn since: unknown by id and by symbol.
            let e = empty.clone();
            server.route("GET", &by_id, move |_| json_response(&e));
            let e = empty.clone();
            let by_symbol = format!("{}/symbol/{}", hgnc::REST_URL, key.symbol);
            server.route("GET", &by_symbol, move |_| json_response(&e));
            continue;
        }
        let doc = json!({
            "hgnc_id": key.hgnc_id, "symbol": key.symbol, "status": "Approved",
            "name": g.full_name, "locus_group": "protein-coding gene",
            "locus_type": "gene with protein product", "location": g.band,
            "location_sortable": g.band, "entrez_id": g.entrez, "ensembl_gene_id": g.ensembl,
            "omim_id": [format!("{}", 600_000 + hash2(g.index, 40) % 100_000)],
            "uniprot_ids": g.uniprot.iter().collect::<Vec<_>>(),
            "orphanet": 100_000 + hash2(g.index, 41) % 400_000,
            "refseq_accession": [g.refseq().split('.').next().unwrap_or_default()],
            "mane_select": [format!("ENST{:011}.{}", hash2(g.index, 42) % 800_000, 1 + hash2(g.index, 43) % 9), g.refseq()],
            "alias_symbol": [format!("{}L", key.symbol)], "prev_symbol": [], "prev_name": [],
            "gene_group": [format!("{} family", key.symbol)],
            "gene_group_id": [hash2(g.index, 44) % 3000],
            "pubmed_id": [1_000_000 + hash2(g.index, 45) % 30_000_000],
            "date_approved_reserved": "1992-03-04", "date_modified": "2024-01-15",
            "uuid": format!("6f0b7b5e-0000-4000-8000-{:012}", g.index),
            "_version_": 1_790_000_000_000_000_000u64 + g.index,
        });
        let answer = json!({"responseHeader": {"status": 0, "QTime": 2},
                            "response": {"numFound": 1, "start": 0, "docs": [doc]}});
        server.route("GET", &by_id, move |_| json_response(&answer));
    }
    let (chunk, outcome) = timed(&fetcher, &genes).await?;
    Ok(ApiRun {
        source: "hgnc",
        path: "REST fallback (`fetch/hgnc_id`, bulk file 404)",
        host: "rest.genenames.org",
        genes: genes.len(),
        chunk,
        outcome,
        server,
    })
}

/// gnomAD's constraint TSV answering 404, so the chunk goes to GraphQL one gene at a time.
async fn gnomad_run(ctx: &Ctx) -> Result<ApiRun> {
    let server = MockServer::start().await?;
    let fetcher = gnomad::GnomadFetcher::new(mock_client(&server)?);
    let (genes, rows) = ctx.chunk(gnomad::DEFAULT_GRAPHQL_FALLBACK_MAX);
    server.script(
        "GET",
        gnomad::BULK_URL,
        vec![MockResponse::new(404, "No such object")],
    );
    let mut answers: HashMap<String, Value> = HashMap::new();
    let mut rng = Rng::new(0x0004);
    for &row in &rows {
        let g = &ctx.universe[row];
        if rng.chance(0.05) {
            continue; // "Gene not found"
        }
        let mut f = |lo: f64, hi: f64| {
            #[allow(clippy::cast_precision_loss)]
            let x = lo + (hi - lo) * (rng.below(10_000) as f64 / 10_000.0);
            (x * 1000.0).round() / 1000.0
        };
        let (exp_lof, exp_mis, exp_syn) = (f(5.0, 300.0), f(100.0, 3000.0), f(50.0, 1300.0));
        let (oe_lof, oe_mis, oe_syn) = (f(0.05, 1.4), f(0.5, 1.2), f(0.8, 1.2));
        #[allow(clippy::cast_possible_truncation)]
        let constraint = json!({
            "exp_lof": exp_lof, "obs_lof": (exp_lof * oe_lof).round() as i64, "oe_lof": oe_lof,
            "oe_lof_lower": (oe_lof * 0.8 * 1000.0).round() / 1000.0, "oe_lof_upper": (oe_lof * 1.2 * 1000.0).round() / 1000.0,
            "exp_mis": exp_mis, "obs_mis": (exp_mis * oe_mis).round() as i64, "oe_mis": oe_mis,
            "oe_mis_lower": (oe_mis * 0.95 * 1000.0).round() / 1000.0, "oe_mis_upper": (oe_mis * 1.05 * 1000.0).round() / 1000.0,
            "exp_syn": exp_syn, "obs_syn": (exp_syn * oe_syn).round() as i64, "oe_syn": oe_syn,
            "oe_syn_lower": (oe_syn * 0.95 * 1000.0).round() / 1000.0, "oe_syn_upper": (oe_syn * 1.05 * 1000.0).round() / 1000.0,
            "lof_z": f(-2.0, 9.0), "mis_z": f(-3.0, 6.0), "syn_z": f(-3.0, 3.0), "pli": f(0.0, 1.0), "flags": []
        });
        answers.insert(
            g.ensembl.clone(),
            json!({"data": {"gene": {"gene_id": g.ensembl, "symbol": g.symbol,
                "canonical_transcript_id": format!("ENST{:011}", hash2(g.index, 42) % 800_000),
                "gnomad_constraint": constraint}}}),
        );
    }
    server.route("POST", gnomad::GRAPHQL_URL, move |req| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let id = body["variables"]["gene_id"].as_str().unwrap_or_default();
        match answers.get(id) {
            Some(answer) => json_response(answer),
            None => json_response(
                &json!({"errors": [{"message": "Gene not found"}], "data": {"gene": null}}),
            ),
        }
    });
    let (chunk, outcome) = timed(&fetcher, &genes).await?;
    Ok(ApiRun {
        source: "gnomad",
        path: "GraphQL fallback (one POST per gene, TSV 404)",
        host: "gnomad.broadinstitute.org",
        genes: genes.len(),
        chunk,
        outcome,
        server,
    })
}

/// ClinVar's `variant_summary` answering 404, so the chunk goes to E-utilities: per gene one
/// `esearch` and `esummary` POSTs of 200 ids.
async fn eutils_run(ctx: &Ctx) -> Result<ApiRun> {
    let server = MockServer::start().await?;
    let fetcher = clinvar::ClinvarFetcher::new(mock_client(&server)?);
    let (genes, rows) = ctx.chunk(fetcher.config().fallback_max_genes);
    server.script(
        "GET",
        clinvar::VARIANT_SUMMARY_URL,
        vec![MockResponse::new(404, "Not Found")],
    );
    // Variants per gene: 40 to 740 (1 to 4 esummary calls), ids 1_000_000 + 10_000·i + j.
    let counts: Vec<u64> = (0..rows.len() as u64)
        .map(|i| 40 + (i * 137) % 700)
        .collect();
    let by_symbol: HashMap<String, (u64, u64)> = genes
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(i, (g, &n))| (g.symbol.to_ascii_uppercase(), (i as u64, n)))
        .collect();
    server.route(
        "GET",
        &format!("{}/esearch.fcgi", clinvar::EUTILS_URL),
        move |req| {
            let q = query_of(req);
            let term = q.get("term").cloned().unwrap_or_default();
            let symbol = term.trim_end_matches("[gene]").to_ascii_uppercase();
            let start: u64 = q.get("retstart").and_then(|s| s.parse().ok()).unwrap_or(0);
            let max: u64 = q.get("retmax").and_then(|s| s.parse().ok()).unwrap_or(20);
            let (i, count) = by_symbol.get(&symbol).copied().unwrap_or((0, 0));
            let ids: Vec<String> = (start..count.min(start + max))
                .map(|j| (1_000_000 + 10_000 * i + j).to_string())
                .collect();
            json_response(&json!({"header": {"type": "esearch", "version": "0.3"},
                "esearchresult": {"count": count.to_string(), "retmax": ids.len().to_string(),
                    "retstart": start.to_string(), "idlist": ids, "translationset": [],
                    "querytranslation": term}}))
        },
    );
    let universe = ctx.universe.clone();
    server.route(
        "POST",
        &format!("{}/esummary.fcgi", clinvar::EUTILS_URL),
        move |req| {
            let form = form_of(req);
            let ids: Vec<u64> = form
                .get("id")
                .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
                .unwrap_or_default();
            let mut result = serde_json::Map::new();
            result.insert(
                "uids".into(),
                json!(ids.iter().map(u64::to_string).collect::<Vec<_>>()),
            );
            for id in ids {
                let i = id.checked_sub(1_000_000).map_or(usize::MAX, |x| {
                    usize::try_from(x / 10_000).unwrap_or(usize::MAX)
                });
                let Some(&row) = rows.get(i) else { continue };
                let g = &universe[row];
                let mut rng = Rng::new(id);
                let v = variant(&mut rng, g, &[]);
                result.insert(id.to_string(), esummary_record(id, g, &v));
            }
            json_response(
                &json!({"header": {"type": "esummary", "version": "0.3"}, "result": result}),
            )
        },
    );
    let (chunk, outcome) = timed(&fetcher, &genes).await?;
    Ok(ApiRun {
        source: "clinvar",
        path: "E-utilities fallback (esearch + esummary, bulk file 404)",
        host: "eutils.ncbi.nlm.nih.gov",
        genes: genes.len(),
        chunk,
        outcome,
        server,
    })
}

fn esummary_record(id: u64, g: &UGene, v: &Variant) -> Value {
    let traits: Vec<Value> = v
        .traits
        .iter()
        .map(|(name, _)| json!({"trait_name": name, "trait_xrefs": [{"db_source": "MedGen", "db_id": "C3661900"}]}))
        .collect();
    json!({
        "uid": id.to_string(), "obj_type": v.variant_type,
        "accession": format!("VCV{id:09}"), "accession_version": format!("VCV{id:09}.2"),
        "title": v.name,
        "genes": [{"symbol": g.symbol, "geneid": g.entrez, "strand": if g.minus { "-" } else { "+" }, "source": "submitted"}],
        "molecular_consequence_list": [v.consequence],
        "germline_classification": {"description": v.significance, "last_evaluated": "2023/03/15 00:00",
            "review_status": v.review, "trait_set": traits},
        "clinical_impact_classification": {"description": "", "review_status": "", "trait_set": []},
        "oncogenicity_classification": {"description": "", "review_status": "", "trait_set": []},
        "variation_set": [{"measure_id": (id - 1000).to_string(), "variation_name": v.name, "cdna_change": v.cdna,
            "variation_loc": [
                {"status": "current", "assembly_name": "GRCh38", "chr": g.chrom, "band": g.band,
                 "start": v.start.to_string(), "stop": v.stop.to_string(), "assembly_acc_ver": "GCF_000001405.38"},
                {"status": "previous", "assembly_name": "GRCh37", "chr": g.chrom,
                 "start": v.start.to_string(), "stop": v.stop.to_string()}]}]
    })
}

// ---------------------------------------------------------------------------------------------
// `readme`

fn f(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn u(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn readme(args: &Args) -> Result<()> {
    let from = args.required("--from")?;
    let path = args.required("--readme")?;
    let note = args.get("--note").unwrap_or_default();
    let text = std::fs::read_to_string(from).map_err(|e| format!("{from}: {e}"))?;
    let results: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let mut out = String::new();
    out.push_str("| Bulk fetcher (one chunk: every kidney gene) | Files served (gz / text MB) | Lines | Genes → records / not found / failed | Wall (s) | CPU (s) | Lines/s | MB/s (gz / text) | Records as JSON (MB) | Peak RSS (MiB) | ≤ 128 MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in results.iter().filter(|r| s(r, "kind") == "bulk") {
        let files: Vec<String> = r
            .get("files")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|f| format!("`{f}`"))
                    .collect()
            })
            .unwrap_or_default();
        let peak = f(r, "peak_rss_mib");
        let _ = writeln!(
            out,
            "| `{}` ({}) | {:.0} / {:.0} | {:.0} | {} → {} / {} / {} | {:.1} | {:.1} | {:.0} | {:.1} / {:.1} | {:.1} | {:.1} | {} |",
            s(r, "source"),
            files.join(" + "),
            f(r, "gz_mb"),
            f(r, "text_mb"),
            f(r, "lines"),
            u(r, "genes"),
            u(r, "records"),
            u(r, "not_found"),
            u(r, "failed"),
            f(r, "wall_s"),
            f(r, "cpu_s"),
            f(r, "lines_per_s"),
            f(r, "gz_mb_per_s"),
            f(r, "text_mb_per_s"),
            f(r, "records_json_mb"),
            peak,
            if peak <= RSS_TARGET_MB {
                "yes"
            } else {
                "**no**"
            },
        );
    }
    out.push_str("\n| API source | Path measured | Chunk (genes) | Requests to the host | Chunk time (s) | Achieved req/s | Limit req/s | Fraction | ≥ 0.9 | Records / not found / failed |\n|---|---|---|---|---|---|---|---|---|---|\n");
    for r in results.iter().filter(|r| s(r, "kind") == "api") {
        let fraction = f(r, "fraction");
        let _ = writeln!(
            out,
            "| `{}` (`{}`) | {} | {} | {} | {:.1} | {:.2} | {:.1} | {:.2} | {} | {} / {} / {} |",
            s(r, "source"),
            s(r, "host"),
            s(r, "path"),
            u(r, "genes"),
            u(r, "requests"),
            f(r, "chunk_s"),
            f(r, "achieved_per_s"),
            f(r, "limit_per_s"),
            fraction,
            if fraction >= RATE_TARGET {
                "yes"
            } else {
                "**no**"
            },
            u(r, "records"),
            u(r, "not_found"),
            u(r, "failed"),
        );
    }
    let _ = write!(
        out,
        "\nBulk: generated files (real genes and ids of the bundled Ensembl 100 table and kidney set, \
         generated variants, transcripts and values) served by `python3 -m http.server` in its own \
         process; each fetcher runs alone in its own process (tokio multi-threaded, as the worker) \
         through `HttpClient` and `Endpoints::local`, with the chunk of all {} kidney genes. Peak \
         RSS = `VmHWM` of that process. API: the in-process `MockServer` answers at once in each \
         provider's format; the client has the default timeouts and retries and \
         `DomainLimits::original()`; achieved req/s = (requests − 1) / (last − first arrival) at \
         the provider's host. {note}",
        results
            .iter()
            .find(|r| s(r, "kind") == "bulk")
            .map_or(0, |r| u(r, "genes")),
    );
    let readme = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        return Err(format!("{path}: markers {START} / {END} not found").into());
    };
    if b < a {
        return Err(format!("{path}: annotation-bench markers out of order").into());
    }
    println!("{out}");
    let updated = format!("{}{START}\n{out}\n{}", &readme[..a], &readme[b..]);
    std::fs::write(path, updated).map_err(|e| format!("{path}: {e}"))?;
    eprintln!("==> wrote the table into {path}");
    Ok(())
}
