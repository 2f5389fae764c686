#!/usr/bin/env bash
# The benchmark in one command: builds the server and the load generator in
# release mode, then runs it (PostgreSQL must be running; see README).
#   bench/run.sh [--seconds 10] [--warmup 2] [--concurrency 32] [--only postgres|sqlite]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p invitations -p bench --bins
# The peers, each with its own lock file (PostGraphile 4 needs graphql 15,
# Apollo Server 4 graphql 16).
for peer in bench/peers/*/; do
  [ -d "$peer/node_modules" ] || (cd "$peer" && npm ci --no-audit --no-fund --silent)
done
exec target/release/bench "$@"
