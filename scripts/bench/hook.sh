#!/usr/bin/env bash
# What the OCI hook adds to a container start (root, runc, busybox-static, hyperfine):
#  1. `runc run` of a trivial container (`true`) with ctrnet's createRuntime + poststop hooks,
#     on a CNI network of its own;
#  2. the same container in a pre-made netns (`ip netns add`, linux.namespaces path), no hooks;
#  3. ctrnet's plain `setup` + `teardown` of a container on the same network.
# Prints the medians, the time the hooks add (1 - 2), and how it compares with 3.
# Everything is in a temp world (its own state, CNI config, cache and netns dirs, runc --root).
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-30}
[ "$(id -u)" -eq 0 ] || { echo "hook.sh: needs root" >&2; exit 1; }
for t in hyperfine runc busybox ip python3; do
	command -v "$t" >/dev/null || { echo "hook.sh: needs $t" >&2; exit 1; }
done
[ -x dist/ctrnet ] || scripts/build
ctrnet=$(realpath dist/ctrnet)
tag="t6b$$"
work=$(mktemp -d "/tmp/${tag}-XXXX")
export CTRNET_ROOT="$work/state" CTRNET_RUN_ROOT="$work/run" CTRNET_NETNS_DIR="$work/netns" \
	CTRNET_CNI_CONFIG_DIR="$work/net.d" CTRNET_CNI_CACHE_DIR="$work/cache"
net="t6-$tag"
cleanup() {
	for id in "$tag-hook" "$tag-pre"; do runc --root "$work/runc" delete --force "$id" >/dev/null 2>&1 || true; done
	"$ctrnet" teardown "$tag-cli" >/dev/null 2>&1 || true
	"$ctrnet" network rm --force "$net" >/dev/null 2>&1 || true
	rm -rf "/var/lib/cni/networks/$net" # host-local's lock and last_reserved_ip outlive `network rm`
	ip netns del "$tag" 2>/dev/null || true
	while grep -q " $work/netns " /proc/self/mountinfo; do umount -l "$work/netns"; done
	rm -rf "$work"
}
trap cleanup EXIT

# A network on a free 10.216.N.0/24, with a bridge name of its own.
for _ in 1 2 3 4 5 6 7 8; do
	n=$((RANDOM % 250 + 1))
	"$ctrnet" network create --subnet "10.216.$n.0/24" "$net" >/dev/null 2>&1 && break
done
conf="$CTRNET_CNI_CONFIG_DIR/$net.conflist"
[ -f "$conf" ] || { echo "hook.sh: no free 10.216.N.0/24" >&2; exit 1; }
python3 - "$conf" "${tag:0:8}br" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c["plugins"][0]["bridge"] = sys.argv[2]; json.dump(c, open(sys.argv[1], "w"))
PY

# Two bundles around busybox-static running `true`.
make_bundle() {
	local dir=$1
	mkdir -p "$dir/rootfs/bin"
	cp "$(command -v busybox)" "$dir/rootfs/bin/busybox"
	ln -s busybox "$dir/rootfs/bin/true"
	runc spec --bundle "$dir"
	python3 - "$dir/config.json" "${2:-}" <<'PY'
import json, sys
path, netns = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"].pop("rlimits", None)
c["process"]["args"] = ["true"]
if netns:
    c["linux"]["namespaces"] = [
        {"type": "network", "path": netns} if n["type"] == "network" else n
        for n in c["linux"]["namespaces"]
    ]
json.dump(c, open(path, "w"), indent="\t")
PY
}
make_bundle "$work/hook"
"$ctrnet" hook inject "$work/hook" --network "$net" >/dev/null
ip netns add "$tag"
make_bundle "$work/pre" "/run/netns/$tag"
# One run each first: both must work before they are timed.
runc --root "$work/runc" run --bundle "$work/hook" "$tag-hook"
runc --root "$work/runc" run --bundle "$work/pre" "$tag-pre"

# Several short hyperfine rounds, the three commands in turn: on a shared machine the load drifts,
# and one long block per command would charge the drift to whichever ran during it.
rounds=${ROUNDS:-3}
per=$(((RUNS + rounds - 1) / rounds))
for r in $(seq "$rounds"); do
	hyperfine --warmup 2 --runs "$per" --export-json "$work/r$r.json" \
		-n "runc run + ctrnet hooks" "runc --root $work/runc run --bundle $work/hook $tag-hook" \
		-n "runc run, pre-made netns" "runc --root $work/runc run --bundle $work/pre $tag-pre" \
		-n "ctrnet setup + teardown" \
		"$ctrnet setup $tag-cli --network $net >/dev/null && $ctrnet teardown $tag-cli" >/dev/null 2>&1
done
python3 - "$work"/r*.json <<'PY'
import json, statistics, sys
times = {}
for f in sys.argv[1:]:
    for x in json.load(open(f))["results"]:
        times.setdefault(x["command"], []).extend(x["times"])
hook, pre, cli = (statistics.median(t) * 1000 for t in times.values())
n = len(next(iter(times.values())))
print(f"runc run of `true` (medians of {n} runs each, hyperfine):")
print(f"  with ctrnet hooks (createRuntime + poststop)  {hook:7.1f} ms")
print(f"  pre-made netns, no hooks                      {pre:7.1f} ms")
print(f"  added by the hooks                            {hook - pre:7.1f} ms")
print(f"ctrnet setup + teardown (CLI, same network)     {cli:7.1f} ms")
print(f"  hooks' added time / CLI setup+teardown        {(hook - pre) / cli:7.2f}x")
PY
