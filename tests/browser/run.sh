#!/usr/bin/env bash
# Real clients against a real server: starts the server binary given as $1
# on SQLite in a temporary directory, then runs graphql-http's audit, the
# graphql-ws client, Apollo's composition and gateway (as a federation
# subgraph), and GraphiQL (a query and a subscription) in headless Chromium
# against it. Needs `npm ci` done here and Debian's chromium at
# /usr/bin/chromium (.ci/run sees to both).
#   tests/browser/run.sh target/debug/invitations [screenshot.png]
set -euo pipefail
bin="$(realpath "$1")"
shot="${2:-}"
cd "$(dirname "$0")"
dir="$(mktemp -d)"
secret="browser-tests-secret-0123456789abcdef"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
env -i PATH="$PATH" HOME="$dir" \
  DATABASE_URL="sqlite://$dir/inv.db?mode=rwc" AUTH_JWT_SECRET="$secret" \
  BIND_ADDR="127.0.0.1:$port" MAIL_DIR="$dir/mail" RUST_LOG=warn GRAPHQL_FEDERATION=true \
  "$bin" serve >"$dir/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
token="$(AUTH_JWT_SECRET="$secret" DATABASE_URL="sqlite://$dir/inv.db?mode=rwc" "$bin" token --email ada@acme.test --name 'Ada Lovelace')"

echo "-- graphql-http audit"
GRAPHQL_URL="http://127.0.0.1:$port/graphql" node audit.mjs
echo "-- graphql-ws subscriptions"
BASE_URL="http://127.0.0.1:$port" TOKEN="$token" node subscriptions.mjs
echo "-- Apollo Federation: composition and a gateway"
BASE_URL="http://127.0.0.1:$port" TOKEN="$token" node federation.mjs
echo "-- GraphiQL in headless Chromium"
BASE_URL="http://127.0.0.1:$port" TOKEN="$token" SCREENSHOT="$shot" node graphiql.mjs
