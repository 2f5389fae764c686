#!/usr/bin/env bash
# The live paths (subscriptions across processes, fan-out, webhooks) in one
# command: builds the server and the benchmark in release mode, then runs
# it against PostgreSQL (BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres).
#   bench/live.sh [--subscribers 1000] [--events 50] [--deliveries 1000] [--mail-lanes 4]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p invitations -p bench --bins
exec target/release/live "$@"
