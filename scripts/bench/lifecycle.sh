#!/usr/bin/env bash
# Container setup+teardown against netavark, and 100 concurrent containers (see lifecycle.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x dist/ctrnet ] || scripts/build
exec ./node_modules/.bin/bun scripts/bench/lifecycle.ts
