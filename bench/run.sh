#!/usr/bin/env bash
# The benchmark in one command: builds the server and the load generator in
# release mode, then runs it (PostgreSQL must be running; see README).
#   bench/run.sh [--seconds 10] [--warmup 2] [--concurrency 32] [--only postgres|sqlite]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p invitations -p bench --bins
exec target/release/bench "$@"
