// The native backend's firewall: what one container's setup and teardown transaction costs, what
// the first one in a fresh process costs, whether the cost grows with the number of containers
// (it should not: only elements change), what a busier ruleset on the host adds (libnftables
// reloads its cache of tables, chains and sets before each transaction), and the peer: the `nft`
// CLI started once per transaction. Medians. Root; runs in its own network namespace.
//   ./node_modules/.bin/bun scripts/bench/firewall.ts      (CONTAINERS=N, FRESH=N to change)
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { type FwNetwork, type FwPort, openFirewall, setupCommands } from "../../src/firewall";
import { median, mustSync } from "./lib";

const CONTAINERS = Number(process.env.CONTAINERS ?? 100);
const FRESH = Number(process.env.FRESH ?? 10);
const ns = `tfw-bench-${randomBytes(2).toString("hex")}`;
const path = `/run/netns/${ns}`;
const FIREWALL = resolve(import.meta.dir, "../../src/firewall/index.ts");

const net: FwNetwork = {
	name: "bench",
	bridge: "tfw-bench0",
	subnets: ["10.234.128.0/17", "fd34:80::/64"],
	internal: false,
	isolate: false,
};
/** Container i: two published ports (IPv4 and IPv6), as `-p 20000+i:80` on a dual-stack network. */
const ports = (i: number): FwPort[] => [
	{
		hostIP: "",
		hostPort: 20000 + i,
		containerPort: 80,
		protocol: "tcp",
		containerIP: `10.234.${128 + (i >> 8)}.${i & 255}`,
	},
	{
		hostIP: "",
		hostPort: 20000 + i,
		containerPort: 80,
		protocol: "tcp",
		containerIP: `fd34:80::${(i + 2).toString(16)}`,
	},
];

const ms = (t0: number) => performance.now() - t0;
const cpuMs = (since: NodeJS.CpuUsage) => {
	const d = process.cpuUsage(since);
	return (d.user + d.system) / 1000;
};
const f = (x: number) => `${x.toFixed(2).padStart(7)} ms`;

/** One fresh process: import, open, first and second transaction, timed from inside. */
async function freshProcess(i: number) {
	const code = `
		const t0 = performance.now();
		const { openFirewall } = await import(${JSON.stringify(FIREWALL)});
		const t1 = performance.now();
		const fw = openFirewall(${JSON.stringify(path)});
		const t2 = performance.now();
		const net = ${JSON.stringify(net)};
		fw.setup(net, ${JSON.stringify(ports(1000 + i))});
		const t3 = performance.now();
		fw.setup(net, ${JSON.stringify(ports(2000 + i))});
		const t4 = performance.now();
		fw.teardown(net, ${JSON.stringify(ports(1000 + i))}, { lastOnNetwork: false });
		fw.teardown(net, ${JSON.stringify(ports(2000 + i))}, { lastOnNetwork: false });
		console.log(JSON.stringify({ load: t1 - t0, open: t2 - t1, first: t3 - t2, second: t4 - t3 }));
	`;
	const out = mustSync([process.execPath, "-e", code]);
	return JSON.parse(out) as { load: number; open: number; first: number; second: number };
}

mustSync(["ip", "netns", "add", ns]);
const fw = openFirewall(path);
try {
	// Fresh processes; the table exists (the usual case: other containers are running).
	fw.setup(net, []);
	const fresh = [];
	for (let i = 0; i < FRESH; i++) fresh.push(await freshProcess(i));
	// Fresh processes on a host without our table (the first container after boot).
	const cold = [];
	for (let i = 0; i < FRESH; i++) {
		fw.wipe();
		cold.push(await freshProcess(i));
	}
	fw.setup(net, []);

	// One process, CONTAINERS containers on one network, then all of them leave (after a warm-up,
	// so that the first ten are not the ones that pay for JIT compilation).
	for (let i = 0; i < 30; i++) {
		fw.setup(net, ports(6000 + i));
		fw.teardown(net, ports(6000 + i), { lastOnNetwork: false });
	}
	// Wall time is what a container waits; CPU time (ours plus the kernel's for us) is what
	// shows growth without the noise of other work on the machine.
	const setup: number[] = [];
	const setupCpu: number[] = [];
	const teardown: number[] = [];
	const teardownCpu: number[] = [];
	for (let i = 0; i < CONTAINERS; i++) {
		const c = process.cpuUsage();
		const t = performance.now();
		fw.setup(net, ports(i), { container: `c${i}` });
		setup.push(ms(t));
		setupCpu.push(cpuMs(c));
	}
	for (let i = CONTAINERS - 1; i >= 0; i--) {
		const c = process.cpuUsage();
		const t = performance.now();
		fw.teardown(net, ports(i), { lastOnNetwork: false });
		teardown.push(ms(t));
		teardownCpu.push(cpuMs(c));
	}
	const growth = (xs: number[]) => median(xs.slice(-10)) / median(xs.slice(0, 10));

	// The peer: the same element transaction through the nft CLI, one process per container.
	const cli: number[] = [];
	for (let i = 0; i < 30; i++) {
		const t = performance.now();
		mustSync(["ip", "netns", "exec", ns, "nft", "-f", "-"], setupCommands(net, ports(3000 + i)));
		cli.push(ms(t));
	}
	const ffiSame: number[] = [];
	for (let i = 0; i < 30; i++) {
		const t = performance.now();
		fw.setup(net, ports(4000 + i));
		ffiSame.push(ms(t));
	}

	// Busier hosts: libnftables lists every table, chain and set again before each of our
	// transactions, and the elements of every plain interval set (blocklists of other tools).
	const busyMedian = () => {
		const xs: number[] = [];
		for (let i = 0; i < 30; i++) {
			const t = performance.now();
			fw.setup(net, ports(5000 + i));
			xs.push(ms(t));
			fw.teardown(net, ports(5000 + i), { lastOnNetwork: false });
		}
		return median(xs);
	};
	const foreign: string[] = [];
	for (let t = 0; t < 20; t++) {
		foreign.push(`add table ip tfw_other${t}`);
		for (let c = 0; c < 20; c++) foreign.push(`add chain ip tfw_other${t} c${c}`);
	}
	fw.applyTransaction(foreign.join("\n"));
	const busyTables = busyMedian();
	const busyFresh = [];
	for (let i = 0; i < FRESH; i++) busyFresh.push(await freshProcess(i));
	const blocked = Array.from({ length: 5000 }, (_, i) => `172.${16 + (i >> 8)}.${i & 255}.0/28`);
	fw.applyTransaction(
		`add set ip tfw_other0 blocked { type ipv4_addr; flags interval; }\n` +
			`add element ip tfw_other0 blocked { ${blocked.join(", ")} }`,
	);
	const busySet = busyMedian();

	const pick = (xs: { [k: string]: number }[], k: string) => median(xs.map((x) => x[k] as number));
	console.log(
		`firewall transactions (median; ${CONTAINERS} containers, ${FRESH} fresh processes):`,
	);
	const x = (r: number) => `${r.toFixed(2).padStart(7)}x`;
	const row = (label: string, wall: string, cpu: string) =>
		console.log(`  ${label.padEnd(50)}${wall}   cpu ${cpu}`);
	row("per-container setup (2 ports, table present)", f(median(setup)), f(median(setupCpu)));
	row("per-container teardown", f(median(teardown)), f(median(teardownCpu)));
	row("growth setup    last-10 / first-10", x(growth(setup)), x(growth(setupCpu)));
	row("growth teardown last-10 / first-10", x(growth(teardown)), x(growth(teardownCpu)));
	console.log("  fresh process, table present:");
	console.log(`    import src/firewall                             ${f(pick(fresh, "load"))}`);
	console.log(`    openFirewall (dlopen libnftables, context)      ${f(pick(fresh, "open"))}`);
	console.log(`    first transaction                               ${f(pick(fresh, "first"))}`);
	console.log(`    second transaction                              ${f(pick(fresh, "second"))}`);
	console.log("  fresh process, no table yet (creates it):");
	console.log(`    first transaction                               ${f(pick(cold, "first"))}`);
	console.log(`  host with 20 more tables (400 chains)             ${f(busyTables)}`);
	console.log(`    first transaction of a fresh process there      ${f(pick(busyFresh, "first"))}`);
	console.log(`    and a 5000-element interval set in one of them  ${f(busySet)}`);
	console.log(`  peer: nft -f - per transaction                    ${f(median(cli))}`);
	console.log(
		`  ratio nft CLI / in-process (same transactions)    ${(median(cli) / median(ffiSame)).toFixed(1).padStart(7)}x`,
	);
} finally {
	fw.wipe();
	fw.close();
	mustSync(["ip", "netns", "del", ns]);
}
