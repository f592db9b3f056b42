// podman 4.3 and ctrnet share network definition files (DESIGN 10): what ctrnet writes, podman
// lists and inspects as ctrnet meant it; what `podman network create` writes, ctrnet reads without
// a complaint and would write back byte for byte. The real podman, each side in a temp dir given
// to podman as --network-config-dir; podman only reads and writes files there.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { planNetworkCreate } from "../../src/netconf/create";
import { defaultNetworkDef } from "../../src/netconf/default";
import { formatNetworkDef } from "../../src/netconf/format";
import type { NetworkDef } from "../../src/netconf/schema";
import { listNetworkDefs, writeNetworkDef } from "../../src/netconf/store";
import { have } from "../lib/cli";

const ok = have(["podman"], true);
const dirs: string[] = [];
const tempDir = () => {
	const d = mkdtempSync(`${tmpdir()}/tnc-podman-`);
	dirs.push(d);
	return d;
};
afterAll(() => {
	for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function podman(
	dir: string,
	args: string[],
): Promise<{ code: number; out: string; err: string }> {
	const p = Bun.spawn(
		["podman", "--network-backend", "netavark", "--network-config-dir", dir, ...args],
		{
			stdout: "pipe",
			stderr: "pipe",
			env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/root" },
		},
	);
	const [out, err, code] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
		p.exited,
	]);
	return { code, out, err };
}

/** The fields podman's inspect shows, in ctrnet's in-memory form. */
function asPodmanShowsIt(def: NetworkDef): Record<string, unknown> {
	const out: Record<string, unknown> = {
		name: def.name,
		id: def.id,
		driver: def.driver,
		created: def.created,
		ipv6_enabled: def.ipv6_enabled,
		internal: def.internal,
		dns_enabled: def.dns_enabled,
	};
	// podman leaves out what Go's omitempty leaves out
	if (def.network_interface) out.network_interface = def.network_interface;
	if (def.subnets.length) out.subnets = def.subnets;
	if (Object.keys(def.labels).length) out.labels = def.labels;
	if (Object.keys(def.options).length) out.options = def.options;
	if (Object.keys(def.ipam_options).length) out.ipam_options = def.ipam_options;
	return out;
}

describe.if(ok)("podman 4.3 <-> ctrnet network files", () => {
	test("podman lists and inspects what ctrnet wrote", async () => {
		const dir = tempDir();
		const existing: NetworkDef[] = [];
		const create = (flags: Parameters<typeof planNetworkCreate>[0]) => {
			const def = planNetworkCreate(flags, existing, [], { hostLinks: ["lo"] });
			existing.push(def);
			writeNetworkDef(dir, def);
			return def;
		};
		const defs = [
			defaultNetworkDef("tnc-default", "tncbr-def", "10.236.40.0/24"),
			create({
				name: "tnc-dual",
				subnets: ["10.236.41.0/24", "fd36:41::/64"],
				gateways: ["10.236.41.254"],
				ipRanges: ["10.236.41.128/25"],
				labels: ["team=net", "tag"],
				options: ["mtu=1400", "isolate=1"],
				interfaceName: "tncbr-dual",
			}),
			create({
				name: "tnc-internal",
				subnets: ["10.236.42.0/24"],
				internal: true,
				disableDns: true,
			}),
			create({
				name: "tnc-v6auto",
				subnets: ["10.236.43.0/24"],
				ipv6: true,
				interfaceName: "tncbr-v6",
			}),
			create({
				name: "tnc-mac",
				driver: "macvlan",
				options: ["parent=lo", "mode=bridge"],
				subnets: ["10.236.44.0/24"],
			}),
			create({ name: "tnc-noipam", ipamDriver: "none", interfaceName: "tncbr-none" }),
		];
		writeNetworkDef(dir, defs[0] as NetworkDef);
		// a field ctrnet does not know is kept in the file and ignored by podman
		writeNetworkDef(
			dir,
			{ ...(defs[2] as NetworkDef), x_ctrnet_note: { kept: true } },
			{ replace: true },
		);
		expect(readFileSync(`${dir}/tnc-internal.json`, "utf8")).toContain('"x_ctrnet_note"');

		const ls = await podman(dir, ["network", "ls", "--format", "{{.Name}}"]);
		expect(ls.code).toBe(0);
		expect(ls.err).toBe(""); // podman warns on stderr about every file it skips
		expect(ls.out.trim().split("\n").sort()).toEqual([...defs.map((d) => d.name), "podman"].sort());

		for (const def of defs) {
			const r = await podman(dir, ["network", "inspect", def.name]);
			expect(r.err).toBe("");
			expect(r.code).toBe(0);
			const [shown] = JSON.parse(r.out) as Record<string, unknown>[];
			expect(shown).toEqual(asPodmanShowsIt(def));
		}

		// podman's own create sees ctrnet's subnets and bridges as taken
		const mine = await podman(dir, ["network", "create", "tnc-bypodman"]);
		expect(mine.err).toBe("");
		const added = listNetworkDefs(dir).networks.find((n) => n.name === "tnc-bypodman");
		const taken = defs.flatMap((d) => d.subnets.map((s) => s.subnet));
		expect(added?.subnets.map((s) => s.subnet).some((s) => taken.includes(s))).toBe(false);

		// and podman removes a file ctrnet wrote
		expect((await podman(dir, ["network", "rm", "tnc-mac"])).code).toBe(0);
		expect(readdirSync(dir).includes("tnc-mac.json")).toBe(false);
	}, 120_000);

	test("ctrnet reads what podman wrote, as it is, and would write it back byte for byte", async () => {
		const dir = tempDir();
		const creates = [
			[
				"--subnet",
				"10.236.45.0/24",
				"--subnet",
				"fd36:45::/64",
				"--gateway",
				"10.236.45.254",
				"--ip-range",
				"10.236.45.128/25",
				"--label",
				"a=b",
				"-o",
				"mtu=1400",
				"-o",
				"isolate=1",
				"tnc-p1",
			],
			["--internal", "--ipv6", "--subnet", "10.236.46.0/24", "tnc-p2"],
			["--internal", "--disable-dns", "--subnet", "10.236.47.0/24", "tnc-p3"],
			[
				"-d",
				"macvlan",
				"-o",
				"parent=lo",
				"-o",
				"mode=private",
				"--subnet",
				"10.236.48.0/24",
				"tnc-p4",
			],
			["--ipam-driver", "none", "tnc-p5"],
			["--subnet", "10.236.49.0/24", "--label", "x<y=&", "tnc-p6"],
		];
		for (const args of creates) {
			const r = await podman(dir, ["network", "create", ...args]);
			expect(r.err).toBe("");
			expect(r.code).toBe(0);
		}
		const { networks, problems } = listNetworkDefs(dir);
		expect(problems).toEqual([]);
		expect(networks.map((n) => n.name)).toEqual([
			"tnc-p1",
			"tnc-p2",
			"tnc-p3",
			"tnc-p4",
			"tnc-p5",
			"tnc-p6",
		]);
		for (const n of networks) {
			expect(formatNetworkDef(n)).toBe(readFileSync(`${dir}/${n.name}.json`, "utf8"));
		}
		const [p1, p2, p3, p4, p5] = networks;
		expect(p1?.subnets[0]?.lease_range).toEqual({
			start_ip: "10.236.45.129",
			end_ip: "10.236.45.255",
		});
		expect(p2?.subnets[1]?.subnet).toMatch(/^fd[0-9a-f]{2}:[0-9a-f:]+\/64$/);
		expect(p3?.subnets[0]?.gateway).toBeUndefined();
		expect(p4).toMatchObject({
			driver: "macvlan",
			network_interface: "lo",
			options: { mode: "private" },
		});
		expect(p5?.ipam_options).toEqual({ driver: "none" });
	}, 120_000);

	test("the host is untouched: podman made no link for these networks", () => {
		const links = readdirSync("/sys/class/net");
		expect(links.filter((l) => l.startsWith("tncbr"))).toEqual([]);
	});
});
