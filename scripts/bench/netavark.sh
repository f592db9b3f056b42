#!/usr/bin/env bash
# ctrnet as podman's netavark vs netavark 1.4 (scripts/bench/netavark.ts): the bare protocol
# calls and 100 concurrent calls inside private network namespaces (like netavark's own test
# suite, so neither tool touches the host's firewall), then `podman run --rm … true` on the host.
# Root; RUNS=N to change the number of runs; PARTS="proto concurrent podman" to choose.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "netavark.sh: needs root" >&2; exit 1; }
[ -x dist/ctrnet ] || scripts/build
BUN=./node_modules/.bin/bun
for part in ${PARTS:-proto concurrent podman}; do
	case $part in
	proto) unshare -nm --propagation private sh -c "ip link set lo up; exec $BUN scripts/bench/netavark.ts proto" ;;
	concurrent)
		for tool in ctrnet netavark; do
			unshare -nm --propagation private sh -c "ip link set lo up; exec $BUN scripts/bench/netavark.ts concurrent $tool ${CONCURRENCY:-100}"
		done
		;;
	podman) $BUN scripts/bench/netavark.ts podman ;;
	esac
done
