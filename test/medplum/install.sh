#!/usr/bin/env bash
# Installs the Medplum test server's npm dependencies (Node 22 included, from the npm package
# `node`) into test/medplum/node_modules, exactly as package-lock.json pins them.
# Idempotent: does nothing when the install stamp holds the hash of package.json and
# package-lock.json and the bundled
# Node runs. Safe to run concurrently (flock). Needs npm (any Node >= 18) on PATH.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$dir"

stamp=node_modules/.ds4p-installed
node_bin=node_modules/node/bin/node

# The stamp holds a hash of package.json and package-lock.json, not a time: a fresh clone's
# checkout is newer than any install, and a clone whose node_modules links to another tree's
# ran npm ci through the link, emptying that tree's node_modules (QA round 35).
lock_hash() {
  cat package.json package-lock.json | sha256sum | cut -d' ' -f1
}

up_to_date() {
  [[ -f "$stamp" && "$(cat "$stamp")" == "$(lock_hash)" ]] &&
    "$node_bin" -e 'process.exit(0)' >/dev/null 2>&1
}

fail() {
  echo "test/medplum/install.sh: $*" >&2
  exit 1
}

if up_to_date; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  fail "npm not found on PATH: install Node.js and npm (CI installs them); npm is needed once to install test/medplum/node_modules"
fi

# Serialise concurrent installs (go test runs packages in parallel processes).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$dir/.install.lock"
  flock 9
  if up_to_date; then
    exit 0
  fi
fi

echo "test/medplum/install.sh: npm ci in $dir" >&2
rm -f "$stamp"
if ! npm ci --no-audit --no-fund --engine-strict=false >&2; then
  fail "npm ci failed (see the output above); the npm registry must be reachable"
fi

version="$("$node_bin" --version 2>/dev/null)" || fail "$node_bin does not run after npm ci (the npm package 'node' installs it in a preinstall script: were install scripts blocked?)"
major_minor="${version#v}"
major="${major_minor%%.*}"
minor="${major_minor#*.}"
minor="${minor%%.*}"
if ((major < 22 || (major == 22 && minor < 18))); then
  fail "$node_bin is $version; Medplum 5 needs Node >= 22.18"
fi

lock_hash >"$stamp"
echo "test/medplum/install.sh: installed, Node $version" >&2
