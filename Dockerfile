# Multi-stage build: compile with the Rust toolchain, run on a slim Debian
# image as a non-root user.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin invitations

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /data --create-home invitations
COPY --from=build /src/target/release/invitations /usr/local/bin/invitations
USER invitations
WORKDIR /data
# Listening beyond loopback requires real authentication: set AUTH_JWT_SECRET
# (development mode refuses to start on 0.0.0.0).
ENV BIND_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///data/invitations.db?mode=rwc \
    LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["invitations"]
CMD ["serve"]
