// Result conversion between CNI versions: one internal model, read from and written to each.
import { describe, expect, test } from "bun:test";
import { parseResult, resultToVersion } from "../../src/cni";

const r100 = {
	cniVersion: "1.0.0",
	interfaces: [
		{ name: "cni0", mac: "aa:bb:cc:dd:ee:01" },
		{ name: "eth0", mac: "aa:bb:cc:dd:ee:02", mtu: 1500, sandbox: "/run/netns/x" },
	],
	ips: [
		{ interface: 1, address: "10.214.1.2/24", gateway: "10.214.1.1" },
		{ interface: 1, address: "fd00::2/64", gateway: "fd00::1" },
	],
	routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0", gw: "fd00::1", priority: 10 }],
	dns: { nameservers: ["10.214.1.1"] },
};

describe("result conversion", () => {
	test("1.0.0 -> model -> 0.4.0 adds ips[].version and drops 1.x interface fields", () => {
		const out = resultToVersion(parseResult(r100), "0.4.0");
		expect(out).toEqual({
			cniVersion: "0.4.0",
			interfaces: [
				{ name: "cni0", mac: "aa:bb:cc:dd:ee:01" },
				{ name: "eth0", mac: "aa:bb:cc:dd:ee:02", sandbox: "/run/netns/x" },
			],
			ips: [
				{ version: "4", interface: 1, address: "10.214.1.2/24", gateway: "10.214.1.1" },
				{ version: "6", interface: 1, address: "fd00::2/64", gateway: "fd00::1" },
			],
			routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0", gw: "fd00::1", priority: 10 }],
			dns: { nameservers: ["10.214.1.1"] },
		});
		// key order is Go's (version, interface, address, gateway)
		expect(Object.keys((out.ips as object[])[0] as object)).toEqual([
			"version",
			"interface",
			"address",
			"gateway",
		]);
	});

	test("0.3.1 -> 1.1.0 drops version; round trip to 0.3.1 is lossless", () => {
		const r031 = resultToVersion(parseResult(r100), "0.3.1");
		const up = resultToVersion(parseResult(r031), "1.1.0");
		expect(up.cniVersion).toBe("1.1.0");
		expect((up.ips as { version?: string }[]).every((i) => i.version === undefined)).toBe(true);
		expect(resultToVersion(parseResult(up), "0.3.1")).toEqual(r031);
	});

	test("1.0.0 and 1.1.0 keep mtu, and an interface index 0", () => {
		const out = resultToVersion(
			parseResult({ ...r100, ips: [{ interface: 0, address: "10.0.0.2/24" }] }),
			"1.1.0",
		);
		expect((out.interfaces as { mtu?: number }[])[1]?.mtu).toBe(1500);
		expect(out.ips).toEqual([{ interface: 0, address: "10.0.0.2/24" }]);
	});

	test("dns is always present, like Go's struct field", () => {
		const out = resultToVersion(parseResult({ cniVersion: "0.4.0", ips: [] }), "0.4.0");
		expect(out).toEqual({ cniVersion: "0.4.0", dns: {} });
	});

	test("0.2.0 reads ip4/ip6 with their routes, and writes the first address of each family", () => {
		const r020 = {
			cniVersion: "0.2.0",
			ip4: { ip: "10.1.0.5/16", gateway: "10.1.0.1", routes: [{ dst: "0.0.0.0/0" }] },
			ip6: { ip: "fd00::5/64" },
			dns: {},
		};
		const m = parseResult(r020);
		expect(m.ips).toEqual([
			{ address: "10.1.0.5/16", gateway: "10.1.0.1" },
			{ address: "fd00::5/64" },
		]);
		expect(resultToVersion(m, "0.4.0").ips).toEqual([
			{ version: "4", address: "10.1.0.5/16", gateway: "10.1.0.1" },
			{ version: "6", address: "fd00::5/64" },
		]);
		expect(resultToVersion(parseResult(r100), "0.2.0")).toEqual({
			cniVersion: "0.2.0",
			ip4: { ip: "10.214.1.2/24", gateway: "10.214.1.1", routes: [{ dst: "0.0.0.0/0" }] },
			ip6: { ip: "fd00::2/64", gateway: "fd00::1", routes: [{ dst: "::/0", gw: "fd00::1" }] },
			dns: { nameservers: ["10.214.1.1"] },
		});
	});

	test("a result without cniVersion takes the fallback; junk names the field", () => {
		expect(parseResult({ ips: [{ address: "10.0.0.2/8" }] }, "0.4.0").ips).toEqual([
			{ address: "10.0.0.2/8" },
		]);
		expect(() => parseResult({ cniVersion: "1.0.0", ips: [{ gateway: "x" }] })).toThrow(
			/ips\.0\.address/,
		);
	});
});
