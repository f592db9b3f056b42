#!/usr/bin/env bash
# Namespace lifecycle and link statistics, ctrnet against iproute2 (root):
#  1. `ctrnet netns create NAME; ctrnet netns rm NAME` vs `ip netns add NAME; ip netns del NAME`
#     (hyperfine, medians, ratio) — both in /run/netns, both start a process per step;
#  2. 1,000 link-stat queries in one process (scripts/bench/netns-stats.ts), median per query,
#     against spawning `ip -s -n NS link show`.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUN=./node_modules/.bin/bun
RUNS=${RUNS:-50}
[ "$(id -u)" -eq 0 ] || { echo "netns.sh: needs root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "netns.sh: needs hyperfine" >&2; exit 1; }
[ -x dist/ctrnet ] || scripts/build
work=$(mktemp -d)
name="t3b-$$"
cleanup() {
	ip netns del "$name" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
ctrnet=$(realpath dist/ctrnet)
hyperfine --warmup 5 --runs "$RUNS" --export-json "$work/r.json" \
	-n "ctrnet netns create+rm" "$ctrnet netns create $name >/dev/null && $ctrnet netns rm $name" \
	-n "ip netns add+del" "ip netns add $name && ip netns del $name" >/dev/null 2>&1
python3 - "$work/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
ours, ip = (x["median"] * 1000 for x in r)
print("netns create+rm (median of hyperfine runs):")
print(f"  ctrnet netns create + rm   {ours:7.2f} ms")
print(f"  ip netns add + del         {ip:7.2f} ms")
print(f"  ratio ctrnet / ip          {ours / ip:7.2f}x")
PY
"$BUN" scripts/bench/netns-stats.ts
