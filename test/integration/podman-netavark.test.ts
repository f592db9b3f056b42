// Real podman 4.3.1 (rootful) with ctrnet as its network backend: the built binary placed as
// `netavark` in a helper dir podman finds through CONTAINERS_HELPER_BINARY_DIR. Containers of a
// busybox image serve pages (busybox httpd) through published ports, resolve each other through
// aardvark-dns, join and leave networks, and the host is checked to be as before at the end.
// Networks are named tnv-*, their bridges tnvbr* (the network files are edited to say so), their
// subnets in 10.240.0.0/16 and fd40::/16; host ports are random in 20000-31999.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { openIptablesFirewall } from "../../src/firewall/iptables/driver";
import { networkHash } from "../../src/firewall/iptables/layout";
import { hostVethName } from "../../src/native/names";
import { have, requireBinary } from "../lib/cli";
import { aardvarksServing, sh, until } from "../lib/host";
import {
	busyboxTarball,
	curl,
	helperDir,
	hostPortsInUse,
	IMAGE,
	podmanRunner,
	RUN_LIMITS,
	removeDir,
	web,
} from "../lib/podman";

const ok = have(["podman", "runc", "conmon", "curl", "ncat", "nsenter", "ip", "nft"], true);

const TAG = randomBytes(2).toString("hex");
const NETS = {
	a: { name: `tnv-a${TAG}`, bridge: `tnvbra${TAG}`, subnet: "10.240.1.0/24" },
	b: { name: `tnv-b${TAG}`, bridge: `tnvbrb${TAG}`, subnet: "10.240.2.0/24" },
	ds: { name: `tnv-d${TAG}`, bridge: `tnvbrd${TAG}`, subnet: "10.240.6.0/24", v6: "fd40:6::/64" },
};
const ctr = (n: string) => `tnv-${n}-${TAG}`;
/**
 * 30 host ports from a random base in 20000-31999 (below the kernel's ephemeral range, so no
 * outgoing connection takes one meanwhile) that no socket on the host uses.
 */
function freePorts(): number {
	const used = hostPortsInUse("-Htuanl");
	for (;;) {
		const base = 20000 + Math.floor(Math.random() * 11970);
		if (!Array.from({ length: 30 }, (_, k) => base + k).some((p) => used.has(p))) return base;
	}
}
const BASE_PORT = freePorts();
const NETWORK_DIR = "/etc/containers/networks";
const RUN_DIR = "/run/containers/networks";

let helpers = "";
let image = { dir: "", tar: "" };
let podman: ReturnType<typeof podmanRunner>;

interface HostSnapshot {
	aardvark: number[];
	ctrnetTable: boolean;
	/** netavark's chains (the default driver's base, which stays as netavark leaves it). */
	netavarkChains: boolean;
}

/** Every container netns seen, with its interfaces: their host veths must be gone at the end. */
const seen = new Map<string, Set<string>>();

const aardvarkOfRunDir = () => aardvarksServing(`${RUN_DIR}/aardvark-dns`);

function snapshot(): HostSnapshot {
	return {
		aardvark: aardvarkOfRunDir(),
		ctrnetTable: sh(["nft", "list", "table", "inet", "ctrnet"]).code === 0,
		netavarkChains: netavarkRules().length > 0,
	};
}

/** Every iptables and ip6tables line that names a netavark chain. */
function netavarkRules(): string[] {
	return ["iptables-save", "ip6tables-save"]
		.flatMap((cmd) => sh([cmd]).out.split("\n"))
		.filter((l) => l.includes("NETAVARK"));
}

/** netavark's base stays after the last network; the test removes it if the host had none. */
function removeNetavarkBase(): void {
	if (before && !before.netavarkChains) {
		const fw = openIptablesFirewall();
		try {
			fw.wipe();
		} finally {
			fw.close();
		}
	}
}
let before: HostSnapshot;

async function createNetwork(n: { name: string; bridge: string; subnet: string; v6?: string }) {
	const args = ["network", "create", "--subnet", n.subnet];
	if (n.v6) args.push("--ipv6", "--subnet", n.v6);
	// podman reads every host interface's addresses; one deleted meanwhile (other tests) fails it.
	for (let attempt = 0; ; attempt++) {
		const r = await podman([...args, n.name]);
		if (r.code === 0) break;
		if (attempt >= 4 || !r.err.includes("no such network interface")) {
			throw new Error(`podman network create ${n.name}: ${r.err}`);
		}
	}
	// podman 4.3 names bridges podmanN; ours say whose they are.
	const file = `${NETWORK_DIR}/${n.name}.json`;
	const def = JSON.parse(readFileSync(file, "utf8"));
	def.network_interface = n.bridge;
	writeFileSync(file, JSON.stringify(def, null, 5));
}

async function run(name: string, args: string[], cmd: string[]) {
	return podman(["run", "-d", "--name", name, ...RUN_LIMITS, ...args, IMAGE, ...cmd]);
}

interface Inspected {
	sandbox: string;
	networks: Record<string, { IPAddress: string; MacAddress: string; GlobalIPv6Address: string }>;
}

async function inspect(name: string): Promise<Inspected> {
	const r = await podman(["inspect", name], { check: true });
	const [doc] = JSON.parse(r.out);
	const sandbox = doc.NetworkSettings.SandboxKey as string;
	seen.set(sandbox, (seen.get(sandbox) ?? new Set()).add("eth0"));
	return { sandbox: doc.NetworkSettings.SandboxKey, networks: doc.NetworkSettings.Networks };
}

/** The container's interface as the kernel has it: IPv4/IPv6 global addresses and MAC. */
function iface(sandbox: string, ifname: string): { mac: string; addrs: string[] } {
	seen.set(sandbox, (seen.get(sandbox) ?? new Set()).add(ifname));
	const r = sh(["nsenter", `--net=${sandbox}`, "ip", "-j", "addr", "show", ifname]);
	if (r.code !== 0) return { mac: "", addrs: [] };
	const [l] = JSON.parse(r.out);
	return {
		mac: l.address,
		addrs: l.addr_info
			.filter((a: { scope: string }) => a.scope === "global")
			.map((a: { local: string }) => a.local),
	};
}

describe.skipIf(!ok)("podman 4.3 with ctrnet as netavark (rootful)", () => {
	beforeAll(async () => {
		requireBinary();
		before = snapshot();
		helpers = helperDir(["netavark"]);
		podman = podmanRunner(helpers);
		image = busyboxTarball();
		await podman(["import", image.tar, IMAGE], { check: true });
		for (const n of Object.values(NETS)) await createNetwork(n);
	});

	afterAll(async () => {
		const names = sh(["podman", "ps", "-a", "--format", "{{.Names}}"]).out.split("\n");
		const mine = names.filter((n) => n.endsWith(`-${TAG}`));
		if (mine.length > 0) await podman(["rm", "-f", "-t", "0", ...mine]);
		for (const n of Object.values(NETS)) await podman(["network", "rm", "-f", n.name]);
		await podman(["rmi", "-f", IMAGE]);
		removeNetavarkBase();
		removeDir(helpers);
		removeDir(image.dir);
	});

	test("run -p serves a page through 127.0.0.1, a host address and the container IP; inspect matches eth0", async () => {
		const r = await run(
			ctr("web1"),
			["--network", NETS.a.name, "-p", `127.0.0.1:${BASE_PORT}:80`, "-p", `${BASE_PORT + 1}:80`],
			web("hello-web1"),
		);
		expect(r.err).toBe("");
		expect(r.code).toBe(0);
		const i = await inspect(ctr("web1"));
		const n = i.networks[NETS.a.name];
		expect(n?.IPAddress).toMatch(/^10\.240\.1\.\d+$/);
		const eth0 = iface(i.sandbox, "eth0");
		expect(eth0.addrs).toEqual([n?.IPAddress as string]);
		expect(eth0.mac).toBe(n?.MacAddress as string);
		expect(
			await until(() => curl(`http://127.0.0.1:${BASE_PORT}/`) === "hello-web1\n", 5000, 50),
		).toBe(true);
		expect(curl(`http://10.240.1.1:${BASE_PORT + 1}/`)).toBe("hello-web1\n");
		expect(curl(`http://${n?.IPAddress}/`)).toBe("hello-web1\n");
	});

	test("a second container on a taken port is refused, the first keeps it", async () => {
		const r = await run(
			ctr("web1b"),
			["--network", NETS.a.name, "-p", `127.0.0.1:${BASE_PORT}:80`],
			web("intruder"),
		);
		// As with netavark's iptables driver (the default), the rules would take a second DNAT; the
		// refusal is podman's own: web1's conmon holds the port open (podman's bindPorts), and
		// podman undoes the network setup it made. (NETAVARK_FW=nftables: ctrnet's map refuses.)
		expect(r.code).not.toBe(0);
		expect(r.err).toContain(`listen tcp4 127.0.0.1:${BASE_PORT}: bind: address already in use`);
		await podman(["rm", "-f", "-t", "0", ctr("web1b")]);
		expect(curl(`http://127.0.0.1:${BASE_PORT}/`)).toBe("hello-web1\n");
		// The failed setup left nothing: web1's veth is the bridge's only port.
		const ports = sh(["ip", "-o", "link", "show", "master", NETS.a.bridge]).out.trim().split("\n");
		expect(ports).toHaveLength(1);
	});

	test("network reload keeps IP, MAC and the port", async () => {
		const a = await inspect(ctr("web1"));
		const r = await podman(["network", "reload", ctr("web1")]);
		expect(r.code).toBe(0);
		const b = await inspect(ctr("web1"));
		expect(b.networks).toEqual(a.networks);
		expect(iface(b.sandbox, "eth0").mac).toBe(a.networks[NETS.a.name]?.MacAddress as string);
		expect(curl(`http://127.0.0.1:${BASE_PORT}/`)).toBe("hello-web1\n");
	});

	test("DNS: names and --network-alias resolve between containers; resolv.conf names the gateway", async () => {
		const r = await run(
			ctr("dns2"),
			["--network", NETS.a.name, "--network-alias", "tnvalias"],
			["/bin/busybox", "sleep", "600"],
		);
		expect(r.code).toBe(0);
		const web1 = (await inspect(ctr("web1"))).networks[NETS.a.name]?.IPAddress as string;
		const dns2 = (await inspect(ctr("dns2"))).networks[NETS.a.name]?.IPAddress as string;
		const resolv = await podman(["exec", ctr("dns2"), "/bin/busybox", "cat", "/etc/resolv.conf"]);
		expect(resolv.out).toContain("search dns.podman");
		expect(resolv.out.split("\n")).toContain("nameserver 10.240.1.1");
		const byName = await podman(["exec", ctr("dns2"), "/bin/busybox", "nslookup", ctr("web1")]);
		expect(byName.out).toContain(`Address: ${web1}`);
		const byAlias = await podman(["exec", ctr("web1"), "/bin/busybox", "nslookup", "tnvalias"]);
		expect(byAlias.out).toContain(`Address: ${dns2}`);
		const file = readFileSync(`${RUN_DIR}/aardvark-dns/${NETS.a.name}`, "utf8");
		expect(file.split("\n")[0]).toBe("10.240.1.1");
		expect(aardvarkOfRunDir()).toHaveLength(1);
	});

	test("network connect / disconnect: eth1 comes and goes, the ports stay", async () => {
		expect((await podman(["network", "connect", NETS.b.name, ctr("web1")])).code).toBe(0);
		const i = await inspect(ctr("web1"));
		const b = i.networks[NETS.b.name];
		expect(b?.IPAddress).toMatch(/^10\.240\.2\.\d+$/);
		expect(iface(i.sandbox, "eth1").addrs).toEqual([b?.IPAddress as string]);
		expect(curl(`http://${b?.IPAddress}/`)).toBe("hello-web1\n");
		expect(curl(`http://127.0.0.1:${BASE_PORT}/`)).toBe("hello-web1\n");
		expect((await podman(["network", "disconnect", NETS.b.name, ctr("web1")])).code).toBe(0);
		expect(iface(i.sandbox, "eth1").addrs).toEqual([]);
		expect(sh(["ip", "link", "show", NETS.b.bridge]).code).not.toBe(0); // last one: bridge gone
		expect(curl(`http://127.0.0.1:${BASE_PORT}/`)).toBe("hello-web1\n");
	});

	test("two networks with static IP + MAC, a port range and a UDP port on 127.0.0.1", async () => {
		const p = BASE_PORT + 10;
		const r = await run(
			ctr("multi"),
			[
				"--network",
				`${NETS.a.name}:ip=10.240.1.50,mac=02:40:01:00:00:50`,
				"--network",
				`${NETS.b.name}:ip=10.240.2.50,mac=02:40:02:00:00:50`,
				"-p",
				`${p}-${p + 1}:80-81`,
				"-p",
				`127.0.0.1:${p + 2}:5353/udp`,
			],
			[
				"/bin/busybox",
				"sh",
				"-c",
				"mkdir /tmp/a /tmp/b; echo port80 > /tmp/a/index.html; echo port81 > /tmp/b/index.html; /bin/busybox httpd -p 81 -h /tmp/b; exec /bin/busybox httpd -f -p 80 -h /tmp/a",
			],
		);
		expect(r.err).toBe("");
		const i = await inspect(ctr("multi"));
		// podman 4.3 names the interfaces while iterating a Go map: which network is eth0 varies.
		const both = [iface(i.sandbox, "eth0"), iface(i.sandbox, "eth1")].sort((x, y) =>
			x.mac.localeCompare(y.mac),
		);
		expect(both).toEqual([
			{ mac: "02:40:01:00:00:50", addrs: ["10.240.1.50"] },
			{ mac: "02:40:02:00:00:50", addrs: ["10.240.2.50"] },
		]);
		expect(await until(() => curl(`http://127.0.0.1:${p}/`) === "port80\n", 5000, 50)).toBe(true);
		expect(await until(() => curl(`http://127.0.0.1:${p + 1}/`) === "port81\n", 5000, 50)).toBe(
			true,
		);
		// UDP: a listener in the container's netns, datagrams to 127.0.0.1 on the host until one
		// arrives (the listener may take a moment to bind on a busy host).
		const listener = Bun.spawn(
			[
				"nsenter",
				`--net=${i.sandbox}`,
				"timeout",
				"15",
				"ncat",
				"-u",
				"-l",
				"-p",
				"5353",
				"--recv-only",
			],
			{ stdout: "pipe", stderr: "ignore" },
		);
		let heard = "";
		const reading = (async () => {
			for await (const chunk of listener.stdout) heard += new TextDecoder().decode(chunk);
		})();
		const word = `udp-${TAG}`;
		await until(
			() => sh(["nsenter", `--net=${i.sandbox}`, "ss", "-Huln", "sport = :5353"]).out.trim() !== "",
			5000,
			50,
		);
		const arrived = await until(
			() => {
				if (!heard.includes(word)) {
					sh(["ncat", "-u", "--send-only", "127.0.0.1", String(p + 2)], { stdin: `${word}\n` });
				}
				return heard.includes(word);
			},
			5000,
			50,
		);
		listener.kill();
		await reading;
		expect(arrived).toBe(true);
	});

	test("dual stack: the container is reachable over IPv6, directly and through a published port", async () => {
		const p = BASE_PORT + 20;
		const r = await run(ctr("ds"), ["--network", NETS.ds.name, "-p", `${p}:80`], web("hello-v6"));
		expect(r.err).toBe("");
		const i = await inspect(ctr("ds"));
		const n = i.networks[NETS.ds.name];
		expect(n?.GlobalIPv6Address).toMatch(/^fd40:6::/);
		expect(iface(i.sandbox, "eth0").addrs.sort()).toEqual(
			[n?.IPAddress as string, n?.GlobalIPv6Address as string].sort(),
		);
		expect(
			await until(() => curl(`http://[${n?.GlobalIPv6Address}]/`) === "hello-v6\n", 5000, 50),
		).toBe(true);
		expect(curl(`http://[fd40:6::1]:${p}/`)).toBe("hello-v6\n");
		expect(curl(`http://10.240.6.1:${p}/`)).toBe("hello-v6\n");
	});

	test("8 containers started at once get 8 addresses", async () => {
		const names = Array.from({ length: 8 }, (_, k) => ctr(`par${k}`));
		const results = await Promise.all(
			names.map((n) => run(n, ["--network", NETS.b.name], ["/bin/busybox", "sleep", "600"])),
		);
		expect(results.map((r) => r.code)).toEqual(names.map(() => 0));
		const ips = await Promise.all(
			names.map(async (n) => (await inspect(n)).networks[NETS.b.name]?.IPAddress),
		);
		expect(new Set(ips).size).toBe(8);
		for (const [k, n] of names.entries()) {
			const s = (await inspect(n)).sandbox;
			expect(iface(s, "eth0").addrs).toEqual([ips[k] as string]);
		}
		const rm = await podman(["rm", "-f", "-t", "0", ...names]);
		expect(rm.code).toBe(0);
	});

	test("after rm of every container and network the host is as before", async () => {
		const names = sh(["podman", "ps", "-a", "--format", "{{.Names}}"]).out.split("\n");
		const mine = names.filter((n) => n.endsWith(`-${TAG}`));
		expect((await podman(["rm", "-f", "-t", "0", ...mine])).code).toBe(0);
		for (const n of Object.values(NETS)) {
			expect((await podman(["network", "rm", n.name])).code).toBe(0);
		}
		const after = snapshot();
		const links = sh(["ip", "-o", "link", "show"]).out;
		expect(links).not.toContain("tnvbr");
		expect(seen.size).toBeGreaterThanOrEqual(12);
		for (const [sandbox, ifnames] of seen) {
			expect(existsSync(sandbox)).toBe(false);
			for (const ifname of ifnames) {
				for (const attempt of [0, 1, 2, 3]) {
					expect(links).not.toContain(`${hostVethName(sandbox, ifname, attempt)}@`);
				}
			}
		}
		expect(await until(() => aardvarkOfRunDir().length === before.aardvark.length, 5000, 50)).toBe(
			true,
		);
		const table = sh(["nft", "list", "table", "inet", "ctrnet"]).out;
		expect(table).not.toContain("tnv");
		expect(table).not.toContain("10.240.");
		if (!before.ctrnetTable) expect(after.ctrnetTable).toBe(false);
		// netavark's layout (the default driver): nothing of these networks or their containers;
		// netavark's own base chains stay, as netavark leaves them.
		for (const [cmd, table] of [
			["iptables", "nat"],
			["iptables", "filter"],
			["ip6tables", "nat"],
			["ip6tables", "filter"],
		] as const) {
			const rules = sh([cmd, "-t", table, "-S"]).out;
			expect(rules).not.toMatch(/10\.240\.|fd40:|tnv/);
			for (const n of Object.values(NETS)) expect(rules).not.toContain(networkHash(n.name));
		}
		removeNetavarkBase();
		if (!before.netavarkChains) expect(netavarkRules()).toEqual([]);
		for (const n of Object.values(NETS)) {
			expect(readdirSync(`${RUN_DIR}/aardvark-dns`).includes(n.name)).toBe(false);
			// The networks' lock files stay by design (src/native/lock.ts); these names were ours.
			rmSync(`${RUN_DIR}/ctrnet-locks/${n.name}.lock`, { force: true });
		}
	});
});
