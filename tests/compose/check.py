#!/usr/bin/env python3
"""Checks docker-compose.yml without a Docker engine (none runs where CI
does): it parses, its services and their dependencies exist, every
variable it reads is in .env.example, and the Dockerfile's dependency
layer copies every workspace member's manifest. Prints what is wrong and
exits 1, or prints "compose: ok"."""
import pathlib
import re
import sys
import tomllib

import yaml

root = pathlib.Path(__file__).resolve().parents[2]
problems = []
compose = yaml.safe_load((root / "docker-compose.yml").read_text())
services = compose.get("services") or {}
for name in ("postgres", "mailpit", "invitations"):
    if name not in services:
        problems.append(f"no service {name}")
for name, service in services.items():
    if "image" not in service and "build" not in service:
        problems.append(f"{name}: neither image nor build")
    for dep in service.get("depends_on") or {}:
        if dep not in services:
            problems.append(f"{name} depends on unknown service {dep}")
    for port in service.get("ports") or []:
        if not str(port).startswith("127.0.0.1:"):
            problems.append(f"{name}: port {port} is published beyond loopback")
for volume in re.findall(r"^\s+- (\w+):/", (root / "docker-compose.yml").read_text(), re.M):
    if volume not in (compose.get("volumes") or {}):
        problems.append(f"named volume {volume} is not declared")

env = {}
for line in (root / ".env.example").read_text().splitlines():
    if line.strip() and not line.startswith("#"):
        key, _, value = line.partition("=")
        env[key] = value
used = set(re.findall(r"\$\{(\w+)", (root / "docker-compose.yml").read_text()))
for var in sorted(used - env.keys()):
    problems.append(f"${{{var}}} is read but not in .env.example")
if env.get("AUTH_JWT_SECRET"):
    problems.append(".env.example must not carry a secret")

members = tomllib.loads((root / "Cargo.toml").read_text())["workspace"]["members"]
dockerfile = (root / "Dockerfile").read_text()
for member in members:
    if member != "." and f"COPY {member}/Cargo.toml {member}/" not in dockerfile:
        problems.append(f"the Dockerfile's dependency layer misses {member}/Cargo.toml")

for p in problems:
    print(f"FAIL {p}")
print("compose: ok" if not problems else f"compose: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
