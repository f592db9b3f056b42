// The netavark 1.4 protocol as podman 4.3.1 speaks it: every captured stdin (fixtures copied from
// notes/netavark-samples/, real podman <-> netavark exchanges) parses, and every captured setup
// stdout is rebuilt byte for byte from the same data; plus the error and version outputs.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
	containerAddresses,
	formatErrorOutput,
	formatSetupOutput,
	formatVersionOutput,
	joinErrors,
	rustTarget,
	type StatusBlock,
	statusBlock,
} from "../../src/netavark/result";
import { attachments, parseNetworkOptions } from "../../src/netavark/schema";
import { toNetworkDef } from "../../src/netconf/validate";

const SAMPLES = resolve(import.meta.dir, "../fixtures/netavark-samples");
const samples = readdirSync(SAMPLES)
	.sort()
	.map((name) => {
		const dir = `${SAMPLES}/${name}`;
		const argv = readFileSync(`${dir}/argv.txt`, "utf8");
		return {
			name,
			command: argv.includes("=setup") ? "setup" : "teardown",
			stdin: readFileSync(`${dir}/stdin.capture`, "utf8"),
			stdout: readFileSync(`${dir}/stdout.capture`, "utf8"),
			exit: readFileSync(`${dir}/exit-code.txt`, "utf8").trim(),
		};
	});

describe("captured exchanges", () => {
	test("there are the 14 netavark calls of the capture, 7 setups and 7 teardowns", () => {
		expect(samples).toHaveLength(14);
		expect(samples.filter((s) => s.command === "setup")).toHaveLength(7);
	});

	for (const s of samples) {
		test(`${s.name}: stdin parses${s.command === "setup" ? ", stdout is rebuilt byte for byte" : ""}`, () => {
			const opts = parseNetworkOptions(s.stdin);
			const raw = JSON.parse(s.stdin);
			expect(opts.container_id).toBe(raw.container_id);
			expect(Object.keys(opts.networks).sort()).toEqual(Object.keys(raw.networks).sort());
			expect(opts.port_mappings).toHaveLength(raw.port_mappings?.length ?? 0);
			expect(s.exit).toBe("0");
			if (s.command === "teardown") {
				expect(s.stdout).toBe(""); // teardown prints nothing
				return;
			}
			const captured = JSON.parse(s.stdout) as Record<string, StatusBlock>;
			const blocks: Record<string, StatusBlock> = {};
			for (const a of attachments(opts)) {
				const ifname = a.options.interface_name;
				// The MAC is the kernel's random choice unless podman asked for one.
				const mac = a.options.static_mac ?? captured[a.name]?.interfaces[ifname]?.mac_address;
				expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
				const addresses = containerAddresses(a.network, a.options.static_ips);
				blocks[a.name] = statusBlock(a.network, ifname, mac as string, addresses);
			}
			expect(formatSetupOutput(blocks)).toBe(s.stdout);
		});
	}

	test("what the samples show: port ranges as one entry, a host IP, a static MAC, dual stack", () => {
		const multi = parseNetworkOptions(
			samples.find((s) => s.name.includes("07-two-networks-udp-hostip-portrange-setup"))
				?.stdin as string,
		);
		expect(multi.port_mappings).toEqual([
			{ host_ip: "127.0.0.1", container_port: 80, host_port: 8082, range: 1, protocols: ["udp"] },
			{ host_ip: "", container_port: 83, host_port: 8083, range: 2, protocols: ["tcp"] },
		]);
		expect(attachments(multi).map((a) => [a.name, a.options.interface_name])).toEqual([
			["nvprobe-net", "eth0"],
			["podman", "eth1"],
		]);
		const dual = parseNetworkOptions(
			samples.find((s) => s.name.includes("11-dualstack-isolate-staticmac-setup"))?.stdin as string,
		);
		const [a] = attachments(dual);
		expect(a?.options.static_mac).toBe("02:11:22:33:44:55");
		expect(a?.network.options).toEqual({ isolate: "true" });
		expect(containerAddresses(a?.network as never, a?.options.static_ips ?? [])).toEqual([
			{ gateway: "10.123.0.1", ipnet: "10.123.0.2/24" },
			{ gateway: "fd12:3456:789a::1", ipnet: "fd12:3456:789a::2/64" },
		]);
	});
});

const base = () => ({
	container_id: "c".repeat(64),
	container_name: "tnc-ctr",
	networks: { "tnc-n": { static_ips: ["10.236.20.5"], interface_name: "eth0" } },
	network_info: {
		"tnc-n": {
			name: "tnc-n",
			id: "d".repeat(64),
			driver: "bridge",
			network_interface: "tncbr0",
			subnets: [{ subnet: "10.236.20.0/24", gateway: "10.236.20.1" }],
			ipv6_enabled: false,
			internal: false,
			dns_enabled: true,
		},
	},
});

describe("stdin", () => {
	test("unknown fields are ignored anywhere; null reads as absent; IPs come out canonical", () => {
		const doc = base() as Record<string, unknown>;
		doc.future_field = { x: 1 };
		doc.port_mappings = null;
		doc.dns_servers = ["1.1.1.1", "2606:4700:4700:0:0:0:0:1111"];
		(doc.networks as Record<string, Record<string, unknown>>)["tnc-n"] = {
			static_ips: ["10.236.20.5"],
			aliases: null,
			static_mac: "02-AA-bb-1-2-3",
			interface_name: "eth0",
			network_hint: "x",
		};
		const opts = parseNetworkOptions(JSON.stringify(doc));
		expect(opts.port_mappings).toEqual([]);
		expect(opts.dns_servers).toEqual(["1.1.1.1", "2606:4700:4700::1111"]);
		expect(opts.networks["tnc-n"]).toEqual({
			static_ips: ["10.236.20.5"],
			aliases: [],
			static_mac: "02:aa:bb:01:02:03",
			interface_name: "eth0",
		});
	});

	test("refusals are one line, prefixed as netavark prefixes them", () => {
		const cases: [unknown, string][] = [
			["{", "failed to load network options: malformed JSON: "],
			[
				{ ...base(), container_id: undefined },
				"failed to load network options: container_id: Invalid input",
			],
			[
				{
					...base(),
					port_mappings: [
						{ host_ip: "", container_port: 80, host_port: 70000, range: 1, protocol: "tcp" },
					],
				},
				"failed to load network options: port_mappings.0.host_port: ",
			],
			[
				{
					...base(),
					port_mappings: [
						{ host_ip: "", container_port: 80, host_port: 80, range: 1, protocol: "icmp" },
					],
				},
				'unknown port protocol "icmp"',
			],
			[
				{
					...base(),
					port_mappings: [
						{ host_ip: "", container_port: 80, host_port: 65535, range: 2, protocol: "tcp" },
					],
				},
				"port range 65535:80 (2 ports) goes past 65535",
			],
			[
				{ ...base(), networks: { "tnc-n": { static_mac: "zz", interface_name: "eth0" } } },
				"invalid mac address: zz",
			],
			[
				{
					...base(),
					network_info: { "tnc-n": { ...base().network_info["tnc-n"], driver: "ipvlan" } },
				},
				"network tnc-n: unsupported driver ipvlan",
			],
		];
		for (const [doc, want] of cases) {
			let message = "(accepted)";
			try {
				parseNetworkOptions(typeof doc === "string" ? doc : JSON.stringify(doc));
			} catch (e) {
				message = (e as Error).message;
			}
			expect(message.startsWith(want)).toBe(true);
			expect(message).not.toContain("\n");
		}
		const noOpts = parseNetworkOptions(JSON.stringify({ ...base(), networks: {} }));
		expect(() => attachments(noOpts)).toThrow("network options for network tnc-n not found");
		const noIf = parseNetworkOptions(
			JSON.stringify({ ...base(), networks: { "tnc-n": { interface_name: "" } } }),
		);
		expect(() => attachments(noIf)).toThrow("no container interface name given");
	});
});

describe("stdout", () => {
	const net = (over: Record<string, unknown>) =>
		toNetworkDef({ ...base().network_info["tnc-n"], ...over });

	test("no gateway is null, not absent (netavark's serde); DNS off gives empty lists", () => {
		const internal = net({
			internal: true,
			dns_enabled: false,
			subnets: [{ subnet: "10.236.20.0/24" }],
		});
		const b = statusBlock(
			internal,
			"eth0",
			"02:00:00:00:00:01",
			containerAddresses(internal, ["10.236.20.5"]),
		);
		expect(formatSetupOutput({ "tnc-n": b })).toBe(
			'{"tnc-n":{"dns_search_domains":[],"dns_server_ips":[],"interfaces":{"eth0":{"mac_address":"02:00:00:00:00:01","subnets":[{"gateway":null,"ipnet":"10.236.20.5/24"}]}}}}\n',
		);
	});

	test("IPAM none: no addresses, an empty subnets list", () => {
		const none = net({ subnets: [], dns_enabled: false, ipam_options: { driver: "none" } });
		const b = statusBlock(none, "eth0", "02:00:00:00:00:01", containerAddresses(none, []));
		expect(b.interfaces.eth0?.subnets).toEqual([]);
	});

	test("addresses pair with their subnet by containment, whatever order podman sent them in", () => {
		const dual = net({
			subnets: [
				{ subnet: "10.236.20.0/24", gateway: "10.236.20.1" },
				{ subnet: "fd36:20::/64", gateway: "fd36:20::1" },
			],
		});
		expect(containerAddresses(dual, ["fd36:20::5", "10.236.20.5"])).toEqual([
			{ gateway: "10.236.20.1", ipnet: "10.236.20.5/24" },
			{ gateway: "fd36:20::1", ipnet: "fd36:20::5/64" },
		]);
		expect(() => containerAddresses(dual, ["10.236.20.5"])).toThrow(
			"no static ip in subnet fd36:20::/64 of network tnc-n (got 10.236.20.5)",
		);
		expect(() => containerAddresses(dual, [])).toThrow("no static ips provided");
	});

	test("errors: one object, one key; several at once joined as netavark joins them", () => {
		expect(formatErrorOutput('IO error: "x"')).toBe('{"error":"IO error: \\"x\\""}\n');
		expect(joinErrors(["one"])).toBe("one");
		const many = joinErrors(["one", "two"]);
		expect(many).toBe("netavark encountered multiple errors:\n\t- one\n\t- two");
		expect(JSON.parse(formatErrorOutput(many))).toEqual({ error: many });
	});

	test("version: serde's pretty layout, as Debian's netavark 1.4.0 prints it", () => {
		const real = `{
  "version": "1.4.0",
  "commit": "",
  "build_time": "2023-02-03T11:31:00+00:00",
  "target": "x86_64-unknown-linux-gnu"
}
`;
		const out = formatVersionOutput({
			version: "1.4.0",
			commit: "",
			build_time: "2023-02-03T11:31:00+00:00",
			target: rustTarget("x64"),
		});
		expect(out).toBe(real);
		expect(rustTarget("arm64")).toBe("aarch64-unknown-linux-gnu");
	});
});
