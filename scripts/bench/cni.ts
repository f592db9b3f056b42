// CNI add+del: ctrnet's own overhead (wall time minus the time inside plugin processes) and the
// ratio to netavark on the equivalent bridge network with one published port. Run by cni.sh (root).
//
//   1. CLI: `ctrnet cni add` + `ctrnet cni del` on podman v2's 87-podman-bridge.conflist, two
//      processes per iteration, with CTRNET_TRACE_PLUGINS=1 giving each plugin's wall time;
//   2. library: Cni.addNetworkList + delNetworkList in this process (what container setup does),
//      the same plugins, no ctrnet start-up in the figure;
//   3. netavark setup + teardown (its JSON on stdin), static IP, one port, its own bridge.
// The three are interleaved in every iteration, so a change in the machine's load hits all alike.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { Cni, findNetwork, type PluginRun } from "../../src/cni";
import { median, netavarkInput, timed } from "./lib";

const RUNS = Number(process.env.RUNS ?? 30);
const WARMUP = 3;
const BIN = resolve(import.meta.dir, "../../dist/ctrnet");
const NETAVARK = process.env.NETAVARK ?? "/usr/lib/podman/netavark";
const PLUGIN_DIRS = ["/usr/lib/cni"];
const PODMAN_CONFLIST = existsSync("/etc/cni/net.d/87-podman-bridge.conflist")
	? "/etc/cni/net.d/87-podman-bridge.conflist"
	: resolve(import.meta.dir, "../../test/fixtures/cni-configs/87-podman-bridge.conflist");

const work = mkdtempSync(`${tmpdir()}/t4-bench-`);
const confDir = `${work}/conf`;
const cacheDir = `${work}/cache`;
mkdirSync(confDir);
copyFileSync(PODMAN_CONFLIST, `${confDir}/87-podman-bridge.conflist`);
const ns = `t4-bench-${process.pid}`;
const nsPath = `/run/netns/${ns}`;
const hadPodmanBridge = Bun.spawnSync(["ip", "link", "show", "cni-podman0"]).exitCode === 0;
const capArgs = { portMappings: [{ hostPort: 28080, containerPort: 80, protocol: "tcp" }] };

/** The CTRNET_TRACE_PLUGINS lines: each plugin's wall time and its spawn offset. */
function traces(stderr: string): { ms: number; at: number }[] {
	const re = /^trace: plugin \S+ \S+ network=\S* ms=([\d.]+) at=([\d.]+)$/gm;
	return [...stderr.matchAll(re)].map((m) => ({ ms: Number(m[1]), at: Number(m[2]) }));
}

const cli = {
	wall: [] as number[],
	plugins: [] as number[],
	overhead: [] as number[],
	start: [] as number[],
};
async function cliOnce(record: boolean): Promise<void> {
	const env = { CTRNET_TRACE_PLUGINS: "1", CAP_ARGS: JSON.stringify(capArgs) };
	const flags = [
		"--cni-config-dir",
		confDir,
		"--cni-cache-dir",
		cacheDir,
		"--cni-plugin-dir",
		PLUGIN_DIRS.join(":"),
	];
	const add = await timed(
		[BIN, "cni", "add", "podman", nsPath, "--id", "t4-bench-cli", ...flags],
		env,
	);
	const del = await timed(
		[BIN, "cni", "del", "podman", nsPath, "--id", "t4-bench-cli", ...flags],
		env,
	);
	if (!record) return;
	const runs = [...traces(add.err), ...traces(del.err)];
	const plugins = runs.reduce((a, t) => a + t.ms, 0);
	cli.wall.push(add.ms + del.ms);
	cli.plugins.push(plugins);
	cli.overhead.push(add.ms + del.ms - plugins);
	for (const err of [add.err, del.err]) cli.start.push(traces(err)[0]?.at ?? Number.NaN);
}

const lib = { wall: [] as number[], plugins: [] as number[], overhead: [] as number[] };
let libRuns: PluginRun[] = [];
const cni = new Cni({ pluginDirs: PLUGIN_DIRS, cacheDir, onRun: (r) => libRuns.push(r) });
const rt = { containerId: "t4-bench-lib", netns: nsPath, ifName: "eth0", capabilityArgs: capArgs };
async function libraryOnce(record: boolean): Promise<void> {
	libRuns = [];
	const t0 = performance.now();
	// The list is loaded each time, as a setup would: reading the config dir is ctrnet's work.
	await cni.addNetworkList(findNetwork(confDir, "podman"), rt);
	await cni.delNetworkList(findNetwork(confDir, "podman"), rt);
	const ms = performance.now() - t0;
	if (!record) return;
	const plugins = libRuns.reduce((a, r) => a + r.ms, 0);
	lib.wall.push(ms);
	lib.plugins.push(plugins);
	lib.overhead.push(ms - plugins);
}

const NV_INPUT = netavarkInput({
	id: "t4bench",
	net: "t4nv",
	bridge: "t4nv0",
	subnet24: "10.214.240",
	ip: 2,
	hostPort: 28081,
});
const nv = { wall: [] as number[] };
async function netavarkOnce(record: boolean): Promise<void> {
	const cfg = `${work}/netavark`;
	const s = await timed([NETAVARK, "--config", cfg, "setup", nsPath], {}, NV_INPUT);
	const t = await timed([NETAVARK, "--config", cfg, "teardown", nsPath], {}, NV_INPUT);
	if (record) nv.wall.push(s.ms + t.ms);
}

try {
	if (Bun.spawnSync(["ip", "netns", "add", ns]).exitCode !== 0)
		throw new Error(`ip netns add ${ns} failed`);
	const haveNetavark = existsSync(NETAVARK);
	for (let i = 0; i < WARMUP + RUNS; i++) {
		const record = i >= WARMUP;
		await cliOnce(record);
		await libraryOnce(record);
		if (haveNetavark) await netavarkOnce(record);
	}
	const f = (x: number) => x.toFixed(2).padStart(8);
	const m = median;
	console.log(
		`CNI add+del, podman v2's conflist (bridge, portmap, firewall, tuning; 1 port), medians of ${RUNS}:`,
	);
	console.log(`  ctrnet cni add + del (2 processes)        wall ${f(m(cli.wall))} ms`);
	console.log(`    inside plugin processes                      ${f(m(cli.plugins))} ms`);
	console.log(`    ctrnet's own overhead (CLI)                  ${f(m(cli.overhead))} ms`);
	console.log(`      start to first plugin spawn, per process   ${f(m(cli.start))} ms`);
	console.log(`  library addNetworkList + delNetworkList   wall ${f(m(lib.wall))} ms`);
	console.log(`    inside plugin processes                      ${f(m(lib.plugins))} ms`);
	console.log(
		`    ctrnet's own overhead (in-process)           ${f(m(lib.overhead))} ms   (goal <= 10 ms)`,
	);
	if (haveNetavark) {
		console.log(`  netavark setup + teardown (1.4)           wall ${f(m(nv.wall))} ms`);
		console.log(
			`  ratio ctrnet cni add+del / netavark            ${(m(cli.wall) / m(nv.wall)).toFixed(2)}x`,
		);
		console.log(
			`  ratio library add+del / netavark               ${(m(lib.wall) / m(nv.wall)).toFixed(2)}x`,
		);
	} else {
		console.log(`  netavark: ${NETAVARK} not found`);
	}
} finally {
	Bun.spawnSync(["ip", "netns", "del", ns]);
	if (!hadPodmanBridge) Bun.spawnSync(["ip", "link", "del", "cni-podman0"]);
	Bun.spawnSync(["ip", "link", "del", "t4nv0"]);
	rmSync(work, { recursive: true, force: true });
}
