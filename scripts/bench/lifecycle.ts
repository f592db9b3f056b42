// Container setup+teardown through the built binary (run by lifecycle.sh, as root):
//   1. one container, one published port, on a bridge another container keeps up: wall time,
//      time inside plugin processes (CTRNET_TRACE_PLUGINS=1) and ctrnet's own overhead, against
//      netavark setup+teardown of the equivalent network in the same run; and the same through
//      the library in this process (setupContainer + teardownContainer), which separates the
//      orchestration's own cost from two process start-ups;
//   2. 100 containers set up concurrently then torn down concurrently, against 100 sequential
//      setups and teardowns: success, distinct IPs, time ratios, last-10/first-10 setup medians.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { Cni, type PluginRun } from "../../src/cni";
import { resolveConfig } from "../../src/config/resolve";
import { parseSetup } from "../../src/container/request";
import type { Runtime } from "../../src/container/runtime";
import { setupContainer } from "../../src/container/setup";
import { teardownContainer } from "../../src/container/teardown";
import { Store } from "../../src/state/store";
import { median, netavarkInput, pluginMs, timed } from "./lib";

const RUNS = Number(process.env.RUNS ?? 20);
const N = Number(process.env.N ?? 100);
const BIN = resolve(import.meta.dir, "../../dist/ctrnet");
const NETAVARK = process.env.NETAVARK ?? "/usr/lib/podman/netavark";
const work = mkdtempSync(`${tmpdir()}/ctrnet-bench-`);
const env = {
	CTRNET_ROOT: `${work}/state`,
	CTRNET_NETNS_DIR: `${work}/netns`,
	CTRNET_CNI_CONFIG_DIR: `${work}/net.d`,
	CTRNET_CNI_CACHE_DIR: `${work}/cache`,
	CTRNET_RUN_ROOT: `${work}/run`,
};
const ct = (args: string[], extra: Record<string, string> = {}) =>
	timed([BIN, ...args], { ...env, ...extra });
const NET = "benchnet";

async function single() {
	await ct(["setup", "bench-keeper", "--network", NET]); // keeps the bridge up, as netavark's peer does
	const wall: number[] = [];
	const plugins: number[] = [];
	for (let i = 0; i < RUNS + 2; i++) {
		const s = await ct(["setup", "bench-one", "--network", NET, "-p", "28090:80"], {
			CTRNET_TRACE_PLUGINS: "1",
		});
		const t = await ct(["teardown", "bench-one"], { CTRNET_TRACE_PLUGINS: "1" });
		if (i < 2) continue;
		wall.push(s.ms + t.ms);
		plugins.push(pluginMs(s.err) + pluginMs(t.err));
	}
	await ct(["teardown", "bench-keeper"]);
	return {
		wall: median(wall),
		plugins: median(plugins),
		overhead: median(wall.map((w, i) => w - (plugins[i] as number))),
	};
}

/** setup+teardown in this process: the orchestration's cost without Bun's start-up. */
async function library() {
	const config = resolveConfig({}, env, { euid: 0, uid: 0, home: "/root" });
	let runs: PluginRun[] = [];
	const rt: Runtime = {
		config,
		store: Store.open(config.root),
		cni: new Cni({
			pluginDirs: config.cniPluginDirs,
			cacheDir: config.cniCacheDir,
			onRun: (r) => runs.push(r),
		}),
	};
	const wall: number[] = [];
	const overhead: number[] = [];
	const req = parseSetup(
		{ id: "bench-lib", networks: [NET], publish: ["28092:80"], aliases: [] },
		config.defaultNetwork,
		false,
		config.rootlessNetwork,
	);
	for (let i = 0; i < RUNS + 2; i++) {
		runs = [];
		const t0 = performance.now();
		const c = await setupContainer(rt, req);
		const errors = await teardownContainer(rt, c, { keepNetns: false, event: true });
		const ms = performance.now() - t0;
		if (errors.length > 0) throw errors[0];
		if (i < 2) continue;
		wall.push(ms);
		overhead.push(ms - runs.reduce((a, r) => a + r.ms, 0));
	}
	rt.store.close();
	return { wall: median(wall), overhead: median(overhead) };
}

async function netavark() {
	const ns = `bench-nv-${process.pid}`;
	Bun.spawnSync(["ip", "netns", "add", ns]);
	Bun.spawnSync(["ip", "netns", "add", `${ns}-k`]);
	const o = { net: "benchnv", bridge: "benchnv0", subnet24: "10.217.9", hostPort: 28091 };
	const keeper = netavarkInput({ ...o, id: "keeper", ip: 3 });
	const one = netavarkInput({ ...o, id: "one", ip: 2 });
	const cfg = `${work}/netavark`;
	const nv = (cmd: string, path: string, input: string) =>
		timed([NETAVARK, "--config", cfg, cmd, path], {}, input);
	await nv("setup", `/run/netns/${ns}-k`, keeper);
	const wall: number[] = [];
	for (let i = 0; i < RUNS + 2; i++) {
		const s = await nv("setup", `/run/netns/${ns}`, one);
		const t = await nv("teardown", `/run/netns/${ns}`, one);
		if (i >= 2) wall.push(s.ms + t.ms);
	}
	await nv("teardown", `/run/netns/${ns}-k`, keeper);
	Bun.spawnSync(["ip", "netns", "del", ns]);
	Bun.spawnSync(["ip", "netns", "del", `${ns}-k`]);
	Bun.spawnSync(["ip", "link", "del", "benchnv0"]);
	return { wall: median(wall) };
}

async function many() {
	const ids = Array.from({ length: N }, (_, i) => `bench-m${i}`);
	const seqSetup: number[] = [];
	let t0 = performance.now();
	for (const id of ids) seqSetup.push((await ct(["setup", id, "--network", NET])).ms);
	const seqUp = performance.now() - t0;
	t0 = performance.now();
	for (const id of ids) await ct(["teardown", id]);
	const seqDown = performance.now() - t0;

	t0 = performance.now();
	const ups = await Promise.allSettled(ids.map((id) => ct(["setup", id, "--network", NET])));
	const parUp = performance.now() - t0;
	const okUps = ups.filter((u) => u.status === "fulfilled");
	const ips = new Set(okUps.map((u) => JSON.parse(u.value.out).NetworkSettings.IPAddress));
	t0 = performance.now();
	const downs = await Promise.allSettled(ids.map((id) => ct(["teardown", id])));
	const parDown = performance.now() - t0;
	return {
		ok: okUps.length,
		distinctIps: ips.size,
		downsOk: downs.filter((d) => d.status === "fulfilled").length,
		seqUp,
		seqDown,
		parUp,
		parDown,
		firstTen: median(seqSetup.slice(0, 10)),
		lastTen: median(seqSetup.slice(-10)),
	};
}

try {
	await ct(["network", "create", "--subnet", "10.217.0.0/21", NET]);
	const file = `${env.CTRNET_CNI_CONFIG_DIR}/${NET}.conflist`;
	const conf = JSON.parse(readFileSync(file, "utf8"));
	conf.plugins[0].bridge = "benchbr0";
	writeFileSync(file, JSON.stringify(conf));

	const one = await single();
	await ct(["setup", "bench-keeper", "--network", NET]);
	const lib = await library();
	await ct(["teardown", "bench-keeper"]);
	const nv = await netavark();
	console.log(`setup+teardown, 1 container, 1 port (median of ${RUNS}):`);
	console.log(
		`  ctrnet   ${one.wall.toFixed(1)} ms  (plugins ${one.plugins.toFixed(1)} ms, ctrnet overhead ${one.overhead.toFixed(1)} ms; goal <= 10 ms)`,
	);
	console.log(
		`  netavark ${nv.wall.toFixed(1)} ms  -> ctrnet/netavark = ${(one.wall / nv.wall).toFixed(2)}x`,
	);
	console.log(
		`  library  ${lib.wall.toFixed(1)} ms  (setupContainer+teardownContainer in one process: ` +
			`orchestration overhead ${lib.overhead.toFixed(1)} ms; library/netavark ${(lib.wall / nv.wall).toFixed(2)}x)`,
	);
	const m = await many();
	console.log(`${N} containers:`);
	console.log(
		`  concurrent setups ok ${m.ok}/${N}, distinct IPs ${m.distinctIps}, teardowns ok ${m.downsOk}/${N}`,
	);
	console.log(
		`  setup    concurrent ${(m.parUp / 1000).toFixed(2)} s vs sequential ${(m.seqUp / 1000).toFixed(2)} s = ${(m.parUp / m.seqUp).toFixed(2)}x (goal <= 0.9x)`,
	);
	console.log(
		`  teardown concurrent ${(m.parDown / 1000).toFixed(2)} s vs sequential ${(m.seqDown / 1000).toFixed(2)} s = ${(m.parDown / m.seqDown).toFixed(2)}x (goal <= 0.7x)`,
	);
	console.log(
		`  sequential setup median: last 10 ${m.lastTen.toFixed(1)} ms / first 10 ${m.firstTen.toFixed(1)} ms = ${(m.lastTen / m.firstTen).toFixed(2)}x (goal <= 1.25x)`,
	);
} finally {
	await ct(["network", "rm", "--force", NET]).catch(() => {});
	Bun.spawnSync(["umount", "-l", env.CTRNET_NETNS_DIR]);
	rmSync(work, { recursive: true, force: true });
}
