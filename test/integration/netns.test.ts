// `ctrnet netns` against iproute2 on a real host (root). Every namespace and link made here is
// named t3-<random>-…, so tests of other engineers running at the same time are left alone, and
// only our own leftovers are checked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ctrnet, have, requireBinary } from "../lib/cli";
import { shAll as sh } from "../lib/host";

const ok = have(["ip", "ping"], true);
const TAG = `t3-${randomBytes(3).toString("hex")}`;
const DIR = `/tmp/${TAG}-netns`; // our own --netns-dir, away from /run/netns
const D = ["--netns-dir", DIR];

function mountLines(prefix: string): string[] {
	return readFileSync("/proc/self/mountinfo", "utf8")
		.split("\n")
		.filter((l) => l.split(" ")[4]?.startsWith(prefix));
}

/** The state a failed command must not change: our dir's files and the mounts under it. */
function snapshot(): string {
	const files = existsSync(DIR) ? readdirSync(DIR).sort() : [];
	return JSON.stringify({ files, mounts: mountLines(`${DIR}/`).map((l) => l.split(" ")[4]) });
}

function expectOneError(r: { code: number; stdout: string; stderr: string }, text?: RegExp) {
	expect(r.code).toBe(125);
	expect(r.stdout).toBe("");
	const lines = r.stderr.trimEnd().split("\n");
	expect(lines).toHaveLength(1);
	expect(lines[0]).toStartWith("Error: ");
	if (text) expect(lines[0]).toMatch(text);
}

beforeAll(() => {
	if (ok) requireBinary();
});

afterAll(async () => {
	if (!ok) return;
	// Our leftovers only: namespaces in /run/netns and DIR with our tag, then DIR's self-mount.
	for (const dir of ["/run/netns", DIR]) {
		if (!existsSync(dir)) continue;
		const ours = readdirSync(dir).filter((n) => n.startsWith(TAG));
		if (ours.length) await ctrnet(["netns", "rm", ...ours.map((n) => `${dir}/${n}`)]);
	}
	while (mountLines(DIR).length) sh(["umount", "-l", DIR]);
	rmSync(DIR, { recursive: true, force: true });
});

describe.if(ok)("ctrnet netns and iproute2 (/run/netns)", () => {
	test("50 namespaces: created, seen by ip netns list, usable with ip -n, removed, no leftovers", async () => {
		const names = Array.from({ length: 50 }, (_, i) => `${TAG}-n${i}`);
		for (const n of names) {
			const r = await ctrnet(["netns", "create", n]);
			expect(r.stderr).toBe("");
			expect(r.code).toBe(0);
			expect(r.stdout).toBe(`/run/netns/${n}\n`);
		}
		const listed = sh(["ip", "netns", "list"]).out;
		for (const n of names) expect(listed).toMatch(new RegExp(`^${n}( |$)`, "m"));
		for (const n of names) {
			const r = sh(["ip", "-n", n, "-o", "link", "show"]);
			expect(r.code).toBe(0);
			// only lo, and ctrnet brought it up
			expect(r.out.trim().split("\n")).toHaveLength(1);
			expect(r.out).toMatch(/^1: lo: <LOOPBACK,UP,LOWER_UP>/);
		}
		const ls = JSON.parse((await ctrnet(["netns", "ls", "--format", "json"])).stdout) as {
			name: string;
			mounted: boolean;
		}[];
		expect(ls.filter((e) => e.name.startsWith(`${TAG}-n`) && e.mounted)).toHaveLength(50);
		// half one by one, half in one call, by name and by path
		for (const n of names.slice(0, 25)) expect((await ctrnet(["netns", "rm", n])).code).toBe(0);
		const rest = names.slice(25).map((n, i) => (i % 2 ? n : `/run/netns/${n}`));
		const r = await ctrnet(["netns", "rm", ...rest]);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect(sh(["ip", "netns", "list"]).out).not.toContain(`${TAG}-n`);
		expect(readdirSync("/run/netns").filter((n) => n.startsWith(`${TAG}-n`))).toEqual([]);
		expect(mountLines(`/run/netns/${TAG}`)).toEqual([]);
	});

	test("a namespace made by `ip netns add` is listed and removed by ctrnet", async () => {
		const n = `${TAG}-ip`;
		expect(sh(["ip", "netns", "add", n]).code).toBe(0);
		const ls = await ctrnet(["netns", "ls"]);
		expect(ls.stdout).toMatch(new RegExp(`^${n} +\\d+ +/run/netns/${n}$`, "m"));
		const ins = JSON.parse((await ctrnet(["netns", "inspect", n, "--format", "json"])).stdout);
		expect(ins.links.map((l: { name: string }) => l.name)).toEqual(["lo"]);
		const rm = await ctrnet(["netns", "rm", n]);
		expect(rm.code).toBe(0);
		expect(sh(["ip", "netns", "list"]).out).not.toContain(n);
		expect(existsSync(`/run/netns/${n}`)).toBe(false);
		expect(mountLines(`/run/netns/${n}`)).toEqual([]);
	});

	test("veth host <-> ctrnet netns: addresses by ctrnet, ping, counters match sysfs", async () => {
		const { openNetlink, addAddress, createVeth, deleteLink, hostRoutes, linkStats, setLinkUp } =
			await import("../../src/netlink");
		// a /24 in 10.213.0.0/16 that no route on this host uses (other tests may hold some)
		const used = new Set(hostRoutes().map((r) => r.dst));
		let k = 0;
		for (k = 1 + ((randomBytes(1)[0] as number) % 200); used.has(`10.213.${k}.0/24`); k++);
		const n = `${TAG}-veth`;
		const host = `${TAG}h`; // 10 chars, under IFNAMSIZ
		const c = await ctrnet(["netns", "create", n]);
		expect(c.code).toBe(0);
		const path = c.stdout.trim();
		const nl = openNetlink();
		try {
			createVeth(nl, host, "eth0", { peerNetnsPath: path });
			addAddress(nl, host, `10.213.${k}.1/24`);
			setLinkUp(nl, host);
			const inner = openNetlink(path);
			try {
				addAddress(inner, "eth0", `10.213.${k}.2/24`);
				setLinkUp(inner, "eth0");
			} finally {
				inner.close();
			}
			const ping = sh(["ping", "-c", "3", "-i", "0.2", "-W", "2", `10.213.${k}.2`]);
			expect(ping.code).toBe(0);
			expect(ping.out).toContain("3 received");

			const FIELDS = [
				"rx_bytes",
				"tx_bytes",
				"rx_packets",
				"tx_packets",
				"rx_errors",
				"tx_errors",
				"rx_dropped",
				"tx_dropped",
			] as const;
			const sysfs = () => {
				const cmd = FIELDS.map((f) => `/sys/class/net/eth0/statistics/${f}`);
				const r = sh(["ip", "netns", "exec", n, "cat", ...cmd]);
				expect(r.code).toBe(0);
				return r.out.trim().split("\n").map(Number);
			};
			// IPv6 neighbour discovery may add packets at any moment: bracket the reading.
			const before = sysfs();
			const ins = await ctrnet(["netns", "inspect", n, "--format", "json"]);
			const after = sysfs();
			expect(ins.code).toBe(0);
			const eth0 = JSON.parse(ins.stdout).links.find((l: { name: string }) => l.name === "eth0");
			expect(eth0).toMatchObject({ up: true, mtu: 1500, kind: "veth", operstate: "UP" });
			expect(eth0.addresses[0]).toMatchObject({
				family: 4,
				address: `10.213.${k}.2`,
				prefixLen: 24,
			});
			FIELDS.forEach((f, i) => {
				expect(eth0.stats64[f]).toBeGreaterThanOrEqual(before[i] as number);
				expect(eth0.stats64[f]).toBeLessThanOrEqual(after[i] as number);
			});
			expect(eth0.stats64.rx_packets).toBeGreaterThanOrEqual(3);
			expect(eth0.stats64.tx_packets).toBeGreaterThanOrEqual(3);
			// linkStats (the API `ctrnet stats` uses) agrees as well
			const s = linkStats(path, "eth0");
			expect(s.rx_packets).toBeGreaterThanOrEqual(after[2] as number);
			// the table form shows the same link
			const text = await ctrnet(["netns", "inspect", n]);
			expect(text.stdout).toMatch(
				/eth0@if\d+: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP/,
			);
			expect(text.stdout).toContain(`inet 10.213.${k}.2/24 scope global eth0`);
		} finally {
			try {
				deleteLink(nl, host);
			} catch {}
			nl.close();
		}
		expect((await ctrnet(["netns", "rm", n])).code).toBe(0);
		expect(sh(["ip", "link", "show", host]).code).not.toBe(0);
	});
});

describe.if(ok)("ctrnet netns in its own --netns-dir", () => {
	test("create with a random name, ls, inspect by path, rm; the dir is a shared mount point", async () => {
		const c = await ctrnet(["netns", "create", ...D]);
		expect(c.code).toBe(0);
		const path = c.stdout.trim();
		expect(path).toMatch(
			new RegExp(`^${DIR}/cni-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`),
		);
		const dirMount = mountLines(DIR).find((l) => l.split(" ")[4] === DIR);
		expect(dirMount).toContain(" shared:");
		expect(mountLines(path)[0]).toMatch(/ - nsfs /);
		const ls = JSON.parse((await ctrnet(["netns", "ls", "--format", "json", ...D])).stdout);
		expect(ls).toContainEqual(expect.objectContaining({ path, mounted: true }));
		const ins = await ctrnet(["netns", "inspect", path, "--format", "json"]);
		expect(JSON.parse(ins.stdout).links[0]).toMatchObject({ name: "lo", up: true });
		expect((await ctrnet(["netns", "rm", path, ...D])).code).toBe(0);
		expect(existsSync(path)).toBe(false);
		expect(mountLines(path)).toEqual([]);
	});

	test("20 concurrent creates in a fresh dir: one shared self-mount of the dir, all removable", async () => {
		const dir = `${DIR}-race`;
		try {
			const names = Array.from({ length: 20 }, (_, i) => `${TAG}-r${i}`);
			const rs = await Promise.all(
				names.map((n) => ctrnet(["netns", "create", n, "--netns-dir", dir])),
			);
			for (const r of rs) expect(r.code).toBe(0);
			// without the lock, racing first uses stack two bind mounts of the dir (iproute2 does)
			expect(mountLines(dir).filter((l) => l.split(" ")[4] === dir)).toHaveLength(1);
			expect(mountLines(`${dir}/`)).toHaveLength(20);
			const rm = await ctrnet(["netns", "rm", ...names, "--netns-dir", dir]);
			expect(rm.stderr).toBe("");
			expect(readdirSync(dir)).toEqual([]);
			expect(mountLines(`${dir}/`)).toEqual([]);
		} finally {
			while (mountLines(dir).length) sh(["umount", "-l", dir]);
			rmSync(dir, { recursive: true, force: true });
		}
	});

	test("bad input: one Error line, exit 125, nothing changed", async () => {
		mkdirSync(DIR, { recursive: true });
		const regular = `${TAG}-regular`;
		writeFileSync(`${DIR}/${regular}`, "keep me");
		const existing = `${TAG}-exists`;
		expect((await ctrnet(["netns", "create", existing, ...D])).code).toBe(0);
		const inode = mountLines(`${DIR}/${existing}`)[0]?.split(" ")[3];
		const before = snapshot();
		const cases: [string[], RegExp][] = [
			[["netns", "create", "a/b"], /'\/'/],
			[["netns", "create", ".."], /'\.\.'/],
			[["netns", "create", "../../etc/x"], /'\/'/],
			[["netns", "create", ""], /empty/],
			[["netns", "create", "x".repeat(254)], /longer than 253/],
			[["netns", "create", existing], /already exists/],
			[["netns", "rm", `${TAG}-missing`], /does not exist/],
			[["netns", "rm", regular], /refusing to remove .*not a network namespace/],
			[["netns", "rm", "x/../y"], /absolute/],
			[["netns", "rm", "..", existing], /'\.\.'/],
			[["netns", "inspect", `${TAG}-missing`], /does not exist/],
			[["netns", "inspect", `${DIR}/${regular}`], /not a network namespace/],
			[["netns", "create", "a", "b"], /too many arguments/],
			[["netns", "rm"], /./],
		];
		for (const [args, why] of cases) {
			const r = await ctrnet([...args, ...D]);
			expectOneError(r, why);
			expect(snapshot()).toBe(before);
		}
		expect(readFileSync(`${DIR}/${regular}`, "utf8")).toBe("keep me");
		// the existing namespace is still the same one
		expect(mountLines(`${DIR}/${existing}`)[0]?.split(" ")[3]).toBe(inode);
		expect((await ctrnet(["netns", "rm", existing, ...D])).code).toBe(0);
		rmSync(`${DIR}/${regular}`);
	});
});
