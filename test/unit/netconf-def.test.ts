// Network definitions in podman 4's JSON: parsing, the checks (one line each), podman's file layout
// byte for byte, unknown fields kept, and the file store in a temp dir.
import { afterEach, describe, expect, test } from "bun:test";
import {
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	statSync,
	symlinkSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { defaultNetworkDef } from "../../src/netconf/default";
import { formatNetworkDef } from "../../src/netconf/format";
import { PODMAN_DEFAULT_ID } from "../../src/netconf/schema";
import {
	getNetworkDef,
	listNetworkDefs,
	removeNetworkDef,
	writeNetworkDef,
} from "../../src/netconf/store";
import { parseNetworkDef } from "../../src/netconf/validate";

// As podman 4.3.1 wrote it for `network create --subnet 10.236.1.0/24 --subnet fd36:1::/64
// --gateway 10.236.1.254 --ip-range 10.236.1.128/25 --label a=b -o mtu=1400 -o isolate=1 tnc-a`.
const PODMAN_FILE = `{
     "name": "tnc-a",
     "id": "829fec36d16b791d30f0b7f573cc90f212ac5f1391cb502c6303716923285c05",
     "driver": "bridge",
     "network_interface": "podman1",
     "created": "2026-11-30T05:42:32.290393964Z",
     "subnets": [
          {
               "subnet": "10.236.1.0/24",
               "gateway": "10.236.1.254",
               "lease_range": {
                    "start_ip": "10.236.1.129",
                    "end_ip": "10.236.1.255"
               }
          },
          {
               "subnet": "fd36:1::/64",
               "gateway": "fd36:1::1"
          }
     ],
     "ipv6_enabled": true,
     "internal": false,
     "dns_enabled": true,
     "labels": {
          "a": "b"
     },
     "options": {
          "isolate": "true",
          "mtu": "1400"
     },
     "ipam_options": {
          "driver": "host-local"
     }
}
`;

const ID = "a".repeat(64);
const net = (over: Record<string, unknown> = {}) =>
	JSON.stringify({
		name: "tnc-n",
		id: ID,
		driver: "bridge",
		network_interface: "tncbr0",
		created: "2026-11-30T05:42:32.290393964Z",
		subnets: [{ subnet: "10.236.2.0/24", gateway: "10.236.2.1" }],
		ipv6_enabled: false,
		internal: false,
		dns_enabled: false,
		ipam_options: { driver: "host-local" },
		...over,
	});

describe("parse and format", () => {
	test("a file podman wrote is read as it is and written back byte for byte", () => {
		const def = parseNetworkDef(PODMAN_FILE);
		expect(def.name).toBe("tnc-a");
		expect(def.driver).toBe("bridge");
		expect(def.network_interface).toBe("podman1");
		expect(def.subnets).toEqual([
			{
				subnet: "10.236.1.0/24",
				gateway: "10.236.1.254",
				lease_range: { start_ip: "10.236.1.129", end_ip: "10.236.1.255" },
			},
			{ subnet: "fd36:1::/64", gateway: "fd36:1::1" },
		]);
		expect(def.labels).toEqual({ a: "b" });
		expect(def.options).toEqual({ isolate: "true", mtu: "1400" });
		expect(formatNetworkDef(def)).toBe(PODMAN_FILE);
	});

	test("unknown fields survive a rewrite, at every level", () => {
		const text = net({
			network_dns_servers: ["1.1.1.1"],
			x_future: { deep: [1, 2] },
			subnets: [
				{
					subnet: "10.236.2.0/24",
					gateway: "10.236.2.1",
					vlan_hint: 7,
					lease_range: { start_ip: "10.236.2.10", end_ip: "10.236.2.20", note: "kept" },
				},
			],
		});
		const def = parseNetworkDef(text);
		const again = JSON.parse(formatNetworkDef(def));
		expect(again.network_dns_servers).toEqual(["1.1.1.1"]);
		expect(again.x_future).toEqual({ deep: [1, 2] });
		expect(again.subnets[0].vlan_hint).toBe(7);
		expect(again.subnets[0].lease_range.note).toBe("kept");
		// and podman's own keys come first, in podman's order
		expect(Object.keys(again).slice(0, 9)).toEqual([
			"name",
			"id",
			"driver",
			"network_interface",
			"created",
			"subnets",
			"ipv6_enabled",
			"internal",
			"dns_enabled",
		]);
	});

	test("podman's in-memory defaults: canonical subnets, a gateway unless internal without DNS", () => {
		const def = parseNetworkDef(
			net({ subnets: [{ subnet: "10.236.2.77/24" }, { subnet: "FD36:0002:0::/64" }] }),
		);
		expect(def.subnets).toEqual([
			{ subnet: "10.236.2.0/24", gateway: "10.236.2.1" },
			{ subnet: "fd36:2::/64", gateway: "fd36:2::1" },
		]);
		expect(def.ipv6_enabled).toBe(true);
		const internal = parseNetworkDef(
			net({ internal: true, subnets: [{ subnet: "10.236.2.0/24" }] }),
		);
		expect(internal.subnets[0]?.gateway).toBeUndefined();
		const internalDns = parseNetworkDef(
			net({ internal: true, dns_enabled: true, subnets: [{ subnet: "10.236.2.0/24" }] }),
		);
		expect(internalDns.subnets[0]?.gateway).toBe("10.236.2.1");
		// Go's zero values for what a hand-written file leaves out
		const bare = parseNetworkDef(JSON.stringify({ name: "tnc-b", id: ID, driver: "macvlan" }));
		expect(bare).toMatchObject({
			network_interface: "",
			subnets: [],
			internal: false,
			dns_enabled: false,
			labels: {},
			options: {},
			ipam_options: {},
		});
	});

	test("every refusal is one line that says what is wrong", () => {
		const cases: [string, RegExp][] = [
			["{not json", /^malformed JSON: /],
			[net({ driver: "ipvlan" }), /^unsupported driver ipvlan$/],
			[net({ name: "bad name" }), /^network name bad name invalid: names must match/],
			[net({ name: "-x" }), /^network name -x invalid/],
			[net({ id: "someID" }), /^invalid network ID "someID"$/],
			[
				net({ subnets: [{ subnet: "10.236.9.0/24", gateway: "10.236.100.1" }] }),
				/^gateway 10.236.100.1 not in subnet 10.236.9.0\/24$/,
			],
			[
				net({
					subnets: [
						{
							subnet: "10.236.9.0/24",
							lease_range: { start_ip: "10.236.8.1", end_ip: "10.236.9.9" },
						},
					],
				}),
				/^lease range start ip 10.236.8.1 not in subnet 10.236.9.0\/24$/,
			],
			[
				net({ subnets: [{ subnet: "10.236.9.0/24", lease_range: { end_ip: "10.236.10.1" } }] }),
				/^lease range end ip 10.236.10.1 not in subnet/,
			],
			[
				net({
					subnets: [
						{
							subnet: "10.236.9.0/24",
							lease_range: { start_ip: "10.236.9.20", end_ip: "10.236.9.10" },
						},
					],
				}),
				/^lease range start ip 10.236.9.20 is after end ip 10.236.9.10/,
			],
			[
				net({ subnets: [{ subnet: "10.236.9.0/24" }, { subnet: "10.236.9.128/25" }] }),
				/^subnets 10.236.9.0\/24 and 10.236.9.128\/25 of network tnc-n overlap$/,
			],
			[net({ subnets: [{ subnet: "10.236.9.0/33" }] }), /^invalid CIDR address: 10.236.9.0\/33$/],
			[net({ subnets: [{ subnet: "10.236.9.0/24", gateway: "x" }] }), /^invalid gateway "x"$/],
			[net({ ipam_options: { driver: "dhcp" } }), /^dhcp ipam driver is not yet supported$/],
			[net({ ipam_options: { driver: "foo" } }), /^unsupported ipam driver "foo"$/],
			[net({ created: "yesterday" }), /^invalid created time "yesterday"$/],
			[net({ internal: "no" }), /^invalid network definition: internal: /],
			[JSON.stringify({ name: "x" }), /^invalid network definition: id: /],
		];
		for (const [text, want] of cases) {
			let message = "";
			try {
				parseNetworkDef(text);
			} catch (e) {
				message = (e as Error).message;
			}
			expect(message).toMatch(want);
			expect(message).not.toContain("\n");
		}
	});

	test("Go's encoder escapes: HTML characters in strings come out as podman writes them", () => {
		const def = parseNetworkDef(net({ labels: { "a<b": "x&y>" } }));
		expect(formatNetworkDef(def)).toContain('"a\\u003cb": "x\\u0026y\\u003e"');
		expect(parseNetworkDef(formatNetworkDef(def)).labels).toEqual({ "a<b": "x&y>" });
	});
});

describe("default network", () => {
	test("ctrnet's default: bridge ctrnet0, gateway first address, DNS off, a stable ID", () => {
		const now = new Date("2026-01-02T03:04:05.678Z");
		const d = defaultNetworkDef("ctrnet", "ctrnet0", "10.90.0.0/16", now);
		expect(d).toMatchObject({
			name: "ctrnet",
			driver: "bridge",
			network_interface: "ctrnet0",
			created: "2026-01-02T03:04:05.678Z",
			subnets: [{ subnet: "10.90.0.0/16", gateway: "10.90.0.1" }],
			ipv6_enabled: false,
			internal: false,
			dns_enabled: false,
			ipam_options: { driver: "host-local" },
		});
		expect(d.id).toMatch(/^[0-9a-f]{64}$/);
		expect(defaultNetworkDef("ctrnet", "ctrnet0", "10.90.0.0/16").id).toBe(d.id);
		expect(defaultNetworkDef("other", "ctrnet0", "10.90.0.0/16").id).not.toBe(d.id);
		expect(defaultNetworkDef("podman", "podman0", "10.88.0.0/16").id).toBe(PODMAN_DEFAULT_ID);
		const dual = defaultNetworkDef("ctrnet", "ctrnet0", ["10.90.0.0/16", "fd90::/64"]);
		expect(dual.ipv6_enabled).toBe(true);
		expect(dual.subnets[1]).toEqual({ subnet: "fd90::/64", gateway: "fd90::1" });
		// what it writes is read back unchanged
		expect(parseNetworkDef(formatNetworkDef(d))).toEqual(d);
	});
});

describe("store", () => {
	const dirs: string[] = [];
	afterEach(() => {
		for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
	});
	const fresh = () => {
		const d = mkdtempSync(`${tmpdir()}/tnc-store-`);
		dirs.push(d);
		return `${d}/networks`;
	};
	const def = (name: string, subnet: string, id = ID) =>
		parseNetworkDef(net({ name, id, subnets: [{ subnet }] }));

	test("write (0644, atomic, no temp left), get by name or ID prefix, list, remove", () => {
		const dir = fresh();
		const a = def("tnc-a", "10.236.3.0/24", `ab${"0".repeat(62)}`);
		const b = def("tnc-b", "10.236.4.0/24", `ac${"0".repeat(62)}`);
		const path = writeNetworkDef(dir, a);
		writeNetworkDef(dir, b);
		expect(path).toBe(`${dir}/tnc-a.json`);
		expect(statSync(path).mode & 0o777).toBe(0o644);
		expect(readdirSync(dir).sort()).toEqual(["tnc-a.json", "tnc-b.json"]);
		expect(readFileSync(path, "utf8")).toBe(formatNetworkDef(a));
		expect(getNetworkDef(dir, "tnc-b")).toEqual(b);
		expect(getNetworkDef(dir, "ab").name).toBe("tnc-a");
		expect(() => getNetworkDef(dir, "a")).toThrow("more than one result for network ID a");
		expect(() => getNetworkDef(dir, "tnc-zz")).toThrow(
			"unable to find network with name or ID tnc-zz: network not found",
		);
		expect(listNetworkDefs(dir).networks.map((n) => n.name)).toEqual(["tnc-a", "tnc-b"]);
		removeNetworkDef(dir, "tnc-a");
		expect(() => removeNetworkDef(dir, "tnc-a")).toThrow(/network not found/);
		expect(listNetworkDefs(dir).networks.map((n) => n.name)).toEqual(["tnc-b"]);
	});

	test("a create never replaces; a rewrite does, and replaces a symlink, not its target", () => {
		const dir = fresh();
		writeNetworkDef(dir, def("tnc-a", "10.236.3.0/24"));
		expect(() => writeNetworkDef(dir, def("tnc-a", "10.236.5.0/24"))).toThrow(
			"network name tnc-a already used: network already exists",
		);
		expect(getNetworkDef(dir, "tnc-a").subnets[0]?.subnet).toBe("10.236.3.0/24");
		writeNetworkDef(dir, def("tnc-a", "10.236.5.0/24"), { replace: true });
		expect(getNetworkDef(dir, "tnc-a").subnets[0]?.subnet).toBe("10.236.5.0/24");

		const target = `${dir}/../target`;
		writeFileSync(target, "untouched");
		symlinkSync(target, `${dir}/tnc-l.json`);
		writeNetworkDef(dir, def("tnc-l", "10.236.6.0/24"), { replace: true });
		expect(readFileSync(target, "utf8")).toBe("untouched");
		expect(getNetworkDef(dir, "tnc-l").name).toBe("tnc-l");
		expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);
	});

	test("a bad file is reported and skipped; the others are listed; other files are ignored", () => {
		const dir = fresh();
		writeNetworkDef(dir, def("tnc-a", "10.236.3.0/24"));
		writeFileSync(`${dir}/tnc-broken.json`, "{");
		writeFileSync(`${dir}/tnc-other.json`, net({ name: "tnc-mismatch" }));
		writeFileSync(
			`${dir}/tnc-gw.json`,
			net({ name: "tnc-gw", subnets: [{ subnet: "10.236.7.0/24", gateway: "10.1.1.1" }] }),
		);
		writeFileSync(`${dir}/netavark.lock`, "");
		writeFileSync(`${dir}/notes.txt`, "{");
		const { networks, problems } = listNetworkDefs(dir);
		expect(networks.map((n) => n.name)).toEqual(["tnc-a"]);
		expect(problems).toEqual([
			{ file: `${dir}/tnc-broken.json`, message: expect.stringMatching(/^malformed JSON/) },
			{ file: `${dir}/tnc-gw.json`, message: "gateway 10.1.1.1 not in subnet 10.236.7.0/24" },
			{
				file: `${dir}/tnc-other.json`,
				message: "network name tnc-mismatch does not match file name tnc-other.json",
			},
		]);
		expect(() => getNetworkDef(dir, "tnc-broken")).toThrow(
			`${dir}/tnc-broken.json: malformed JSON`,
		);
		expect(listNetworkDefs(`${dir}/missing`)).toEqual({ networks: [], problems: [] });
	});

	test("names that could leave the dir are refused before any path is made", () => {
		const dir = fresh();
		const bad = { ...def("tnc-a", "10.236.3.0/24"), name: "../x" };
		expect(() => writeNetworkDef(dir, bad)).toThrow(/network name \.\.\/x invalid/);
		expect(() => removeNetworkDef(dir, "../x")).toThrow(/invalid/);
	});
});
