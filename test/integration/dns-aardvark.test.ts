// Container DNS through the real aardvark-dns 1.4 (root). The test makes its own "host" network
// namespace with two bridges carrying gateway addresses, and container namespaces with veths on
// them (all with `ip`, named tdn…, subnets 10.237.0.0/16 and fd37::/16). updateDns runs here
// with aardvark's spawn put into that host namespace; the containers then ask their gateway with
// busybox nslookup. Everything is removed at the end and checked gone.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import {
	existsSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	writeFileSync,
} from "node:fs";
import { resolve } from "node:path";
import { inNetns } from "../../ffi/netns";
import { type DnsOptions, type DnsOutcome, updateDns } from "../../src/dns/manager";
import { DEFAULT_AARDVARK_BINARY } from "../../src/helpers/aardvark";
import { identify, isAlive, type ProcessIdentity } from "../../src/process/identity";
import { have } from "../lib/cli";
import { must, processesMatching, sh, until } from "../lib/host";

const ok = have(["ip", "busybox"], true) && have([DEFAULT_AARDVARK_BINARY]);

const TAG = `tdn${randomBytes(2).toString("hex")}`;
const HOST = `${TAG}-h`;
const C1 = `${TAG}-c1`; // net1, dual stack
const C2 = `${TAG}-c2`; // net1, IPv4 only
const C3 = `${TAG}-c3`; // net2
const ALL_NS = [HOST, C1, C2, C3];
const GW1 = "10.237.1.1";
const GW1_6 = "fd37:1::1";
const GW2 = "10.237.2.1";
const NET1 = { name: `${TAG}-net1`, gateways: [GW1, GW1_6] };
const NET2 = { name: `${TAG}-net2`, gateways: [GW2] };
const BASE = mkdtempSync(`/tmp/${TAG}-`);
const ROOT = resolve(import.meta.dir, "../..");

const hostNs = `/run/netns/${HOST}`;
const around = <T>(spawn: () => T): T => inNetns(hostNs, spawn);
const opts = (extra: DnsOptions = {}): DnsOptions => ({ around, ...extra });

function ip(...args: string[]): void {
	must(["ip", ...args]);
}

function ctr(
	id: string,
	name: string,
	network: typeof NET1,
	ipv4: string[],
	ipv6: string[] = [],
	aliases: string[] = [],
) {
	return {
		action: "add" as const,
		network,
		containerId: id,
		containerName: name,
		aliases,
		ipv4,
		ipv6,
	};
}
const rm = (id: string, network: { name: string }) => ({
	action: "remove" as const,
	network,
	containerId: id,
});

interface Answer {
	addrs: string[];
	nx: boolean;
	out: string;
}

/** One question from inside a container namespace; unanswered questions give up after 2 s. */
function ask(ns: string, name: string, type: "A" | "AAAA", server: string): Answer {
	const p = Bun.spawnSync(
		["ip", "netns", "exec", ns, "busybox", "nslookup", `-type=${type}`, name, server],
		{
			stdout: "pipe",
			stderr: "pipe",
			timeout: 2000,
		},
	);
	const out = p.stdout.toString() + p.stderr.toString();
	const answer = out.split("Non-authoritative answer:")[1] ?? "";
	return {
		addrs: [...answer.matchAll(/^Address: (\S+)$/gm)].map((m) => m[1] as string).sort(),
		nx: out.includes("NXDOMAIN"),
		out,
	};
}

/** Asks until `want` holds (a reload leaves aardvark briefly without sockets) or 10 s passed. */
async function askUntil(
	ns: string,
	name: string,
	type: "A" | "AAAA",
	server: string,
	want: (a: Answer) => boolean,
): Promise<Answer> {
	return until(() => ask(ns, name, type, server), 10_000, 50, want);
}
const resolvesTo = (addrs: string[]) => (a: Answer) =>
	JSON.stringify(a.addrs) === JSON.stringify(addrs);
const nxdomain = (a: Answer) => a.nx;

function cmdline(pid: number): string[] {
	return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
}

function netnsInode(path: string): number {
	return statSync(path).ino;
}

function aardvarksFor(dir: string): number[] {
	return processesMatching(`--config ${dir}/aardvark-dns `).filter((pid) => identify(pid));
}

function fileOf(dir: string, network: string): string {
	return readFileSync(`${dir}/aardvark-dns/${network}`, "utf8");
}

beforeAll(() => {
	if (!ok) return;
	for (const ns of ALL_NS) {
		ip("netns", "add", ns);
		ip("-n", ns, "link", "set", "lo", "up");
	}
	ip("-n", HOST, "link", "add", "tdnb1", "type", "bridge");
	ip("-n", HOST, "addr", "add", `${GW1}/24`, "dev", "tdnb1");
	ip("-n", HOST, "addr", "add", `${GW1_6}/64`, "dev", "tdnb1", "nodad");
	ip("-n", HOST, "link", "set", "tdnb1", "up");
	ip("-n", HOST, "link", "add", "tdnb2", "type", "bridge");
	ip("-n", HOST, "addr", "add", `${GW2}/24`, "dev", "tdnb2");
	ip("-n", HOST, "link", "set", "tdnb2", "up");
	const veth = (ns: string, host: string, bridge: string, addrs: string[]) => {
		ip("-n", HOST, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns);
		ip("-n", HOST, "link", "set", host, "master", bridge, "up");
		for (const a of addrs)
			ip("-n", ns, "addr", "add", a, "dev", "eth0", ...(a.includes(":") ? ["nodad"] : []));
		ip("-n", ns, "link", "set", "eth0", "up");
	};
	veth(C1, "tdnv1", "tdnb1", ["10.237.1.2/24", "fd37:1::2/64"]);
	veth(C2, "tdnv2", "tdnb1", ["10.237.1.3/24"]);
	veth(C3, "tdnv3", "tdnb2", ["10.237.2.2/24"]);
});

afterAll(async () => {
	if (!ok) return;
	// Only what this file started: aardvarks whose --config is under BASE.
	for (const pid of processesMatching(BASE)) {
		const who = identify(pid);
		if (who && cmdline(pid).some((a) => a.startsWith(BASE))) process.kill(pid, "SIGKILL");
	}
	for (const ns of ALL_NS) sh(["ip", "netns", "del", ns]);
	rmSync(BASE, { recursive: true, force: true });
	expect(processesMatching(BASE).filter((pid) => identify(pid))).toEqual([]);
	expect(sh(["ip", "netns", "list"]).out).not.toContain(TAG);
	expect(existsSync(BASE)).toBe(false);
});

describe.if(ok)("aardvark-dns through updateDns", () => {
	const DIR = `${BASE}/main`;
	let first: ProcessIdentity;

	test("the first add starts aardvark in the caller's netns; name and alias resolve (A and AAAA)", async () => {
		const out = await updateDns(
			DIR,
			ctr("id-one", "tdn-one", NET1, ["10.237.1.2"], ["fd37:1::2"], ["web1"]),
			opts(),
		);
		expect(out).toMatchObject({ aardvark: "started", networks: [NET1.name] });
		first = identify(out.pid as number) as ProcessIdentity;
		expect(first).toBeDefined();
		expect(cmdline(first.pid)).toEqual([
			DEFAULT_AARDVARK_BINARY,
			"--config",
			`${DIR}/aardvark-dns`,
			"-p",
			"53",
			"run",
		]);
		expect(readFileSync(`${DIR}/aardvark-dns/aardvark.pid`, "utf8")).toBe(String(first.pid));
		// Its network namespace is the test's host namespace, not ours.
		expect(statSync(`/proc/${first.pid}/ns/net`).ino).toBe(netnsInode(hostNs));
		expect(fileOf(DIR, NET1.name)).toBe(
			`${GW1},${GW1_6}\nid-one 10.237.1.2 fd37:1::2 tdn-one,web1\n`,
		);

		for (const name of ["tdn-one", "web1", "tdn-one.dns.podman", "web1.dns.podman"]) {
			expect((await askUntil(C1, name, "A", GW1, resolvesTo(["10.237.1.2"]))).addrs).toEqual([
				"10.237.1.2",
			]);
			expect((await askUntil(C1, name, "AAAA", GW1_6, resolvesTo(["fd37:1::2"]))).addrs).toEqual([
				"fd37:1::2",
			]);
		}
	});

	test("a second container (IPv4 only) is a SIGHUP to the same aardvark; they resolve each other", async () => {
		const out = await updateDns(
			DIR,
			ctr("id-two", "tdn-two", NET1, ["10.237.1.3"], [], ["web2"]),
			opts(),
		);
		expect(out).toMatchObject({ aardvark: "reloaded", pid: first.pid });
		expect(isAlive(first)).toBe(true);
		expect(fileOf(DIR, NET1.name)).toBe(
			`${GW1},${GW1_6}\nid-one 10.237.1.2 fd37:1::2 tdn-one,web1\nid-two 10.237.1.3  tdn-two,web2\n`,
		);
		expect((await askUntil(C1, "web2", "A", GW1, resolvesTo(["10.237.1.3"]))).addrs).toEqual([
			"10.237.1.3",
		]);
		expect((await askUntil(C2, "tdn-one", "A", GW1, resolvesTo(["10.237.1.2"]))).addrs).toEqual([
			"10.237.1.2",
		]);
		expect((await askUntil(C2, "tdn-one", "AAAA", GW1, resolvesTo(["fd37:1::2"]))).addrs).toEqual([
			"fd37:1::2",
		]);
		// The same add again changes nothing: no SIGHUP.
		const again = await updateDns(
			DIR,
			ctr("id-two", "tdn-two", NET1, ["10.237.1.3"], [], ["web2"]),
			opts(),
		);
		expect(again.aardvark).toBe("unchanged");
	});

	test("a second network keeps its own names", async () => {
		const out = await updateDns(DIR, ctr("id-three", "tdn-three", NET2, ["10.237.2.2"]), opts());
		expect(out).toMatchObject({
			aardvark: "reloaded",
			pid: first.pid,
			networks: [NET1.name, NET2.name].sort(),
		});
		expect((await askUntil(C3, "tdn-three", "A", GW2, resolvesTo(["10.237.2.2"]))).addrs).toEqual([
			"10.237.2.2",
		]);
		expect((await askUntil(C3, "tdn-one", "A", GW2, nxdomain)).nx).toBe(true);
		expect((await askUntil(C1, "tdn-three", "A", GW1, nxdomain)).nx).toBe(true);
		expect(ask(C1, "tdn-one", "A", GW1).addrs).toEqual(["10.237.1.2"]);
	});

	test("a removed container no longer resolves; the others still do", async () => {
		const out = await updateDns(DIR, rm("id-two", NET1), opts());
		expect(out).toMatchObject({ aardvark: "reloaded", pid: first.pid });
		expect((await askUntil(C1, "tdn-two", "A", GW1, nxdomain)).nx).toBe(true);
		expect((await askUntil(C1, "web2", "A", GW1, nxdomain)).nx).toBe(true);
		expect(ask(C1, "web1", "A", GW1).addrs).toEqual(["10.237.1.2"]);
		expect(fileOf(DIR, NET1.name)).not.toContain("id-two");
	});

	test("a killed aardvark is started again; a pid file naming someone else's process is not trusted", async () => {
		process.kill(first.pid, "SIGKILL");
		const bystander = Bun.spawn(["sleep", "60"], { stdio: ["ignore", "ignore", "ignore"] });
		const who = identify(bystander.pid) as ProcessIdentity;
		writeFileSync(`${DIR}/aardvark-dns/aardvark.pid`, String(bystander.pid));
		try {
			const out = await updateDns(DIR, ctr("id-two", "tdn-two", NET1, ["10.237.1.3"]), opts());
			expect(out.aardvark).toBe("started");
			expect(out.pid).not.toBe(bystander.pid);
			expect(isAlive(who)).toBe(true);
			expect(readFileSync(`${DIR}/aardvark-dns/aardvark.pid`, "utf8")).toBe(String(out.pid));
			expect((await askUntil(C1, "tdn-two", "A", GW1, resolvesTo(["10.237.1.3"]))).addrs).toEqual([
				"10.237.1.3",
			]);
			expect((await askUntil(C3, "tdn-three", "A", GW2, resolvesTo(["10.237.2.2"]))).addrs).toEqual(
				["10.237.2.2"],
			);
			first = identify(out.pid as number) as ProcessIdentity;
		} finally {
			bystander.kill("SIGKILL");
			await bystander.exited;
		}
	});

	test("the last removal stops aardvark and leaves what netavark leaves (the lock, an empty dir)", async () => {
		const out = await updateDns(
			DIR,
			[rm("id-one", NET1), rm("id-two", NET1), rm("id-three", NET2)],
			opts(),
		);
		expect(out).toEqual({ aardvark: "stopped", pid: null, networks: [] });
		expect(isAlive(first)).toBe(false);
		expect(aardvarksFor(DIR)).toEqual([]);
		expect(readdirSync(DIR).sort()).toEqual(["aardvark-dns", "aardvark.lock"]);
		expect(readdirSync(`${DIR}/aardvark-dns`)).toEqual([]);
		expect(ask(C1, "tdn-one", "A", GW1).addrs).toEqual([]);
		// Nothing left to remove: nothing to do.
		expect((await updateDns(DIR, rm("id-one", NET1), opts())).aardvark).toBe("none");
	});

	test("NETAVARK_DNS_PORT moves aardvark to another port", async () => {
		const dir = `${BASE}/port`;
		const env = { ...process.env, NETAVARK_DNS_PORT: "5354" };
		const out = await updateDns(
			dir,
			ctr("id-p", "tdn-port", NET1, ["10.237.1.2"], ["fd37:1::2"]),
			opts({ env }),
		);
		expect(out.aardvark).toBe("started");
		expect(cmdline(out.pid as number).slice(-3)).toEqual(["-p", "5354", "run"]);
		expect(
			(await askUntil(C1, "tdn-port", "A", `${GW1}:5354`, resolvesTo(["10.237.1.2"]))).addrs,
		).toEqual(["10.237.1.2"]);
		expect(
			(await askUntil(C1, "tdn-port", "AAAA", `[${GW1_6}]:5354`, resolvesTo(["fd37:1::2"]))).addrs,
		).toEqual(["fd37:1::2"]);
		expect(ask(C1, "tdn-port", "A", GW1).addrs).toEqual([]); // nobody on 53
		const bad = updateDns(dir, rm("id-p", NET1), opts({ env: { NETAVARK_DNS_PORT: "x" } }));
		await expect(bad).rejects.toThrow("Invalid NETAVARK_DNS_PORT x: invalid digit found in string");
		expect((await updateDns(dir, rm("id-p", NET1), opts({ env }))).aardvark).toBe("stopped");
		expect(aardvarksFor(dir)).toEqual([]);
	});
});

describe.if(ok)("many processes at once", () => {
	const DIR = `${BASE}/many`;
	const PORT = 5355;

	/** Runs updateDns in a separate bun process per change, all started together. */
	async function inProcesses(changes: unknown[]): Promise<DnsOutcome[]> {
		const script = `
			import { inNetns } from "${ROOT}/ffi/netns.ts";
			import { updateDns } from "${ROOT}/src/dns/manager.ts";
			const change = JSON.parse(process.env.TDN_CHANGE);
			const out = await updateDns(process.env.TDN_DIR, change, {
				port: ${PORT},
				around: (spawn) => inNetns("${hostNs}", spawn),
			});
			console.log(JSON.stringify(out));`;
		const procs = changes.map((c) =>
			Bun.spawn([process.execPath, "-e", script], {
				cwd: "/",
				env: { ...process.env, TDN_CHANGE: JSON.stringify(c), TDN_DIR: DIR },
				stdout: "pipe",
				stderr: "pipe",
			}),
		);
		return Promise.all(
			procs.map(async (p) => {
				const [out, err, code] = await Promise.all([
					new Response(p.stdout).text(),
					new Response(p.stderr).text(),
					p.exited,
				]);
				if (code !== 0) throw new Error(`updateDns process failed (${code}): ${err}`);
				return JSON.parse(out) as DnsOutcome;
			}),
		);
	}

	const add = (i: number) => ctr(`id-p${i}`, `tdn-p${i}`, NET1, [`10.237.1.${20 + i}`]);
	const entryIds = () =>
		fileOf(DIR, NET1.name)
			.split("\n")
			.slice(1)
			.filter(Boolean)
			.map((l) => l.split(" ")[0])
			.sort();

	test("10 adds at once: no entry lost, one aardvark started, every name resolves", async () => {
		const outs = await inProcesses(Array.from({ length: 10 }, (_, i) => add(i)));
		expect(outs.filter((o) => o.aardvark === "started")).toHaveLength(1);
		expect(outs.filter((o) => o.aardvark === "reloaded")).toHaveLength(9);
		expect(entryIds()).toEqual(Array.from({ length: 10 }, (_, i) => `id-p${i}`).sort());
		const daemons = aardvarksFor(DIR);
		expect(daemons).toHaveLength(1);
		for (const i of [0, 4, 9]) {
			const a = await askUntil(
				C1,
				`tdn-p${i}`,
				"A",
				`${GW1}:${PORT}`,
				resolvesTo([`10.237.1.${20 + i}`]),
			);
			expect(a.addrs).toEqual([`10.237.1.${20 + i}`]);
		}
	});

	test("5 removals and 5 adds at once, then 10 removals at once: the last one stops aardvark", async () => {
		const mixed = [
			...Array.from({ length: 5 }, (_, i) => rm(`id-p${i}`, NET1)),
			...Array.from({ length: 5 }, (_, i) => add(10 + i)),
		];
		await inProcesses(mixed);
		expect(entryIds()).toEqual(Array.from({ length: 10 }, (_, i) => `id-p${5 + i}`).sort());
		expect(aardvarksFor(DIR)).toHaveLength(1);
		expect(
			(await askUntil(C1, "tdn-p14", "A", `${GW1}:${PORT}`, resolvesTo(["10.237.1.34"]))).addrs,
		).toEqual(["10.237.1.34"]);
		expect((await askUntil(C1, "tdn-p0", "A", `${GW1}:${PORT}`, nxdomain)).nx).toBe(true);

		const outs = await inProcesses(Array.from({ length: 10 }, (_, i) => rm(`id-p${5 + i}`, NET1)));
		expect(outs.filter((o) => o.aardvark === "stopped")).toHaveLength(1);
		expect(outs.filter((o) => o.aardvark === "reloaded")).toHaveLength(9);
		expect(aardvarksFor(DIR)).toEqual([]);
		expect(readdirSync(`${DIR}/aardvark-dns`)).toEqual([]);
	});
});
