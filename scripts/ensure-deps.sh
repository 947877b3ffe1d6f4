#!/usr/bin/env bash
# Installs the npm packages when node_modules is missing or older than package-lock.json, so that
# `npm test` and `npm run demo` work on a fresh clone with nothing but Node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "vcpu-lens: installing npm packages (npm ci)..." >&2
  npm ci --no-audit --no-fund >&2
fi
