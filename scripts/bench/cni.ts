// CNI add+del: ctrnet's own overhead (wall time minus the time inside plugin processes) and the
// ratio to netavark on the equivalent bridge network with one published port. Run by cni.sh (root).
//
//   1. CLI: `ctrnet cni add` + `ctrnet cni del` on podman v2's 87-podman-bridge.conflist, two
//      processes per iteration, with CTRNET_TRACE_PLUGINS=1 giving each plugin's wall time;
//   2. library: Cni.addNetworkList + delNetworkList in this process (what container setup does),
//      the same plugins, no ctrnet start-up in the figure;
//   3. netavark setup + teardown (its JSON on stdin), static IP, one port, its own bridge.
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { Cni, findNetwork, type PluginRun } from "../../src/cni";

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
Bun.spawnSync(["mkdir", "-p", confDir, cacheDir]);
copyFileSync(PODMAN_CONFLIST, `${confDir}/87-podman-bridge.conflist`);
const ns = `t4-bench-${process.pid}`;
const nsPath = `/run/netns/${ns}`;
const hadPodmanBridge = Bun.spawnSync(["ip", "link", "show", "cni-podman0"]).exitCode === 0;

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function timed(argv: string[], env: Record<string, string>, stdin?: string) {
	const t0 = performance.now();
	const p = Bun.spawn(argv, {
		env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
		stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
		stdout: "pipe",
		stderr: "pipe",
	});
	const [out, err, code] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
		p.exited,
	]);
	const ms = performance.now() - t0;
	if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err || out}`);
	return { ms, out, err };
}

const pluginMs = (trace: string) =>
	[...trace.matchAll(/^trace: plugin \S+ \S+ network=\S* ms=([\d.]+) at=[\d.]+$/gm)].reduce(
		(a, m) => a + Number(m[1]),
		0,
	);

const capArgs = { portMappings: [{ hostPort: 28080, containerPort: 80, protocol: "tcp" }] };

async function benchCli() {
	const wall: number[] = [];
	const overhead: number[] = [];
	const plugins: number[] = [];
	const env = { CTRNET_TRACE_PLUGINS: "1", CAP_ARGS: JSON.stringify(capArgs) };
	const args = [
		"--cni-config-dir",
		confDir,
		"--cni-cache-dir",
		cacheDir,
		"--cni-plugin-dir",
		PLUGIN_DIRS.join(":"),
	];
	for (let i = 0; i < WARMUP + RUNS; i++) {
		const add = await timed(
			[BIN, "cni", "add", "podman", nsPath, "--id", "t4-bench-cli", ...args],
			env,
		);
		const del = await timed(
			[BIN, "cni", "del", "podman", nsPath, "--id", "t4-bench-cli", ...args],
			env,
		);
		if (i < WARMUP) continue;
		const p = pluginMs(add.err) + pluginMs(del.err);
		wall.push(add.ms + del.ms);
		plugins.push(p);
		overhead.push(add.ms + del.ms - p);
	}
	return { wall: median(wall), plugins: median(plugins), overhead: median(overhead) };
}

async function benchLibrary() {
	const wall: number[] = [];
	const overhead: number[] = [];
	let runs: PluginRun[] = [];
	const cni = new Cni({ pluginDirs: PLUGIN_DIRS, cacheDir, onRun: (r) => runs.push(r) });
	const rt = {
		containerId: "t4-bench-lib",
		netns: nsPath,
		ifName: "eth0",
		capabilityArgs: capArgs,
	};
	for (let i = 0; i < WARMUP + RUNS; i++) {
		runs = [];
		const t0 = performance.now();
		// The list is loaded each time, as a setup would: reading the config dir is ctrnet's work.
		await cni.addNetworkList(findNetwork(confDir, "podman"), rt);
		await cni.delNetworkList(findNetwork(confDir, "podman"), rt);
		const ms = performance.now() - t0;
		if (i < WARMUP) continue;
		wall.push(ms);
		overhead.push(ms - runs.reduce((a, r) => a + r.ms, 0));
	}
	return { wall: median(wall), overhead: median(overhead) };
}

async function benchNetavark() {
	const input = JSON.stringify({
		container_id: "t4bench0000000000000000000000000000000000000000000000000000000001",
		container_name: "t4bench",
		networks: { t4nv: { interface_name: "eth0", static_ips: ["10.214.240.2"] } },
		network_info: {
			t4nv: {
				name: "t4nv",
				id: "t4nv000000000000000000000000000000000000000000000000000000000001",
				driver: "bridge",
				network_interface: "t4nv0",
				subnets: [{ subnet: "10.214.240.0/24", gateway: "10.214.240.1" }],
				ipv6_enabled: false,
				internal: false,
				dns_enabled: false,
				ipam_options: { driver: "host-local" },
			},
		},
		port_mappings: [
			{ container_port: 80, host_ip: "", host_port: 28081, protocol: "tcp", range: 1 },
		],
	});
	const cfg = `${work}/netavark`;
	const wall: number[] = [];
	for (let i = 0; i < WARMUP + RUNS; i++) {
		const s = await timed([NETAVARK, "--config", cfg, "setup", nsPath], {}, input);
		const t = await timed([NETAVARK, "--config", cfg, "teardown", nsPath], {}, input);
		if (i >= WARMUP) wall.push(s.ms + t.ms);
	}
	return { wall: median(wall) };
}

try {
	if (Bun.spawnSync(["ip", "netns", "add", ns]).exitCode !== 0)
		throw new Error(`ip netns add ${ns} failed`);
	const cli = await benchCli();
	const lib = await benchLibrary();
	const nv = existsSync(NETAVARK) ? await benchNetavark() : undefined;
	const f = (x: number) => x.toFixed(2).padStart(8);
	console.log(
		`CNI add+del on podman v2's conflist (bridge, portmap, firewall, tuning; 1 port), medians of ${RUNS}:`,
	);
	console.log(`  ctrnet cni add + del (2 processes)       wall ${f(cli.wall)} ms`);
	console.log(`    inside plugin processes                     ${f(cli.plugins)} ms`);
	console.log(`    ctrnet's own overhead (CLI)                 ${f(cli.overhead)} ms`);
	console.log(`  library addNetworkList + delNetworkList  wall ${f(lib.wall)} ms`);
	console.log(
		`    ctrnet's own overhead (in-process)          ${f(lib.overhead)} ms   (goal <= 10 ms)`,
	);
	if (nv) {
		console.log(`  netavark setup + teardown (1.4)          wall ${f(nv.wall)} ms`);
		console.log(
			`  ratio ctrnet cni add+del / netavark           ${(cli.wall / nv.wall).toFixed(2)}x`,
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
