# Multi-stage build: compile with the Rust toolchain, run on a slim Debian
# image as a non-root user.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Dependencies in a layer of their own: built from the manifests alone, so
# a change to the code rebuilds only the workspace's crates.
COPY Cargo.toml Cargo.lock ./
COPY entity/Cargo.toml entity/
COPY migration/Cargo.toml migration/
COPY bench/Cargo.toml bench/
RUN mkdir -p src entity/src migration/src bench/src/bin \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs entity/src/lib.rs migration/src/lib.rs \
 && echo 'fn main() {}' > bench/src/main.rs && echo 'fn main() {}' > bench/src/bin/live.rs \
 && cargo build --release --locked --bin invitations \
 && rm -rf src entity/src migration/src bench/src
COPY . .
# Newer than the stubs' build, so cargo rebuilds the workspace's crates.
RUN touch src/main.rs src/lib.rs entity/src/lib.rs migration/src/lib.rs \
 && cargo build --release --locked --bin invitations

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home invitations
COPY --from=build /src/target/release/invitations /usr/local/bin/invitations
USER invitations
WORKDIR /data
# The SQLite database and the mail directory, when no PostgreSQL or SMTP
# server is configured.
VOLUME /data
# Listening beyond loopback requires real authentication: set AUTH_JWT_SECRET
# (development mode refuses to start on 0.0.0.0).
ENV BIND_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/invitations.db?mode=rwc \
    LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["invitations"]
CMD ["serve"]
