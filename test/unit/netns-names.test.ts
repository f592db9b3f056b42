// Pure parts of src/netns: names and paths, /proc/self/mountinfo, the `ip -s addr` layout.
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../src/errors";
import { flagNames, formatInspect } from "../../src/netns/format";
import { mountsAt, mountsAtIn, netnsInode, parseMountinfo } from "../../src/netns/mountinfo";
import { randomNetnsName, resolveNetnsRef, validateNetnsName } from "../../src/netns/names";

describe("names", () => {
	test("valid names pass through", () => {
		for (const n of ["a", "t3-x", "cni-1234", "A.b_c-d", "x".repeat(253)]) {
			expect(validateNetnsName(n)).toBe(n);
		}
	});

	test("bad names are UsageErrors that say why", () => {
		const cases: [string, RegExp][] = [
			["", /empty/],
			["a/b", /'\/'/],
			["..", /'\.\.'/],
			["a..b", /'\.\.'/],
			[".hidden", /must match/],
			["-x", /must match/],
			["x y", /must match/],
			["x".repeat(254), /longer than 253/],
		];
		for (const [name, why] of cases) {
			expect(() => validateNetnsName(name)).toThrow(UsageError);
			expect(() => validateNetnsName(name)).toThrow(why);
		}
	});

	test("random names follow podman's cni-<8>-<4>-<4>-<4>-<12> hex scheme", () => {
		const seen = new Set<string>();
		for (let i = 0; i < 100; i++) {
			const n = randomNetnsName();
			expect(n).toMatch(/^cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
			expect(validateNetnsName(n)).toBe(n);
			seen.add(n);
		}
		expect(seen.size).toBe(100);
	});

	test("NAME or absolute PATH", () => {
		expect(resolveNetnsRef("x", "/run/netns")).toEqual({ name: "x", path: "/run/netns/x" });
		expect(resolveNetnsRef("/var/run/netns//y", "/run/netns")).toEqual({
			name: "y",
			path: "/var/run/netns/y",
		});
		expect(() => resolveNetnsRef("a/b", "/run/netns")).toThrow(/absolute/);
		expect(() => resolveNetnsRef("/run/netns/../x", "/run/netns")).toThrow(/'\.\.'/);
		expect(() => resolveNetnsRef("..", "/run/netns")).toThrow(UsageError);
	});
});

describe("mountinfo", () => {
	const text = [
		"22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw",
		"44 27 254:0 /tmp/t3\\040d /tmp/t3\\040d rw,relatime shared:3 - ext4 /dev/vda rw",
		"51 44 0:4 net:[4026532246] /tmp/t3\\040d/x rw shared:3 - nsfs nsfs rw",
		"52 44 0:4 mnt:[4026532300] /tmp/t3\\040d/m rw - nsfs nsfs rw",
		"garbage line",
		"",
	].join("\n");

	test("parses fields, optional fields and octal escapes", () => {
		const m = parseMountinfo(text);
		expect(m).toHaveLength(4);
		expect(m[1]).toEqual({
			id: 44,
			parent: 27,
			root: "/tmp/t3 d",
			mountPoint: "/tmp/t3 d",
			optional: ["shared:3"],
			fsType: "ext4",
			source: "/dev/vda",
		});
		expect(m[3]?.optional).toEqual([]);
	});

	test("a netns mount is nsfs with root net:[inode]; other nsfs mounts are not", () => {
		const m = parseMountinfo(text);
		const [x] = mountsAt(m, "/tmp/t3 d/x");
		const [mnt] = mountsAt(m, "/tmp/t3 d/m");
		expect(netnsInode(x as (typeof m)[0])).toBe(4026532246);
		expect(netnsInode(mnt as (typeof m)[0])).toBeUndefined();
		expect(netnsInode(m[0] as (typeof m)[0])).toBeUndefined();
		expect(mountsAt(m, "/nope")).toEqual([]);
	});

	test("mountsAtIn parses only the lines naming the path, with the same result", () => {
		const stacked = `${text}\n53 44 0:4 net:[4026532999] /tmp/t3\\040d/x rw - nsfs nsfs rw\n`;
		for (const path of ["/", "/tmp/t3 d", "/tmp/t3 d/x", "/tmp/t3 d/m", "/tmp/t3", "/nope"]) {
			expect(mountsAtIn(stacked, path)).toEqual(mountsAt(parseMountinfo(stacked), path));
		}
		expect(mountsAtIn(stacked, "/tmp/t3 d/x").map((e) => e.id)).toEqual([51, 53]);
		// A path that is only another mount's root is not a mount point.
		expect(mountsAtIn("60 1 0:5 /srv /mnt rw - ext4 /dev/vdb rw", "/srv")).toEqual([]);
	});
});

describe("inspect text", () => {
	test("flags in iproute2's order, NO-CARRIER when up without carrier", () => {
		expect(flagNames(0x10049)).toEqual(["LOOPBACK", "UP", "LOWER_UP"]);
		expect(flagNames(0x1003)).toEqual(["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"]);
	});

	test("ip -s addr layout", () => {
		const stats = {
			rx_bytes: 586,
			tx_bytes: 756,
			rx_packets: 7,
			tx_packets: 8,
			rx_errors: 0,
			tx_errors: 0,
			rx_dropped: 0,
			tx_dropped: 0,
		};
		const out = formatInspect({
			path: "/run/netns/x",
			links: [
				{
					index: 3,
					name: "eth0",
					flags: 0x11043,
					up: true,
					lowerUp: true,
					mtu: 1500,
					mac: "02:00:00:00:13:01",
					kind: "veth",
					link: 9,
					operstate: "UP",
					stats64: stats,
					addresses: [
						{
							family: 4,
							address: "10.213.1.2",
							prefixLen: 24,
							scope: "global",
							flags: 0,
							label: "eth0",
						},
						{ family: 6, address: "fe80::1", prefixLen: 64, scope: "link", flags: 0 },
					],
				},
			],
		});
		expect(out).toBe(
			[
				"3: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP",
				"    link/ether 02:00:00:00:13:01 kind veth",
				"    inet 10.213.1.2/24 scope global eth0",
				"    inet6 fe80::1/64 scope link",
				"    RX:  bytes packets errors dropped",
				"           586       7      0       0",
				"    TX:  bytes packets errors dropped",
				"           756       8      0       0",
				"",
			].join("\n"),
		);
	});
});
