#!/usr/bin/env bash
# Benchmark (not a test, and long: not part of infra/test.sh): the live annotation clients of
# kgdb-fetch. Generates real-size ClinVar and Ensembl bulk files (reused when already there),
# serves them from a separate python3 http.server, runs each bulk fetcher over the kidney gene
# set in its own process (peak RSS), then the API paths against the in-process mock server at
# the original's rate limits, and writes the table into README.md. Extra arguments go to
# `kgdb-annotation-bench generate` (e.g. --clinvar-gz-mb 420 --gtf-mb 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
command -v python3 >/dev/null || die "python3 not found (it serves the bulk files)"
data="target/annotation-bench"
www="$data/www"
mkdir -p "$www"
results=$(mktemp)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null || true
    rm -f "$results"
}
trap cleanup EXIT

step "Building kgdb-annotation-bench (release)"
cargo build --release --locked -p kgdb-local --bin kgdb-annotation-bench
bench="${CARGO_TARGET_DIR:-target}/release/kgdb-annotation-bench"

step "Bulk files under $www (generated once, reused while their size matches)"
"$bench" generate --dir "$www" "$@"

step "Serving them: python3 -m http.server on 127.0.0.1 (its own process)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server --bind 127.0.0.1 "$port" --directory "$www" >"$data/http.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do http_ok "http://127.0.0.1:$port/" && break; sleep 0.1; done
http_ok "http://127.0.0.1:$port/" || die "http.server did not answer on port $port"
note "listening on http://127.0.0.1:$port"

# Each fetcher in a process of its own, so each peak RSS is its own. The second ClinVar run keeps
# no per-gene variant lists: the streaming parse alone, to tell it from the records it returns.
bulk() { "$bench" bulk --origin "http://127.0.0.1:$port" --dir "$www" --out "$results" "$@"; }
step "Bulk: clinvar over the kidney gene set"
bulk --source clinvar
step "Bulk: clinvar again, without the per-gene variant lists (max_variant_details = 0)"
bulk --source clinvar --max-variant-details 0
step "Bulk: ensembl over the kidney gene set"
bulk --source ensembl
kill "$server"
wait "$server" 2>/dev/null || true
server=""

step "API sources at the original's rate limits (in-process mock server)"
"$bench" api --out "$results"

step "Writing README.md"
"$bench" readme --from "$results" --readme README.md \
    --note "Measured $(date -u +%Y-%m-%d) on this machine ($(nproc) cores, shared) at commit \`$(git describe --always --dirty)\` with \`./infra/annotation-bench.sh\`."
