#!/usr/bin/env bash
# The native data plane (bridge attach + detach in-process, step by step; batching; veth
# deletion; netavark 1.4 as the peer in the same run). Medians. Root; RUNS=N (>= 30) to change.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "native.sh: needs root" >&2; exit 1; }
exec ./node_modules/.bin/bun scripts/bench/native.ts
