#!/usr/bin/env bash
# Start-up cost: `ctrnet version` against a hello-world compiled with the same flags.
# Prints medians of hyperfine runs and the ratio (goal <= 1.5x, DESIGN 1a).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUN=./node_modules/.bin/bun
RUNS=${RUNS:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -x dist/ctrnet ] || scripts/build
echo 'console.log("hello");' >"$work/hello.ts"
"$BUN" build "$work/hello.ts" --compile --splitting --minify --bytecode --format=esm --compile-jit-policy=100 \
	--no-compile-autoload-dotenv --no-compile-autoload-bunfig --outfile "$work/hello" >/dev/null
hyperfine -N --warmup 10 --runs "$RUNS" --export-json "$work/r.json" "$work/hello" "dist/ctrnet version" >/dev/null 2>&1
python3 - "$work/r.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
hello, ours = (x["median"] * 1000 for x in r)
print(f"hello-world  median {hello:6.2f} ms")
print(f"ctrnet version median {ours:6.2f} ms")
print(f"ratio {ours / hello:.2f}x (goal <= 1.5x)")
PY
