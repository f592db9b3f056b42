// Issue 12's benchmark: setup + teardown of one container on a bridge network with one published
// TCP port — ctrnet's native backend, netavark 1.4 and ctrnet's CNI backend (the plugin chain),
// interleaved, each with a warm bridge (another container keeps it up) and a namespace made
// beforehand (as podman makes it for netavark). Then: 100 sequential native setups (growth of the
// cost, last 10 / first 10), 100 concurrent setups and teardowns (and, as their floor, 100
// concurrent `ctrnet version` runs). The nftables transaction alone: scripts/bench/firewall.ts.
// Root. Usage: bun scripts/bench/native-lifecycle.ts [N]
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { median, netavarkInput, timed } from "./lib";

const N = Number(process.argv[2] ?? 20);
const BIN = resolve(import.meta.dir, "../../dist/ctrnet");
const NETAVARK = "/usr/lib/podman/netavark";
const dir = mkdtempSync("/tmp/bench-native-");
const tag = Math.random().toString(16).slice(2, 6);
const env = (backend: string) => ({
	CTRNET_ROOT: `${dir}/state`,
	CTRNET_RUN_ROOT: `${dir}/run`,
	CTRNET_NETNS_DIR: `${dir}/netns`,
	CTRNET_CNI_CONFIG_DIR: `${dir}/net.d`,
	CTRNET_CNI_CACHE_DIR: `${dir}/cache`,
	CTRNET_NETWORK_CONFIG_DIR: `${dir}/networks`,
	CTRNET_NETWORK_BACKEND: backend,
});
const sh = (argv: string[]) => Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
const ctr = (backend: string, args: string[]) => timed([BIN, ...args], env(backend));
const netns = (name: string) => {
	sh(["ip", "netns", "add", name]);
	return `/run/netns/${name}`;
};

const NATIVE = `bn-${tag}`;
const CNI = `bc-${tag}`;
const NV = `bv-${tag}`;
await ctr("native", [
	"network",
	"create",
	"--disable-dns", // as netavark's input below: with DNS on, aardvark-dns starts
	"--subnet",
	"10.243.1.0/24",
	"--interface-name",
	`tbn${tag}`,
	NATIVE,
]);
await ctr("cni", ["network", "create", "--subnet", "10.243.2.0/24", CNI]);
const nvInput = (id: string, ip: number, hostPort: number) =>
	netavarkInput({ id, net: NV, bridge: `tbv${tag}`, subnet24: "10.243.3", ip, hostPort });
const nv = (cmd: string, ns: string, input: string) =>
	timed([NETAVARK, "--config", `${dir}/nv`, cmd, ns], {}, input);

// Warm: one container on each network keeps its bridge (and firewall base) up.
await ctr("native", ["setup", "warm-n", "--netns", netns(`bw1-${tag}`), "--network", NATIVE]);
await ctr("cni", ["setup", "warm-c", "--netns", netns(`bw2-${tag}`), "--network", CNI]);
await nv("setup", netns(`bw3-${tag}`), nvInput("warm", 250, 29000));

const times: Record<string, number[]> = {
	native: [],
	netavark: [],
	cni: [],
	"native (netns made by ctrnet)": [],
};
for (let i = 0; i < N; i++) {
	const port = 29100 + i;
	let ns = netns(`bn${i}-${tag}`);
	let t = (
		await ctr("native", ["setup", `n${i}`, "--netns", ns, "--network", NATIVE, "-p", `${port}:80`])
	).ms;
	t += (await ctr("native", ["teardown", `n${i}`])).ms;
	times.native?.push(t);
	sh(["ip", "netns", "del", `bn${i}-${tag}`]);

	ns = netns(`bv${i}-${tag}`);
	const input = nvInput(`v${i}`, 10 + i, port + 100);
	t = (await nv("setup", ns, input)).ms + (await nv("teardown", ns, input)).ms;
	times.netavark?.push(t);
	sh(["ip", "netns", "del", `bv${i}-${tag}`]);

	ns = netns(`bc${i}-${tag}`);
	t = (
		await ctr("cni", ["setup", `c${i}`, "--netns", ns, "--network", CNI, "-p", `${port + 200}:80`])
	).ms;
	t += (await ctr("cni", ["teardown", `c${i}`])).ms;
	times.cni?.push(t);
	sh(["ip", "netns", "del", `bc${i}-${tag}`]);

	t = (await ctr("native", ["setup", `m${i}`, "--network", NATIVE, "-p", `${port + 300}:80`])).ms;
	t += (await ctr("native", ["teardown", `m${i}`])).ms;
	times["native (netns made by ctrnet)"]?.push(t);
}
const nvMedian = median(times.netavark ?? []);
console.log(`setup + teardown, one container, one published port, warm bridge (median of ${N}):`);
for (const [k, v] of Object.entries(times)) {
	console.log(
		`  ${k.padEnd(32)} ${median(v).toFixed(1).padStart(7)} ms   ${(median(v) / nvMedian).toFixed(2)}x netavark`,
	);
}

// 100 sequential setups: does the cost grow with the number of containers?
const seq: number[] = [];
for (let i = 0; i < 100; i++)
	seq.push(
		(await ctr("native", ["setup", `s${i}`, "--network", NATIVE, "-p", `${30000 + i}:80`])).ms,
	);
const first = median(seq.slice(0, 10));
const last = median(seq.slice(-10));
console.log(
	`100 sequential native setups: first-10 ${first.toFixed(1)} ms, last-10 ${last.toFixed(1)} ms, growth ${(last / first).toFixed(2)}x`,
);
const seqTeardown = performance.now();
for (let i = 0; i < 100; i++) await ctr("native", ["teardown", `s${i}`]);
const seqDown = performance.now() - seqTeardown;

// 100 concurrent setups and teardowns.
let t0 = performance.now();
const ups = await Promise.allSettled(
	Array.from({ length: 100 }, (_, i) =>
		ctr("native", ["setup", `p${i}`, "--network", NATIVE, "-p", `${31000 + i}:80`]),
	),
);
const upWall = performance.now() - t0;
t0 = performance.now();
const downs = await Promise.allSettled(
	Array.from({ length: 100 }, (_, i) => ctr("native", ["teardown", `p${i}`])),
);
const downWall = performance.now() - t0;
const okUp = ups.filter((r) => r.status === "fulfilled").length;
const okDown = downs.filter((r) => r.status === "fulfilled").length;
const seqUp = seq.reduce((a, b) => a + b, 0);
console.log(
	`100 concurrent native setups: ${okUp}/100 ok, wall ${upWall.toFixed(0)} ms = ${(upWall / seqUp).toFixed(2)}x sequential (${seqUp.toFixed(0)} ms)`,
);
console.log(
	`100 concurrent native teardowns: ${okDown}/100 ok, wall ${downWall.toFixed(0)} ms = ${(downWall / seqDown).toFixed(2)}x sequential (${seqDown.toFixed(0)} ms)`,
);

// The floor of that ratio on this machine: the same for `ctrnet version` (a Bun process start and
// exit, nothing else): 100 sequential runs against 100 at once.
let v0 = performance.now();
for (let i = 0; i < 100; i++) await ctr("native", ["version"]);
const versionSeq = performance.now() - v0;
v0 = performance.now();
await Promise.all(Array.from({ length: 100 }, () => ctr("native", ["version"])));
const versionConc = performance.now() - v0;
console.log(
	`100 concurrent ctrnet version (the process floor): wall ${versionConc.toFixed(0)} ms = ${(versionConc / versionSeq).toFixed(2)}x sequential (${versionSeq.toFixed(0)} ms), on ${availableParallelism()} CPUs`,
);

// Clean up.
await ctr("native", ["teardown", "warm-n"]);
await ctr("cni", ["teardown", "warm-c"]);
await nv("teardown", `/run/netns/bw3-${tag}`, nvInput("warm", 250, 29000));
for (const n of ["bw1", "bw2", "bw3"]) sh(["ip", "netns", "del", `${n}-${tag}`]);
await ctr("native", ["network", "rm", NATIVE]);
await ctr("cni", ["network", "rm", CNI]);
sh(["ip", "link", "del", `tbv${tag}`]);
sh(["umount", "-l", `${dir}/netns`]);
rmSync(dir, { recursive: true, force: true });
