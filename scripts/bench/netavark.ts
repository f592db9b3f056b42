// ctrnet as netavark vs netavark 1.4 (Debian's /usr/lib/podman/netavark), measured in the same
// run. Parts (netavark.sh runs each in the right place):
//   proto        the bare protocol: the same captured podman JSON fed to `setup`/`teardown` of
//                both binaries, interleaved, on a warm network (each tool keeps one container of
//                its own on it) and on a cold one (the only container: bridge made and removed).
//                Run inside a private network + mount namespace: the tests' host.
//   concurrent   100 setups at once, then 100 teardowns at once (after 100 setups one by one),
//                without any lock, for one tool; counts what succeeded and what is left over.
//                Run inside its own private namespace per tool.
//   podman       `podman run --rm … true` wall time with ctrnet (CONTAINERS_HELPER_BINARY_DIR)
//                and with podman's own netavark, interleaved, on a tnv- network; on the host.
// Medians in ms, ratios ctrnet / netavark.
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { openIptablesFirewall } from "../../src/firewall/iptables/driver";
import { aardvarks, hexId, median, mustSync, timed } from "./lib";

const ROOT = resolve(import.meta.dir, "../..");
const NETAVARK = process.env.NETAVARK ?? "/usr/lib/podman/netavark";
const AARDVARK = "/usr/lib/podman/aardvark-dns";
const RUNS = Number(process.env.RUNS ?? 30);
const WARMUP = 3;
const SAMPLES = `${ROOT}/test/fixtures/netavark-samples`;

/** The binary under test, under the name podman gives it (argv[0] `netavark`). */
function ctrnetAsNetavark(dir: string): string {
	const path = `${dir}/netavark`;
	const r = Bun.spawnSync(["ln", `${ROOT}/dist/ctrnet`, path]);
	if (r.exitCode !== 0) Bun.spawnSync(["cp", `${ROOT}/dist/ctrnet`, path]);
	return path;
}

type Tool = { name: "ctrnet" | "netavark"; bin: string };

function sample(name: string): Record<string, unknown> {
	return JSON.parse(readFileSync(`${SAMPLES}/${name}/stdin.capture`, "utf8"));
}

/** A container netns: a sleeping process in its own network namespace. */
function containerNs(): { path: string; kill: () => void } {
	const p = Bun.spawn(["unshare", "-n", "sleep", "3600"], {
		stdio: ["ignore", "ignore", "ignore"],
	});
	return { path: `/proc/${p.pid}/ns/net`, kill: () => p.kill() };
}

/** Until the process has unshared (its netns differs from ours). */
async function waitNs(path: string): Promise<void> {
	const ours = readlinkSync("/proc/self/ns/net");
	for (let i = 0; i < 400; i++) {
		try {
			if (readlinkSync(path) !== ours) return;
		} catch {}
		await Bun.sleep(5);
	}
	throw new Error(`namespace ${path} did not appear`);
}

/**
 * Until no aardvark-dns serves `config` (not timed). netavark 1.4's last teardown ends aardvark
 * with a SIGHUP and returns before it is gone; the next setup would signal the dying process.
 */
async function aardvarkGone(config: string): Promise<void> {
	for (let i = 0; i < 400; i++) {
		if (aardvarks(`${config}/`).length === 0) return;
		await Bun.sleep(5);
	}
}

/** A variant of a sample: another container (id, name, IP), with or without its ports. */
function variant(base: Record<string, unknown>, id: string, ip: string, ports: boolean) {
	const doc = structuredClone(base) as {
		container_id: string;
		container_name: string;
		port_mappings?: unknown[];
		networks: Record<string, { static_ips: string[]; aliases?: string[] }>;
	};
	doc.container_id = hexId(id);
	doc.container_name = id;
	if (!ports) delete doc.port_mappings;
	for (const n of Object.values(doc.networks)) {
		n.static_ips = [ip];
		n.aliases = [doc.container_id.slice(0, 12)];
	}
	return JSON.stringify(doc);
}

const call = (t: Tool, config: string, cmd: string, ns: string, stdin: string) =>
	timed(
		[t.bin, "--config", config, "--rootless=false", `--aardvark-binary=${AARDVARK}`, cmd, ns],
		{ RUST_LOG: "netavark=warn" },
		stdin,
	);

/** A call whose failure is counted, not fatal (a peer's own bug must not end the run). */
async function tryCall(t: Tool, config: string, cmd: string, ns: string, stdin: string) {
	try {
		return { ...(await call(t, config, cmd, ns, stdin)), error: undefined };
	} catch (e) {
		return { ms: Number.NaN, error: (e as Error).message.split(": ").slice(-1)[0] };
	}
}

function row(label: string, v: number) {
	console.log(`  ${label.padEnd(44)} ${v.toFixed(2).padStart(8)} ms`);
}
function ratio(label: string, v: number, goal = "") {
	console.log(`  ${label.padEnd(44)} ${v.toFixed(2).padStart(8)} x${goal ? `   (${goal})` : ""}`);
}

async function proto(work: string, tools: Tool[]) {
	const config = `${work}/config`;
	for (const s of [
		{
			sample: "rootful-01-default-bridge-p8080-setup",
			prefix: "10.88.0",
			label: "default network, -p 8080:80",
		},
		{
			sample: "rootful-03-custom-dns-net-p8081-ctr1-setup",
			prefix: "10.89.0",
			label: "DNS network (aardvark), -p 8081:80",
		},
	]) {
		const base = sample(s.sample);
		const measured = variant(base, "bench-one", `${s.prefix}.5`, true);
		for (const phase of ["warm", "cold"] as const) {
			const keepers = new Map<string, { ns: ReturnType<typeof containerNs>; json: string }>();
			if (phase === "warm") {
				for (const [k, t] of tools.entries()) {
					const ns = containerNs();
					await waitNs(ns.path);
					const json = variant(base, `keeper-${t.name}`, `${s.prefix}.${250 + k}`, false);
					await call(t, config, "setup", ns.path, json);
					keepers.set(t.name, { ns, json });
				}
			}
			const ms: Record<string, { setup: number[]; teardown: number[]; both: number[] }> = {};
			for (const t of tools) ms[t.name] = { setup: [], teardown: [], both: [] };
			const failures: string[] = [];
			const one = containerNs();
			await waitNs(one.path);
			for (let i = 0; i < RUNS + WARMUP; i++) {
				const order = i % 2 === 0 ? tools : [...tools].reverse();
				for (const t of order) {
					const a = await tryCall(t, config, "setup", one.path, measured);
					const b = await tryCall(t, config, "teardown", one.path, measured);
					if (phase === "cold") await aardvarkGone(config);
					if (i < WARMUP) continue;
					if (a.error || b.error) {
						failures.push(`${t.name} ${a.error ? "setup" : "teardown"}: ${a.error ?? b.error}`);
						continue;
					}
					const m = ms[t.name] as { setup: number[]; teardown: number[]; both: number[] };
					m.setup.push(a.ms);
					m.teardown.push(b.ms);
					m.both.push(a.ms + b.ms);
				}
			}
			one.kill();
			for (const [name, k] of keepers) {
				await call(
					tools.find((t) => t.name === name) as Tool,
					config,
					"teardown",
					k.ns.path,
					k.json,
				);
				k.ns.kill();
			}
			await aardvarkGone(config);
			console.log(`protocol calls, ${s.label}, ${phase} network (${RUNS} runs, medians):`);
			for (const f of failures) console.log(`  FAILED (left out of the medians): ${f}`);
			for (const t of tools) {
				const m = ms[t.name] as { setup: number[]; teardown: number[]; both: number[] };
				row(`${t.name} setup`, median(m.setup));
				row(`${t.name} teardown`, median(m.teardown));
				row(`${t.name} setup + teardown`, median(m.both));
			}
			if (tools.length === 2) {
				const c = ms.ctrnet as { setup: number[]; teardown: number[]; both: number[] };
				const n = ms.netavark as { setup: number[]; teardown: number[]; both: number[] };
				ratio("ctrnet / netavark, setup", median(c.setup) / median(n.setup));
				ratio("ctrnet / netavark, teardown", median(c.teardown) / median(n.teardown));
				ratio(
					"ctrnet / netavark, setup + teardown",
					median(c.both) / median(n.both),
					"goal <= 0.5",
				);
			}
		}
	}
}

/** `ip -o link` lines and nft/iptables rules left in this namespace after everything went. */
function leftovers(): { links: number; ctrnetTable: boolean; netavarkRules: number } {
	const links = Bun.spawnSync(["ip", "-o", "link"]).stdout.toString().trim().split("\n").length - 1;
	const table = Bun.spawnSync(["nft", "list", "table", "inet", "ctrnet"]).exitCode === 0;
	const rules = Bun.spawnSync(["iptables-save"]).stdout.toString();
	return {
		links,
		ctrnetTable: table,
		netavarkRules: rules
			.split("\n")
			.filter((l) => l.startsWith("-A NETAVARK-") && !l.includes("HOSTPORT")).length,
	};
}

async function concurrent(work: string, t: Tool, n: number) {
	const config = `${work}/config-${t.name}`;
	const base = sample("rootful-01-default-bridge-p8080-setup");
	const jsons = Array.from({ length: n }, (_, k) => {
		const doc = JSON.parse(
			variant(base, `conc-${k}`, `10.88.${1 + Math.floor(k / 200)}.${2 + (k % 200)}`, true),
		);
		doc.port_mappings = [
			{ host_ip: "", container_port: 80, host_port: 20000 + k, range: 1, protocol: "tcp" },
		];
		return JSON.stringify(doc);
	});
	const spawnAll = async (cmd: string, nss: string[]) => {
		const procs = nss.map((ns, k) =>
			Bun.spawn(
				[t.bin, "--config", config, "--rootless=false", `--aardvark-binary=${AARDVARK}`, cmd, ns],
				{ stdin: new TextEncoder().encode(jsons[k]), stdout: "pipe", stderr: "pipe" },
			),
		);
		const results = await Promise.all(
			procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text() })),
		);
		const errors = results.filter((r) => r.code !== 0).map((r) => r.out.trim().slice(0, 160));
		return { ok: results.length - errors.length, errors };
	};
	// 1. n setups at once.
	let nss = Array.from({ length: n }, () => containerNs());
	for (const ns of nss) await waitNs(ns.path);
	const t0 = performance.now();
	const setups = await spawnAll(
		"setup",
		nss.map((x) => x.path),
	);
	const setupMs = performance.now() - t0;
	await spawnAll(
		"teardown",
		nss.map((x) => x.path),
	);
	for (const ns of nss) ns.kill();
	// 2. n setups one by one, then n teardowns at once.
	nss = Array.from({ length: n }, () => containerNs());
	for (const ns of nss) await waitNs(ns.path);
	let sequential = 0;
	const times: number[] = [];
	for (const [k, ns] of nss.entries()) {
		const started = performance.now();
		const p = Bun.spawn(
			[
				t.bin,
				"--config",
				config,
				"--rootless=false",
				`--aardvark-binary=${AARDVARK}`,
				"setup",
				ns.path,
			],
			{ stdin: new TextEncoder().encode(jsons[k]), stdout: "ignore", stderr: "ignore" },
		);
		if ((await p.exited) === 0) sequential++;
		times.push(performance.now() - started);
	}
	const t1 = performance.now();
	const teardowns = await spawnAll(
		"teardown",
		nss.map((x) => x.path),
	);
	const teardownMs = performance.now() - t1;
	for (const ns of nss) ns.kill();
	const left = leftovers();
	console.log(`${t.name}: ${n} concurrent calls, no lock`);
	if (n >= 20) {
		// Does a setup cost more with more containers (and firewall rules) on the host?
		const first = median(times.slice(0, 10));
		const last = median(times.slice(-10));
		console.log(
			`  one-by-one setups: first 10 ${first.toFixed(1)} ms, last 10 ${last.toFixed(1)} ms (median): ${(last / first).toFixed(2)}x`,
		);
	}
	console.log(`  setups at once:    ${setups.ok}/${n} succeeded in ${setupMs.toFixed(0)} ms`);
	console.log(
		`  teardowns at once: ${teardowns.ok}/${n} succeeded in ${teardownMs.toFixed(0)} ms (after ${sequential}/${n} setups one by one)`,
	);
	console.log(
		`  left in the namespace afterwards: ${left.links} links besides lo, ctrnet table: ${left.ctrnetTable}, netavark per-network rules: ${left.netavarkRules}`,
	);
	const sampleErrors = [...new Set([...setups.errors, ...teardowns.errors])].slice(0, 3);
	for (const e of sampleErrors) console.log(`  e.g. ${e}`);
}

async function podmanRuns(work: string) {
	const IMAGE = "localhost/tnv-bench-busybox:latest";
	const NET = "tnv-bench";
	const helpers = `${work}/helpers`;
	Bun.spawnSync(["mkdir", "-p", helpers]);
	ctrnetAsNetavark(helpers);
	const rootfs = `${work}/rootfs`;
	for (const d of ["bin", "tmp", "etc"]) Bun.spawnSync(["mkdir", "-p", `${rootfs}/${d}`]);
	Bun.spawnSync(["cp", "/bin/busybox", `${rootfs}/bin/busybox`]);
	Bun.spawnSync(["tar", "-C", rootfs, "-cf", `${work}/rootfs.tar`, "."]);
	const G = ["podman", "--runtime", "runc", "--cgroup-manager=cgroupfs"];
	mustSync([...G, "import", `${work}/rootfs.tar`, IMAGE]);
	mustSync([...G, "network", "create", "--disable-dns", "--subnet", "10.240.9.0/24", NET]);
	const file = `/etc/containers/networks/${NET}.json`;
	const def = JSON.parse(readFileSync(file, "utf8"));
	def.network_interface = "tnvbrbench";
	writeFileSync(file, JSON.stringify(def, null, 5));
	const runArgs = (ports: boolean) => [
		...G,
		"run",
		"--rm",
		"--ulimit",
		"nofile=10000:10000",
		"--ulimit",
		"nproc=4096:4096",
		"--network",
		NET,
		...(ports ? ["-p", "31998:80"] : []),
		IMAGE,
		"/bin/busybox",
		"true",
	];
	const runs = Math.min(RUNS, 20);
	// Both tools leave netavark's base chains on the host's firewall (as netavark does): gone
	// again afterwards when the host had none before.
	const hadNetavarkChains = Bun.spawnSync(["iptables-save"]).stdout.toString().includes("NETAVARK");
	try {
		for (const ports of [false, true]) {
			const ms = { ctrnet: [] as number[], netavark: [] as number[] };
			for (let i = 0; i < runs + 2; i++) {
				for (const name of i % 2
					? (["netavark", "ctrnet"] as const)
					: (["ctrnet", "netavark"] as const)) {
					const env: Record<string, string> =
						name === "ctrnet" ? { CONTAINERS_HELPER_BINARY_DIR: helpers } : {};
					const r = await timed(runArgs(ports), env);
					if (i >= 2) ms[name].push(r.ms);
				}
			}
			console.log(
				`podman run --rm … true, network ${NET}${ports ? ", -p 31998:80" : ""} (${runs} runs each, interleaved, medians):`,
			);
			row("with ctrnet as netavark", median(ms.ctrnet));
			row("with netavark 1.4", median(ms.netavark));
			ratio("ctrnet / netavark", median(ms.ctrnet) / median(ms.netavark));
		}
	} finally {
		Bun.spawnSync([...G, "network", "rm", "-f", NET]);
		Bun.spawnSync([...G, "rmi", "-f", IMAGE]);
		if (!hadNetavarkChains) {
			const fw = openIptablesFirewall();
			fw.wipe();
			fw.close();
		}
	}
}

const [part, ...args] = process.argv.slice(2);
const work = mkdtempSync("/tmp/tnv-bench-");
try {
	const tools: Tool[] = [{ name: "ctrnet", bin: ctrnetAsNetavark(work) }];
	if (await Bun.file(NETAVARK).exists()) tools.push({ name: "netavark", bin: NETAVARK });
	else console.log(`(${NETAVARK} not found: no peer)`);
	if (part === "proto") await proto(work, tools);
	else if (part === "concurrent") {
		const t = tools.find((x) => x.name === args[0]);
		if (t) await concurrent(work, t, Number(args[1] ?? 100));
	} else if (part === "podman") await podmanRuns(work);
	else throw new Error("usage: netavark.ts proto | concurrent ctrnet|netavark [N] | podman");
} finally {
	// An aardvark-dns a failed run left behind (a normal run's last teardown stops it).
	for (const pid of aardvarks(`${work}/`)) process.kill(pid);
	rmSync(work, { recursive: true, force: true });
}
