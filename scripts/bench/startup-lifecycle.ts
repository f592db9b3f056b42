// What ctrnet itself costs per container: `setup` + `teardown` of a container on a network whose
// only plugin is a no-op (so the plugin costs ~1 ms), against two `ctrnet version` runs, interleaved
// in one run; prints medians and the ratio (goal <= 2x). Root. Usage: bun scripts/bench/startup-lifecycle.ts [N]
// Also the CPU time (user + system, the process and the plugin it waited for) and the load average:
// on a loaded machine every start-up stretches and the wall ratio reads better than it is.
// And the floor (startup-floor.ts, compiled with the release flags): the same netns, plugin runs and
// result file with none of ctrnet's logic, so the report shows how much of the ratio is ours.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
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
const BUN = resolve(import.meta.dir, "../../node_modules/.bin/bun");
const build = Bun.spawnSync(
	[
		BUN,
		"build",
		resolve(import.meta.dir, "startup-floor.ts"),
		"--compile",
		"--splitting",
		"--minify",
		"--bytecode",
		"--format=esm",
		"--compile-jit-policy=100",
		"--no-compile-autoload-dotenv",
		"--no-compile-autoload-bunfig",
		"--outfile",
		`${dir}/floor`,
	],
	{ stdout: "ignore", stderr: "pipe" },
);
if (build.exitCode !== 0) throw new Error(`building the floor: ${build.stderr.toString()}`);
mkdirSync(`${dir}/floor-state`);
const env = {
	PATH: process.env.PATH ?? "/usr/bin:/bin",
	CTRNET_ROOT: `${dir}/state`,
	CTRNET_RUN_ROOT: `${dir}/run`,
	CTRNET_NETNS_DIR: `${dir}/netns`,
	CTRNET_CNI_CONFIG_DIR: `${dir}/net.d`,
	CTRNET_CNI_CACHE_DIR: `${dir}/cache`,
	CNI_PATH: plugins,
	FLOOR_NETNS_DIR: `${dir}/netns`,
	FLOOR_STATE_DIR: `${dir}/floor-state`,
	FLOOR_PLUGIN: `${plugins}/noop`,
};
/** Wall and CPU ms of one run. */
const run = (args: string[], bin = BIN) => {
	const t = performance.now();
	const p = Bun.spawnSync([bin, ...args], { env, stdout: "ignore", stderr: "pipe" });
	if (p.exitCode !== 0) throw new Error(`${args.join(" ")}: ${p.stderr.toString()}`);
	const cpu = p.resourceUsage.cpuTime;
	return { wall: performance.now() - t, cpu: Number(cpu.user + cpu.system) / 1000 };
};
const both = (a: ReturnType<typeof run>, b: ReturnType<typeof run>) => ({
	wall: a.wall + b.wall,
	cpu: a.cpu + b.cpu,
});
run(["setup", "warm", "--network", "noopnet"]); // the state db and the netns dir exist
run(["teardown", "warm"]);
const load = loadavg()[0] as number;
const pairs: { wall: number; cpu: number }[] = [];
const versions: { wall: number; cpu: number }[] = [];
const floors: { wall: number; cpu: number }[] = [];
const floor = `${dir}/floor`;
for (let i = 0; i < N; i++) {
	versions.push(both(run(["version"]), run(["version"])));
	pairs.push(both(run(["setup", `b${i}`, "--network", "noopnet"]), run(["teardown", `b${i}`])));
	floors.push(both(run(["setup", `f${i}`], floor), run(["teardown", `f${i}`], floor)));
}
const p = median(pairs.map((x) => x.wall));
const v = median(versions.map((x) => x.wall));
const pc = median(pairs.map((x) => x.cpu));
const vc = median(versions.map((x) => x.cpu));
const f = median(floors.map((x) => x.wall));
const fc = median(floors.map((x) => x.cpu));
console.log(`setup + teardown (no-op plugin): median ${p.toFixed(2)} ms, CPU ${pc.toFixed(2)} ms`);
console.log(`two ctrnet version runs:         median ${v.toFixed(2)} ms, CPU ${vc.toFixed(2)} ms`);
console.log(
	`the floor (no logic, same effects): median ${f.toFixed(2)} ms, CPU ${fc.toFixed(2)} ms`,
);
console.log(`ratio ${(p / v).toFixed(2)}x (goal <= 2x); CPU ratio ${(pc / vc).toFixed(2)}x`);
console.log(
	`floor ratio ${(f / v).toFixed(2)}x; CPU ${(fc / vc).toFixed(2)}x (what no ctrnet logic at all would give)`,
);
console.log(
	`load average (1 min) ${load.toFixed(2)} before, ${(loadavg()[0] as number).toFixed(2)} after, on ${availableParallelism()} CPUs`,
);
// The netns dir is a bind mount of its own (iproute2's layout): unmount before removing.
Bun.spawnSync(["umount", "-l", `${dir}/netns`]);
rmSync(dir, { recursive: true, force: true });
