#!/usr/bin/env bash
# Before/after benchmark in one run (this machine is noisy, so two runs hours apart prove
# nothing): builds git revision REV in a worktree, loads one database per side, then alternates
# the two gateways round by round (order swapped every round) under the same kgdb-bench, with
# the cache off and with L1 on. Prints the per-side medians and writes them into README.md.
#
#   ./infra/bench-compare.sh REV [ROUNDS]       e.g. ./infra/bench-compare.sh main~3 3
#   KGDB_COMPARE_BEFORE_DIR=/path/to/built/checkout ./infra/bench-compare.sh REV
set -euo pipefail
cd "$(dirname "$0")/.."
. infra/lib.sh

rev="${1:?usage: infra/bench-compare.sh REV [ROUNDS]}"
rounds="${2:-3}"
seconds="${KGDB_COMPARE_SECONDS:-3}"
port="${KGDB_BENCH_PORT:-3902}"
results=$(mktemp)
gateway=""
cleanup() {
    [ -n "$gateway" ] && kill "$gateway" 2>/dev/null || true
    rm -f "$results"
}
trap cleanup EXIT

step "Rust toolchain"
require_rust
ensure_postgres

before_dir="${KGDB_COMPARE_BEFORE_DIR:-target/bench-compare/$(git rev-parse --short "$rev")}"
if [ ! -x "$before_dir/target/release/kgdb-local" ]; then
    step "Building $rev (release) in $before_dir"
    [ -d "$before_dir" ] || git worktree add --detach "$before_dir" "$rev" >/dev/null
    (cd "$before_dir" && cargo build --release --locked -p kgdb-local --bins)
fi
step "Building the working tree (release)"
cargo build --release --locked -p kgdb-local --bins

declare -A binary=([before]="$before_dir/target/release/kgdb-local" [after]="target/release/kgdb-local")
declare -A database=([before]="$PG_SERVER_URL/kgdb_compare_before" [after]="$PG_SERVER_URL/kgdb_compare_after")
for side in before after; do
    step "Loading the $side database"
    DATABASE_URL="${database[$side]}" "${binary[$side]}" setup
    # A freshly loaded database is vacuumed and analyzed by autovacuum at some point during the
    # rounds; do it now so it cannot land in one side's measurement.
    psql -q "${database[$side]}" -c 'VACUUM (ANALYZE)'
done

start_gateway() { # side, env assignments...
    local side=$1
    shift
    env RUST_LOG=warn DATABASE_URL="${database[$side]}" KGDB_PORT="$port" "$@" "${binary[$side]}" serve &
    gateway=$!
    for _ in $(seq 1 100); do http_ok "http://127.0.0.1:$port/health" && return; sleep 0.1; done
    die "$side gateway did not start"
}
stop_gateway() { kill "$gateway"; wait "$gateway" 2>/dev/null || true; gateway=""; }

for round in $(seq 1 "$rounds"); do
    order="before after"
    [ $((round % 2)) -eq 0 ] && order="after before"
    for side in $order; do
        for cache in uncached L1; do
            step "round $round/$rounds: $side, $cache"
            if [ "$cache" = uncached ]; then start_gateway "$side" KGDB_CACHE=off; else start_gateway "$side"; fi
            target/release/kgdb-bench run --url "http://127.0.0.1:$port" --mode "$side:$cache" \
                --seconds "$seconds" --out "$results" >/dev/null
            stop_gateway
        done
    done
done

# Wall-clock numbers on a shared 2-core machine swing by 2x between identical runs, so the
# deciding number is deterministic: instructions the gateway executes per request, counted by
# valgrind (callgrind) over N and N + 1000 sequential keep-alive requests (the difference is
# 1000 requests; start-up cancels out). Postgres's work is in its own process and not counted.
instructions=""
if [ "${KGDB_COMPARE_CALLGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
    count_instructions() { # side cache path n -> total instructions
        local side=$1 cache=$2 path=$3 n=$4 out
        out=$(mktemp)
        env RUST_LOG=warn DATABASE_URL="${database[$side]}" KGDB_PORT="$port" KGDB_CACHE="$cache" \
            valgrind --tool=callgrind --callgrind-out-file="$out" "${binary[$side]}" serve >/dev/null 2>&1 &
        gateway=$!
        for _ in $(seq 1 300); do http_ok "http://127.0.0.1:$port/health" && break; sleep 0.2; done
        python3 - "$port" "$path" "$n" <<'PY'
import http.client, sys
port, path, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(n):
    conn.request("GET", path)
    reply = conn.getresponse()
    reply.read()
    assert reply.status == 200, (path, reply.status)
PY
        kill -INT "$gateway"; wait "$gateway" 2>/dev/null || true; gateway=""
        awk '/^(summary|totals):/ {print $2; exit}' "$out"
        rm -f "$out"
    }
    filtered='/api/genes/?filter%5Btier%5D=comprehensive_support,multi_source_support&filter%5Bmin_score%5D=30&filter%5Bsource%5D=ClinGen&sort=-evidence_count,approved_symbol&page%5Bsize%5D=50'
    instructions="| Request | Cache | Instructions per request before | after | after / before |
|---|---|---|---|---|"
    for spec in "off|/health" "off|/api/genes/" "off|/api/genes/PKD1" "on|/api/genes/PKD1" "on|$filtered"; do
        cache=${spec%%|*}; path=${spec#*|}
        declare -A per=()
        for side in before after; do
            step "callgrind: $side, cache $cache, $path"
            a=$(count_instructions "$side" "$cache" "$path" 300)
            b=$(count_instructions "$side" "$cache" "$path" 1300)
            per[$side]=$(( (b - a) / 1000 ))
        done
        label=$path; [ "$path" = "$filtered" ] && label='/api/genes/ filtered + sorted'
        ratio=$(python3 -c "print(f'{${per[after]} / ${per[before]}:.3f}')")
        instructions+=$'\n'"| \`$label\` | $([ "$cache" = on ] && echo L1 || echo uncached) | ${per[before]} | ${per[after]} | $ratio |"
    done
fi

mkdir -p target/bench-compare
cp "$results" target/bench-compare/last-results.md
step "Medians over $rounds rounds (raw rows: target/bench-compare/last-results.md)"
table=$(python3 - "$results" "$rev" "$rounds" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    cells = [c.strip() for c in line.strip().strip('|').split('|')]
    if len(cells) != 7:
        continue
    name, mode, max_rps, closed_lat, open_rps, open_lat, errors = cells
    side, cache = mode.split(":")
    r = rows.setdefault((name, cache), {}).setdefault(side, {'max': [], 'p50': [], 'p99': [], 'err': 0})
    r['max'].append(float(max_rps))
    p50, p99 = (float(x) for x in open_lat.split('/'))
    r['p50'].append(p50)
    r['p99'].append(p99)
    r['err'] += int(errors)
med = statistics.median
if not rows:
    sys.exit(0)
print(f"Before = `{sys.argv[2]}`, after = the working tree; {sys.argv[3]} alternating rounds (50 connections; open loop at 5,000 req/s). "
      "Max req/s: median and best of the rounds; p50/p99: median of the rounds.")
print()
print("| Scenario | Cache | Max req/s before (median / best) | Max req/s after (median / best) | after / before (median) | p50 ms at 5k before / after | p99 ms at 5k before / after | Errors |")
print("|---|---|---|---|---|---|---|---|")
for (name, cache), sides in rows.items():
    b, a = sides.get('before'), sides.get('after')
    if not (a and b):
        continue
    ratio = med(a['max']) / med(b['max'])
    print(f"| {name} | {cache} | {med(b['max']):.0f} / {max(b['max']):.0f} | {med(a['max']):.0f} / {max(a['max']):.0f} | {ratio:.2f} | "
          f"{med(b['p50']):.2f} / {med(a['p50']):.2f} | {med(b['p99']):.2f} / {med(a['p99']):.2f} | {b['err'] + a['err']} |")
EOF
)
table+=$'\n\n'"$instructions"
printf '%s\n' "$table"
python3 - "$table" <<'EOF'
import re, sys
readme = open('README.md').read()
start, end = '<!-- bench-compare:start -->', '<!-- bench-compare:end -->'
if start in readme and end in readme:
    block = f"{start}\n{sys.argv[1]}\n{end}"
    readme = re.sub(re.escape(start) + '.*?' + re.escape(end), lambda _: block, readme, flags=re.S)
    open('README.md', 'w').write(readme)
EOF
