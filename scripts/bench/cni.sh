#!/usr/bin/env bash
# CNI add+del: ctrnet's own overhead (wall minus time inside plugin processes; goal <= 10 ms per
# add+del in-process) and the ratio to netavark 1.4 on the equivalent bridge network with one
# port. Medians. Root; needs Debian's containernetworking-plugins and netavark. RUNS=N to change.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "cni.sh: needs root" >&2; exit 1; }
[ -x /usr/lib/cni/bridge ] || { echo "cni.sh: needs containernetworking-plugins" >&2; exit 1; }
[ -x dist/ctrnet ] || scripts/build
exec ./node_modules/.bin/bun scripts/bench/cni.ts
