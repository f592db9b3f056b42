#!/usr/bin/env bash
# Published-port throughput by network mode: iperf3 TCP (1 and 4 streams, client -> container)
# through pasta's forwarding, slirp4netns' own (port_handler=slirp4netns), ctrnet's rootlessport
# on slirp4netns (the default handler), and direct (no forwarder: the server on the host itself),
# interleaved in one run; plus each forwarder's RSS (VmRSS idle, VmHWM after the runs).
# Two client positions: "remote" (another namespace behind a veth, as a LAN client; the path
# where pasta and port_handler=slirp4netns keep the client's address) and "local" (the host's
# loopback). No goal: it says which mode to pick.
# Root. pasta copies the addresses of the namespace it starts in, so ctrnet runs inside a bench
# "host" namespace whose uplink is a veth to a "world" namespace (10.238.254.2 <-> .1); the
# machine's own network is not involved. Env: T (seconds per run, default 3), REPEAT (runs per
# cell, default 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${T:-3}
REPEAT=${REPEAT:-3}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
for t in iperf3 ip python3 pasta slirp4netns nsenter; do
	command -v $t >/dev/null || { echo "bench: $t missing" >&2; exit 1; }
done
[ -x dist/ctrnet ] || scripts/build

host=tpa-bh-$$
world=tpa-bw-$$
work=$(mktemp -d)
export CTRNET_ROOT=$work/state CTRNET_RUN_ROOT=$work/run CTRNET_NETNS_DIR=$work/netns
pids=()
ids=()
inhost() { nsenter --net="/run/netns/$host" "$@"; }
cleanup() {
	for id in "${ids[@]}"; do inhost dist/ctrnet teardown "$id" >/dev/null 2>&1 || true; done
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	grep -o " $work/netns[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount 2>/dev/null || true
	ip netns del "$host" 2>/dev/null || true
	ip netns del "$world" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$host"
ip netns add "$world"
ip -n "$host" link add up0 type veth peer name up0 netns "$world"
for ns in "$host" "$world"; do ip -n "$ns" link set lo up; ip -n "$ns" link set up0 up; done
ip -n "$host" addr add 10.238.254.2/24 dev up0
ip -n "$world" addr add 10.238.254.1/24 dev up0
ip -n "$host" route add default via 10.238.254.1

# setup_ctr ID PORT NETWORK: a container whose iperf3 server listens on 5201, published at PORT.
setup_ctr() {
	local out
	out=$(inhost dist/ctrnet setup "$1" --network "$3" -p "$2:5201")
	ids+=("$1")
	local ns
	ns=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["NetworkSettings"]["SandboxKey"])' <<<"$out")
	nsenter --net="$ns" iperf3 -s -p 5201 >/dev/null 2>&1 &
	pids+=($!)
}
setup_ctr bench-pasta 15301 pasta
setup_ctr bench-slirp 15302 slirp4netns:port_handler=slirp4netns
setup_ctr bench-rlp 15303 slirp4netns
# direct: the server on the host, no forwarder (nsenter execs iperf3: $! is the server)
nsenter --net="/run/netns/$host" iperf3 -s -p 15304 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5

helper_pid() { # ID KIND -> pid of that recorded helper
	inhost dist/ctrnet ps --format json | python3 -c "import json,sys
for c in json.load(sys.stdin):
    if c['id'] == '$1':
        print([h['pid'] for h in c['helpers'] if h['kind'] == '$2'][0])"
}
rss() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
pasta_pid=$(helper_pid bench-pasta pasta)
slirp_pid=$(helper_pid bench-slirp slirp4netns)
rlp_pid=$(helper_pid bench-rlp rootlessport)
idle="pasta $(rss "$pasta_pid" VmRSS) slirp4netns $(rss "$slirp_pid" VmRSS) rootlessport $(rss "$rlp_pid" VmRSS)"

run() { # WHERE(remote|local) PORT STREAMS -> Gbit/s
	local addr=10.238.254.2 pre=(ip netns exec "$world")
	[ "$1" = local ] && addr=127.0.0.1 pre=(nsenter --net="/run/netns/$host")
	"${pre[@]}" iperf3 -c "$addr" -p "$2" -t "$T" -P "$3" -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}

: >"$work/results"
for where in remote local; do
	for streams in 1 4; do
		for _ in $(seq "$REPEAT"); do
			for t in "direct 15304" "pasta 15301" "slirp4netns 15302" "rootlessport 15303"; do
				set -- $t
				echo "$where $streams $1 $(run "$where" "$2" "$streams")" >>"$work/results"
			done
		done
	done
done
peak="pasta $(rss "$pasta_pid" VmHWM) slirp4netns $(rss "$slirp_pid" VmHWM) rootlessport $(rss "$rlp_pid" VmHWM)"

echo "pasta: $(pasta --version 2>/dev/null | head -1 || true) ($(dpkg-query -W -f '${Version}' passt 2>/dev/null || echo '?'))"
python3 - "$work/results" "$T" "$REPEAT" "$idle" "$peak" <<'PY'
import statistics, sys
cell = {}
for line in open(sys.argv[1]):
    where, streams, who, gbps = line.split()
    cell.setdefault((where, streams), {}).setdefault(who, []).append(float(gbps))
cols = ["direct", "pasta", "slirp4netns", "rootlessport"]
print(f"iperf3 TCP client -> container through a published port, {sys.argv[2]} s per run, median of {sys.argv[3]} (Gbit/s)")
print(f"{'client, streams':<18}" + "".join(f"{c:>14}" for c in cols) + f"{'pasta/direct':>14}")
for (where, streams), d in cell.items():
    m = {k: statistics.median(v) for k, v in d.items()}
    print(f"{where + ', ' + streams:<18}" + "".join(f"{m[c]:14.2f}" for c in cols) + f"{m['pasta'] / m['direct']:13.2f}x")
def kv(s):
    it = s.split()
    return {it[i]: int(it[i + 1]) / 1024 for i in range(0, len(it), 2)}
idle, peak = kv(sys.argv[4]), kv(sys.argv[5])
print("RSS MiB (idle / peak):", ", ".join(f"{k} {idle[k]:.1f} / {peak[k]:.1f}" for k in idle))
PY
