import { describe, expect, test } from "bun:test";
import { sockaddr } from "../../src/ip/address";
import { assignHostPorts } from "../../src/ports/assign";
import { checkMappings, expandRequest, formatMapping, parsePublish } from "../../src/ports/parse";

describe("parsePublish", () => {
	const cases: [string, object][] = [
		["80", { hostIP: "", hostPort: 0, containerPort: 80, count: 1, protocol: "tcp" }],
		["8080:80", { hostIP: "", hostPort: 8080, containerPort: 80, count: 1, protocol: "tcp" }],
		["8080:80/TCP", { hostPort: 8080, protocol: "tcp" }],
		["80/udp", { hostPort: 0, containerPort: 80, protocol: "udp" }],
		["8080:80/Sctp", { protocol: "sctp" }],
		["127.0.0.1:8080:80", { hostIP: "127.0.0.1", hostPort: 8080 }],
		[
			"127.0.0.1::8080/udp",
			{ hostIP: "127.0.0.1", hostPort: 0, containerPort: 8080, protocol: "udp" },
		],
		[":8080", { hostIP: "", hostPort: 0, containerPort: 8080 }],
		["0.0.0.0:8080:80", { hostIP: "", hostPort: 8080 }],
		["[::1]:8080:80/udp", { hostIP: "::1", hostPort: 8080, containerPort: 80, protocol: "udp" }],
		["[::1]::80", { hostIP: "::1", hostPort: 0 }],
		["80-82", { hostPort: 0, containerPort: 80, count: 3 }],
		["8080-8082:80-82", { hostPort: 8080, containerPort: 80, count: 3 }],
	];
	for (const [spec, want] of cases) {
		test(spec, () => expect(parsePublish(spec)).toMatchObject(want));
	}
	const bad = [
		"",
		"abc",
		"0",
		"65536",
		"80/icmp",
		"1.2.3:80:80",
		"::1:8080:80",
		"[::1]8080:80",
		"[1.2.3.4]:80:80",
		"8080-8081:80",
		"82-80",
		"1:2:3:4",
		"999.1.1.1:80:80",
	];
	for (const spec of bad) {
		test(`refuses ${JSON.stringify(spec)}`, () =>
			expect(() => parsePublish(spec)).toThrow(/invalid --publish/));
	}
});

test("ranges expand to one mapping per port", () => {
	expect(expandRequest(parsePublish("8080-8081:80-81/udp"))).toEqual([
		{ hostIP: "", hostPort: 8080, containerPort: 80, protocol: "udp" },
		{ hostIP: "", hostPort: 8081, containerPort: 81, protocol: "udp" },
	]);
});

test("duplicates collapse, conflicts are refused", () => {
	const m = { hostIP: "", hostPort: 8080, containerPort: 80, protocol: "tcp" as const };
	expect(checkMappings([m, { ...m }])).toEqual([m]);
	expect(() => checkMappings([m, { ...m, containerPort: 81 }])).toThrow(
		"conflicting port mappings for host port 8080 (protocol tcp)",
	);
	expect(checkMappings([m, { ...m, protocol: "udp" }])).toHaveLength(2);
});

test("podman port format", () => {
	expect(formatMapping({ hostIP: "", hostPort: 8080, containerPort: 80, protocol: "tcp" })).toBe(
		"80/tcp -> 0.0.0.0:8080",
	);
	expect(formatMapping({ hostIP: "::1", hostPort: 8080, containerPort: 80, protocol: "udp" })).toBe(
		"80/udp -> [::1]:8080",
	);
});

/** The "taken" test assignHostPorts wants, from a set of `proto/port` keys. */
const inSet = (keys: Set<string>) => (proto: string, port: number) => keys.has(`${proto}/${port}`);

test("sockaddr bytes for v4, v6 and the wildcard", () => {
	const v4 = sockaddr("127.0.0.1", 8080);
	expect([...v4.addr]).toEqual([2, 0, 0x1f, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
	const v6 = sockaddr("::1", 80);
	expect(v6.family).toBe(10);
	expect(v6.addr.length).toBe(28);
	expect([v6.addr[0], v6.addr[2], v6.addr[3], v6.addr[23]]).toEqual([10, 0, 80, 1]);
	expect([...sockaddr("::", 1).addr.subarray(8, 24)].every((b) => b === 0)).toBe(true);
	expect([...sockaddr("::ffff:10.0.2.100", 1).addr.subarray(18, 24)]).toEqual([
		0xff, 0xff, 10, 0, 2, 100,
	]);
});

test("IP literals without node:net", async () => {
	const { ipFamily } = await import("../../src/ip/address");
	for (const v4 of ["0.0.0.0", "10.0.2.100", "255.255.255.255"]) expect(ipFamily(v4)).toBe(4);
	for (const v6 of [
		"::",
		"::1",
		"fd00::5",
		"2001:db8::1:2:3:4:5",
		"::ffff:10.0.2.100",
		"fe80::1%eth0",
	]) {
		expect(ipFamily(v6)).toBe(6);
	}
	for (const bad of [
		"",
		"1.2.3",
		"256.1.1.1",
		"01.2.3.4",
		"1::2::3",
		"12345::",
		"1:2:3:4:5:6:7:8:9",
		"x",
	]) {
		expect(ipFamily(bad)).toBeUndefined();
	}
});

describe("assignHostPorts", () => {
	test("explicit ports must be free", () => {
		expect(() =>
			assignHostPorts([parsePublish("8080:80")], inSet(new Set(["tcp/8080"])), [30000, 30010]),
		).toThrow("host port 8080/tcp is already in use");
		expect(
			assignHostPorts([parsePublish("8080:80/udp")], inSet(new Set(["tcp/8080"])), [30000, 30010]),
		).toHaveLength(1);
	});
	test("picked ports avoid taken and explicit ones, and ranges stay consecutive", () => {
		const taken = new Set(["tcp/30000", "tcp/30001"]);
		let n = 0;
		const seq = [0, 0.5, 0.7];
		const out = assignHostPorts(
			[parsePublish("80-81"), parsePublish("30005:90")],
			inSet(taken),
			[30000, 30010],
			() => seq[n++ % seq.length] as number,
		);
		const hostPorts = out.map((m) => m.hostPort);
		expect(hostPorts[0]).toBe(30005);
		expect(hostPorts[2] as number).toBe((hostPorts[1] as number) + 1);
		for (const p of hostPorts.slice(1)) expect([30000, 30001, 30005]).not.toContain(p);
	});
	test("gives up clearly when nothing is free", () => {
		const taken = new Set(["tcp/30000", "tcp/30001"]);
		expect(() => assignHostPorts([parsePublish("80")], inSet(taken), [30000, 30001])).toThrow(
			/no 1 free/,
		);
	});
});
