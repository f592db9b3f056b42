#!/usr/bin/env bash
# Issue 14's benchmark, as the unprivileged test user (scripts/setup makes ctrnet-test): iperf3 TCP
# through the published port of a rootless container on a user network — ctrnet (CNI network in
# its rootless netns, its rootlessport forwarder) against rootless podman 4.3 doing the same
# (`podman run --network bridge -p`: its rootless netns, netavark, its rootlessport), one run,
# alternating; and ctrnet's setup + teardown time for the first container (which creates the
# rootless netns) and the second (which reuses it). Root runs it; prints medians.
#   scripts/bench/rootless-networks.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
USER_NAME=ctrnet-test
[ -x dist/ctrnet ] || scripts/build
work=$(mktemp -d /tmp/bench-rl-XXXXXX)
chmod 755 "$work"
cp dist/ctrnet "$work/ctrnet"
mkdir -p "$work/root/bin"
cp "$(command -v busybox)" "$work/root/bin/"
ln -s busybox "$work/root/bin/sleep"
tar -C "$work/root" -cf "$work/bb.tar" .
chmod 644 "$work/bb.tar"
cat >"$work/run.sh" <<'EOF'
set -euo pipefail
W=$1; ROUNDS=$2
export HOME=$W/home XDG_RUNTIME_DIR=$W/xdg
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"; chmod 700 "$XDG_RUNTIME_DIR"
export CTRNET_ROOT=$HOME/ctrnet CTRNET_RUN_ROOT=$XDG_RUNTIME_DIR/ctrnet XDG_CONFIG_HOME=$HOME/.config
C=$W/ctrnet
P=(podman --storage-driver vfs --runtime runc --cgroup-manager cgroupfs)
ms() { date +%s%N; }
iperf() { iperf3 -c 127.0.0.1 -p "$1" -t 4 -J | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9)'; }
"$C" network create --subnet 10.248.1.0/24 bench >/dev/null
"${P[@]}" import "$W/bb.tar" localhost/ctrnet-bench >/dev/null
# setup + teardown times: the first creates the rootless netns, the second reuses it
"$C" rootless exec -- unshare -n sleep 600 & P1=$!
"$C" rootless exec -- unshare -n sleep 600 & P2=$!
sleep 0.5
t0=$(ms); "$C" setup b1 --pid "$P1" --network bench -p 18701:5201 >/dev/null; t1=$(ms)
"$C" setup b2 --pid "$P2" --network bench >/dev/null; t2=$(ms)
"$C" teardown b2; t3=$(ms)
echo "ctrnet setup, first container (makes the rootless netns): $(( (t1-t0)/1000000 )) ms"
echo "ctrnet setup, second container:                            $(( (t2-t1)/1000000 )) ms"
echo "ctrnet teardown, second container:                         $(( (t3-t2)/1000000 )) ms"
nsenter --user=/proc/$P1/ns/user --net=/proc/$P1/ns/net iperf3 -s -D -p 5201
"${P[@]}" run -d --name ctrnet-bench --network bridge -p 18702:5201 localhost/ctrnet-bench sleep 600 >/dev/null
PID=$("${P[@]}" inspect -f '{{.State.Pid}}' ctrnet-bench)
"${P[@]}" unshare nsenter --net=/proc/$PID/ns/net iperf3 -s -D -p 5201
sleep 0.5
for r in $(seq 1 "$ROUNDS"); do
  echo "ctrnet $(iperf 18701)"; echo "podman $(iperf 18702)"
done
"${P[@]}" rm -f -t 0 ctrnet-bench >/dev/null
"${P[@]}" rmi localhost/ctrnet-bench >/dev/null
"$C" teardown b1
kill "$P1" "$P2"; sleep 0.3
"$C" gc >/dev/null
"$C" network rm bench >/dev/null
EOF
chown -R "$USER_NAME" "$work"
out=$(su "$USER_NAME" -s /bin/bash -c "cd /tmp; bash $work/run.sh $work $ROUNDS" 2>&1)
grep -v '^ctrnet [0-9]\|^podman [0-9]' <<<"$out"
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in sys.argv[1].splitlines() if l.split()[:1] in (["ctrnet"], ["podman"]) and len(l.split()) == 2]
by = {}
for who, v in rows:
    try: by.setdefault(who, []).append(float(v))
    except ValueError: pass
c, p = statistics.median(by["ctrnet"]), statistics.median(by["podman"])
print(f"iperf3 TCP through the published port (median of {len(by['ctrnet'])}): ctrnet {c:.2f} Gbit/s, rootless podman {p:.2f} Gbit/s: {c / p:.2f}x podman")
PY
rm -rf "$work"
