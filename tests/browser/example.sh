#!/usr/bin/env bash
# The example front end (examples/web) end to end: builds it (types and
# persisted documents generated from schema.graphql), starts the server
# binary given as $1 on SQLite with GRAPHQL_TRUSTED_DOCUMENTS set to the
# example's persisted documents, serves the build with `vite preview`
# (which forwards /graphql, WebSocket included, to the server), and runs
# example.mjs in headless Chromium. Needs `npm ci` done here and in
# examples/web, and Debian's chromium (.ci/run sees to all three).
#   tests/browser/example.sh target/debug/invitations [screenshot.png]
set -euo pipefail
bin="$(realpath "$1")"
shot="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
web="$here/../../examples/web"
dir="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
secret="example-tests-secret-0123456789abcdef"
port="$(free_port)"
web_port="$(free_port)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$dir"' EXIT

(cd "$web" && npm run --silent build >"$dir/build.log" 2>&1) || { cat "$dir/build.log"; exit 1; }

env -i PATH="$PATH" HOME="$dir" \
  DATABASE_URL="sqlite://$dir/inv.db?mode=rwc" AUTH_JWT_SECRET="$secret" \
  BIND_ADDR="127.0.0.1:$port" MAIL_DIR="$dir/mail" RUST_LOG=warn \
  GRAPHQL_TRUSTED_DOCUMENTS="$web/src/gql/persisted-documents.json" \
  "$bin" serve >"$dir/server.log" 2>&1 &
pids+=($!)
(cd "$web" && INVITATIONS_URL="http://127.0.0.1:$port" \
  exec node_modules/.bin/vite preview --host 127.0.0.1 --port "$web_port" --strictPort >"$dir/web.log" 2>&1) &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 \
    && curl -fs "http://127.0.0.1:$web_port/" >/dev/null 2>&1 && break
  sleep 0.1
done
token() { AUTH_JWT_SECRET="$secret" DATABASE_URL="sqlite://$dir/inv.db?mode=rwc" "$bin" token --email "$1" --name "$2"; }

cd "$here"
APP_URL="http://127.0.0.1:$web_port" API_URL="http://127.0.0.1:$port" \
  ADA="$(token ada@acme.test 'Ada Lovelace')" BOB="$(token bob@acme.test 'Bob Bell')" \
  DAN="$(token dan@acme.test 'Dan Dare')" SCREENSHOT="$shot" node example.mjs \
  || { echo "-- server log"; tail -n 30 "$dir/server.log"; echo "-- vite log"; tail -n 30 "$dir/web.log"; exit 1; }
