#!/usr/bin/env bash
# An instruction profile of request 2 (the nested listing) on PostgreSQL.
# callgrind counts instructions, not seconds, so the figures hold on a busy
# machine. Seeds the bench database, starts the release server under
# callgrind, sends 20 listing requests to warm up, zeroes the counters,
# sends N more one at a time (default 200), and prints the functions with
# the most instructions, inclusive and self, per request.
#   bench/profile.sh [N]        (bench/run.sh builds the binaries)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200}"
out="${PROFILE_DIR:-$(mktemp -d)}"
target/release/bench --prepare-only postgres
url="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
url="${url%/*}/invitations_bench"
secret="bench-secret-bench-secret-bench-secret-0123"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_bin="${SERVER_BIN:-target/release/invitations}"
env -i PATH="$PATH" DATABASE_URL="$url" BIND_ADDR="127.0.0.1:$port" AUTH_JWT_SECRET="$secret" \
  MAIL_WORKER=false RUST_LOG=warn \
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.%p" \
  "$server_bin" serve 2>"$out/server.log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
token="$(AUTH_JWT_SECRET="$secret" DATABASE_URL="$url" target/release/invitations token --email user0@bench.test --sub 'bench|0')"
query='{"query":"{ sentInvitations(first: 50) { nodes { id status email created creator { name handle } workspace { name } } } }"}'
# One curl for all of a batch: one kept-alive connection, as load tests use.
send() {
  local urls=()
  for _ in $(seq 1 "$1"); do urls+=("http://127.0.0.1:$port/graphql"); done
  curl -fs -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d "$query" "${urls[@]}" >/dev/null
}
send 20
callgrind_control -z "$server" >/dev/null
send "$n"
callgrind_control -d "$server" >/dev/null
sleep 1
dump="$(ls -t "$out"/callgrind.* | head -n1)"
total="$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')"
echo "profile: $dump"
echo "instructions per request: $((total / n))"
# Per request, self cost (the function's own instructions), then the
# inclusive cost of the parts named in the README.
annotate() { callgrind_annotate --auto=no --threshold=100 "$@" "$dump" 2>/dev/null; }
per_request() { awk -v n="$n" '/\?\?\?:|\.S:|\.c:/ { c=$1; gsub(",", "", c); sub(/^[^:]*:/, "", $0); printf "%9d  %s\n", c / n, substr($0, 1, 150) }'; }
echo "-- top 30 by own instructions, per request"
annotate --inclusive=no | per_request | sed -n '5,34p'
echo "-- parts, inclusive, per request"
annotate --inclusive=yes | per_request | grep -E \
  'Schema<.*>::execute_once|invitation_connection|prefetch|DataLoader<T,C>::load_many|validation::check_rules|parser::parse_query|Verifier::verify_session|http::request::from_body|http::response::executed|PgConnection>::run::|serde_json::ser::to_vec' \
  | head -n 20
