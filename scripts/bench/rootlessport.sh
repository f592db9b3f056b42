#!/usr/bin/env bash
# Port-forwarding throughput: iperf3 TCP (1 and 4 streams, both directions) through ctrnet's
# rootlessport, through podman's /usr/lib/podman/rootlessport (same config JSON, same fds), and
# direct to the namespace, interleaved in one run; plus each forwarder's peak RSS (VmHWM, parent
# + child for podman's). Prints medians and ratios. Goals: ctrnet >= 1.0x podman; RSS <= 40 MiB.
# First, start-up: time from exec to "1" on the ready fd, and RSS once ready, for a TCP + UDP
# config (STARTS starts each, interleaved). Goal: not slower than before.
# Root: the "container" is a named netns with a veth to the host (10.79.0.100). Env: T (seconds
# per run, default 3), REPEAT (runs per cell, default 3), JS=1 adds ctrnet's JS data path
# (CTRNET_ROOTLESSPORT_ENGINE=js) as a column, BASE=<an older ctrnet binary> adds it to the
# start-up table, STARTS (default 20), ONLY=startup skips the throughput part.
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${T:-3}
REPEAT=${REPEAT:-3}
PODMAN_RP=${PODMAN_RP:-/usr/lib/podman/rootlessport}
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
for t in iperf3 ip python3; do command -v $t >/dev/null || { echo "bench: $t missing" >&2; exit 1; }; done
[ -x dist/ctrnet ] || scripts/build

ns=t7-bench-$$
hostif=t7b$$
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip link add "$hostif" type veth peer name eth0 netns "$ns"
ip addr add 10.79.0.1/24 dev "$hostif"
ip link set "$hostif" up
ip -n "$ns" addr add 10.79.0.100/24 dev eth0
ip -n "$ns" link set eth0 up
ip netns exec "$ns" iperf3 -s -p 5201 >/dev/null 2>&1 &
pids+=($!)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Start-up: exec -> "1" on fd 4, then VmRSS/threads 200 ms later, then EOF on fd 3 (exit).
startup=("ctrnet $PWD/dist/ctrnet")
[ -n "${BASE:-}" ] && startup+=("base $BASE")
[ -x "$PODMAN_RP" ] && startup+=("podman $PODMAN_RP")
python3 - "$ns" "${STARTS:-20}" "${startup[@]}" <<'PY'
import json, os, select, socket, statistics, sys, time
ns, starts, who = sys.argv[1], int(sys.argv[2]), [a.split(" ", 1) for a in sys.argv[3:]]
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def status(pid, key):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith(key + ":"): return int(l.split()[1])
def one(path):
    cfg = {"Mappings": [{"host_ip": "127.0.0.1", "container_port": 5201, "host_port": free(), "range": 1, "protocol": "tcp"},
                        {"host_ip": "127.0.0.1", "container_port": 5201, "host_port": free(), "range": 1, "protocol": "udp"}],
           "NetNSPath": f"/run/netns/{ns}", "ExitFD": 3, "ReadyFD": 4, "TmpDir": "/tmp",
           "ChildIP": "10.79.0.100", "ContainerID": "bench"}
    inr, inw = os.pipe(); er, ew = os.pipe(); rr, rw = os.pipe()
    os.write(inw, json.dumps(cfg).encode()); os.close(inw)
    null = os.open(os.devnull, os.O_WRONLY)
    acts = [(os.POSIX_SPAWN_DUP2, inr, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2),
            (os.POSIX_SPAWN_DUP2, er, 3), (os.POSIX_SPAWN_DUP2, rw, 4)]
    t0 = time.perf_counter()
    pid = os.posix_spawn(path, ["rootlessport"], {"PATH": os.environ["PATH"]}, file_actions=acts)
    for fd in (inr, er, rw, null): os.close(fd)
    select.select([rr], [], [], 10)
    ok = os.read(rr, 1) == b"1"; ms = (time.perf_counter() - t0) * 1000
    time.sleep(0.2)
    rss, threads = status(pid, "VmRSS"), status(pid, "Threads")
    os.close(ew); os.close(rr); os.waitpid(pid, 0)
    if not ok: sys.exit(f"bench: {path} did not become ready")
    return ms, rss, threads
res = {name: [] for name, _ in who}
for _ in range(starts):
    for name, path in who: res[name].append(one(path))
med = lambda xs: statistics.median(xs)
print(f"start-up to ready (TCP + UDP port), median of {starts}; RSS and threads 200 ms after ready")
print(f"{'forwarder':<10}{'ms':>8}{'RSS MiB':>10}{'threads':>9}")
for name, rows in res.items():
    print(f"{name:<10}{med([r[0] for r in rows]):8.2f}{med([r[1] for r in rows]) / 1024:10.1f}{med([r[2] for r in rows]):9.0f}")
base = res.get("base") or res.get("podman")
if base:
    ref = "base" if "base" in res else "podman"
    print(f"ctrnet/{ref} start-up: {med([r[0] for r in res['ctrnet']]) / med([r[0] for r in base]):.2f}x")
PY
[ "${ONLY:-}" = startup ] && exit 0

# start_forwarder NAME CMD... : config on stdin, fd 3 = a fifo we hold open, fd 4 = ready file.
start_forwarder() {
	local name=$1 port=$2
	shift 2
	mkfifo "$work/exit-$name"
	exec {holder}<>"$work/exit-$name"
	eval "exit_fd_$name=$holder"
	printf '{"Mappings":[{"host_ip":"127.0.0.1","container_port":5201,"host_port":%d,"range":1,"protocol":"tcp"}],"NetNSPath":"/run/netns/%s","ExitFD":3,"ReadyFD":4,"TmpDir":"%s","ChildIP":"10.79.0.100","ContainerID":"bench-%s"}' \
		"$port" "$ns" "$work" "$name" |
		"$@" 3<"$work/exit-$name" 4>"$work/ready-$name" 2>"$work/log-$name" &
	local pid=$!
	pids+=("$pid")
	eval "pid_$name=$pid"
	for _ in $(seq 200); do [ -s "$work/ready-$name" ] && return 0; sleep 0.02; done
	echo "bench: $name did not become ready: $(cat "$work/log-$name")" >&2
	exit 1
}

# Peak RSS in KiB of a process and its descendants (podman's parent re-execs a child).
peak_rss() {
	local total=0 p
	for p in $1 $(pgrep -P "$1" || true); do
		total=$((total + $(awk '/^VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo "$total"
}

ctrnet_port=$(free_port)
start_forwarder ctrnet "$ctrnet_port" bash -c 'exec -a rootlessport dist/ctrnet'
podman_port=
if [ -x "$PODMAN_RP" ]; then
	podman_port=$(free_port)
	start_forwarder podman "$podman_port" "$PODMAN_RP"
else
	echo "bench: $PODMAN_RP missing (Debian package podman): no podman column" >&2
fi

targets=("direct 10.79.0.100 5201" "ctrnet 127.0.0.1 $ctrnet_port")
[ -n "$podman_port" ] && targets+=("podman 127.0.0.1 $podman_port")
if [ -n "${BASE:-}" ]; then
	base_port=$(free_port)
	start_forwarder base "$base_port" bash -c "exec -a rootlessport $BASE"
	targets+=("base 127.0.0.1 $base_port")
fi
if [ "${JS:-0}" = 1 ]; then
	js_port=$(free_port)
	start_forwarder js "$js_port" env CTRNET_ROOTLESSPORT_ENGINE=js bash -c 'exec -a rootlessport dist/ctrnet'
	targets+=("ctrnet-js 127.0.0.1 $js_port")
fi

run() { # host port streams reverse -> Gbit/s
	local rev=""
	[ "$4" = 1 ] && rev=-R
	iperf3 -c "$1" -p "$2" -t "$T" -P "$3" $rev -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))'
}

: >"$work/results"
for variant in "1 0" "4 0" "1 1" "4 1"; do
	set -- $variant
	for _ in $(seq "$REPEAT"); do
		for t in "${targets[@]}"; do
			set -- $t $variant
			echo "$1 $4 $5 $(run "$2" "$3" "$4" "$5")" >>"$work/results"
		done
	done
done

rss_ctrnet=$(peak_rss "$pid_ctrnet")
rss_podman=0
[ -n "$podman_port" ] && rss_podman=$(peak_rss "$pid_podman")
rss_js=0
[ "${JS:-0}" = 1 ] && rss_js=$(peak_rss "$pid_js")
grep -h "listening" "$work/log-ctrnet" | sed 's/^/ctrnet: /'

python3 - "$work/results" "$rss_ctrnet" "$rss_podman" "$T" "$REPEAT" "$rss_js" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
cell = {}
for who, streams, rev, gbps in rows:
    cell.setdefault((streams, rev), {}).setdefault(who, []).append(float(gbps))
print(f"iperf3 TCP, {sys.argv[4]} s per run, median of {sys.argv[5]} (Gbit/s)")
js = any("ctrnet-js" in d for d in cell.values())
base = any("base" in d for d in cell.values())
print(f"{'case':<28}{'direct':>8}{'podman':>8}{'ctrnet':>8}{'ctrnet/podman':>15}{'ctrnet/direct':>15}" + (f"{'ctrnet-js':>11}{'js/podman':>11}" if js else "") + (f"{'base':>8}{'ctrnet/base':>13}" if base else ""))
for (streams, rev), d in cell.items():
    m = {k: statistics.median(v) for k, v in d.items()}
    name = f"{streams} stream{'s' if streams != '1' else ''}, {'container->host' if rev == '1' else 'host->container'}"
    pod = m.get("podman")
    r1 = f"{m['ctrnet'] / pod:.2f}x" if pod else "-"
    extra = ""
    if js:
        extra = f"{m['ctrnet-js']:11.2f}" + (f"{m['ctrnet-js'] / pod:10.2f}x" if pod else f"{'-':>11}")
    if base:
        extra += f"{m['base']:8.2f}{m['ctrnet'] / m['base']:12.2f}x"
    print(f"{name:<28}{m['direct']:8.2f}{(pod or 0):8.2f}{m['ctrnet']:8.2f}{r1:>15}{m['ctrnet'] / m['direct']:14.2f}x{extra}")
rc, rp = int(sys.argv[2]) / 1024, int(sys.argv[3]) / 1024
print(f"peak RSS: ctrnet {rc:.1f} MiB, podman {rp:.1f} MiB (parent + child)" + (f", ratio {rc / rp:.2f}x" if rp else "") + (f"; ctrnet-js {int(sys.argv[6]) / 1024:.1f} MiB" if int(sys.argv[6]) else ""))
print("goals: ctrnet >= 1.0x podman throughput; ctrnet peak RSS <= 40 MiB")
PY
