#!/usr/bin/env bash
# The main job: the whole kgdb API on localhost, loaded with the bundled real data.
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

step "Rust toolchain"
require_rust
ensure_postgres
export DATABASE_URL="${DATABASE_URL:-$PG_SERVER_URL/kgdb}"
step "Building the functions and the local gateway (release)"
cargo build --release --locked -p kgdb-local --bin kgdb-local
step "Database, migrations, ingest of the bundled data, then serving"
exec target/release/kgdb-local up "$@"
