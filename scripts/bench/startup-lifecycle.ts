// What ctrnet itself costs per container: `setup` + `teardown` of a container on a network whose
// only plugin is a no-op (so the plugin costs ~1 ms), against two `ctrnet version` runs, interleaved
// in one run; prints medians and the ratio (goal <= 2x). Root. Usage: bun scripts/bench/startup-lifecycle.ts [N]
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { median } from "./lib";

const N = Number(process.argv[2] ?? 40);
const BIN = resolve(import.meta.dir, "../../dist/ctrnet");
const dir = mkdtempSync("/tmp/bench-startup-");
const plugins = `${dir}/plugins`;
mkdirSync(plugins);
writeFileSync(
	`${plugins}/noop`,
	'#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] && echo \'{"cniVersion":"1.0.0"}\'\n[ "$CNI_COMMAND" = VERSION ] && echo \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\'\nexit 0\n',
);
chmodSync(`${plugins}/noop`, 0o755);
mkdirSync(`${dir}/net.d`);
writeFileSync(
	`${dir}/net.d/noop.conflist`,
	JSON.stringify({ cniVersion: "1.0.0", name: "noopnet", plugins: [{ type: "noop" }] }),
);
const env = {
	PATH: process.env.PATH ?? "/usr/bin:/bin",
	CTRNET_ROOT: `${dir}/state`,
	CTRNET_RUN_ROOT: `${dir}/run`,
	CTRNET_NETNS_DIR: `${dir}/netns`,
	CTRNET_CNI_CONFIG_DIR: `${dir}/net.d`,
	CTRNET_CNI_CACHE_DIR: `${dir}/cache`,
	CNI_PATH: plugins,
};
const run = (args: string[]) => {
	const t = performance.now();
	const p = Bun.spawnSync([BIN, ...args], { env, stdout: "ignore", stderr: "pipe" });
	if (p.exitCode !== 0) throw new Error(`${args.join(" ")}: ${p.stderr.toString()}`);
	return performance.now() - t;
};
run(["setup", "warm", "--network", "noopnet"]); // the state db and the netns dir exist
run(["teardown", "warm"]);
const pairs: number[] = [];
const versions: number[] = [];
for (let i = 0; i < N; i++) {
	versions.push(run(["version"]) + run(["version"]));
	pairs.push(run(["setup", `b${i}`, "--network", "noopnet"]) + run(["teardown", `b${i}`]));
}
const p = median(pairs);
const v = median(versions);
console.log(`setup + teardown (no-op plugin): median ${p.toFixed(2)} ms`);
console.log(`two ctrnet version runs:         median ${v.toFixed(2)} ms`);
console.log(`ratio ${(p / v).toFixed(2)}x (goal <= 2x)`);
// The netns dir is a bind mount of its own (iproute2's layout): unmount before removing.
Bun.spawnSync(["umount", "-l", `${dir}/netns`]);
rmSync(dir, { recursive: true, force: true });
