// The netlink layer and the netns primitives, in-process (root): every operation against a real
// kernel inside namespaces this file creates (its own --netns-dir under /tmp), and the rule that
// the JS thread is always back in its own netns afterwards — also after injected failures.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import {
	existsSync,
	readdirSync,
	readFileSync,
	readlinkSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import * as N from "../../src/netlink";
import * as NS from "../../src/netns";
import { have } from "../lib/cli";
import { wipeNetnsDir } from "../lib/env";
import { shAll as sh } from "../lib/host";

const ok = have(["ip"], true);
const TAG = `t3-${randomBytes(3).toString("hex")}`;
const DIR = `/tmp/${TAG}-nl`;
const HOME = ok ? readlinkSync("/proc/thread-self/ns/net") : "";
const here = () => readlinkSync("/proc/thread-self/ns/net");

const mounts = (prefix: string) =>
	readFileSync("/proc/self/mountinfo", "utf8")
		.split("\n")
		.filter((l) => l.split(" ")[4]?.startsWith(prefix));

let A = ""; // a namespace for the link/address/route tests
let B = ""; // a second one, to receive a veth peer

beforeAll(() => {
	if (!ok) return;
	A = NS.createNetns(DIR, `${TAG}-a`);
	B = NS.createNetns(DIR, `${TAG}-b`);
});

afterAll(() => {
	if (!ok) return;
	wipeNetnsDir(DIR);
	rmSync(DIR, { recursive: true, force: true });
	expect(here()).toBe(HOME);
});

describe.if(ok)("the JS thread comes back", () => {
	test("after create, pin, list, inspect, open socket, linkStats, remove", () => {
		const p = NS.createNetns(DIR, `${TAG}-t1`);
		expect(here()).toBe(HOME);
		NS.inspectNetns(p);
		expect(here()).toBe(HOME);
		N.openNetlink(p).close();
		expect(here()).toBe(HOME);
		N.linkStats(p);
		expect(here()).toBe(HOME);
		const child = Bun.spawn(["sleep", "30"]);
		try {
			const pinned = NS.pinNetns(child.pid, `${DIR}/${TAG}-pin`);
			expect(here()).toBe(HOME);
			expect(NS.listNetns(DIR).find((e) => e.path === pinned)?.inode).toBe(
				Number(HOME.match(/\d+/)?.[0]),
			);
			NS.removeNetns(pinned);
		} finally {
			child.kill();
		}
		NS.removeNetns(p);
		expect(here()).toBe(HOME);
		expect(existsSync(p)).toBe(false);
	});

	test("inNetns runs inside, returns the value, and comes back on throw and on a promise", () => {
		const inode = NS.listNetns(DIR).find((e) => e.path === A)?.inode;
		expect(NS.inNetns(A, () => here())).toBe(`net:[${inode}]`);
		expect(here()).toBe(HOME);
		expect(() =>
			NS.inNetns(A, () => {
				throw new Error("boom");
			}),
		).toThrow("boom");
		expect(here()).toBe(HOME);
		expect(() => NS.inNetns(A, () => Promise.resolve(1))).toThrow(/synchronous/);
		expect(here()).toBe(HOME);
		expect(() => NS.inNetns(`${DIR}/nope`, () => 1)).toThrow(/ENOENT/);
		expect(here()).toBe(HOME);
	});

	test("an injected failure in the middle of create: thread home, file gone, no mount", () => {
		const name = `${TAG}-fail`;
		let inside = "";
		expect(() =>
			NS.createNetns(DIR, name, {
				inside: () => {
					inside = here();
					throw new Error("injected");
				},
			}),
		).toThrow("injected");
		expect(inside).not.toBe(HOME); // it did fail inside the new namespace
		expect(here()).toBe(HOME);
		expect(existsSync(`${DIR}/${name}`)).toBe(false);
		expect(mounts(`${DIR}/${name}`)).toEqual([]);
		// and a socket on a file that is no namespace fails cleanly too
		writeFileSync(`${DIR}/${TAG}-plain`, "");
		expect(() => N.openNetlink(`${DIR}/${TAG}-plain`)).toThrow(/EINVAL/);
		expect(here()).toBe(HOME);
		expect(() => NS.removeNetns(`${DIR}/${TAG}-plain`)).toThrow(/refusing/);
		NS.removeNetns(`${DIR}/${TAG}-plain`, { stale: true });
		expect(existsSync(`${DIR}/${TAG}-plain`)).toBe(false);
	});
});

describe.if(ok)("links, addresses, routes inside a namespace", () => {
	test("bridge + veth (peer straight into another netns), master, mtu, mac, up/down, delete", () => {
		using nl = N.openNetlink(A);
		N.createBridge(nl, "br0");
		N.createVeth(nl, "v0", "p0", { peerNetnsPath: B, mtu: 1400 });
		N.createVeth(nl, "v1", "v1p");
		N.setMaster(nl, "v0", "br0");
		N.setMtu(nl, "v1", 1280);
		N.setMac(nl, "v1", "02:00:00:13:00:01");
		N.setLinkUp(nl, "br0");
		N.setLinkUp(nl, "v0");
		const br = N.getLink(nl, "br0");
		const v0 = N.getLink(nl, "v0");
		expect(br.kind).toBe("bridge");
		expect(v0).toMatchObject({
			kind: "veth",
			mtu: 1400,
			master: br.index,
			slaveKind: "bridge",
			up: true,
		});
		expect(N.getLink(nl, v0.index).name).toBe("v0");
		expect(N.getLink(nl, "v1")).toMatchObject({ mtu: 1280, mac: "02:00:00:13:00:01", up: false });
		expect(
			N.listLinks(nl)
				.map((l) => l.name)
				.sort(),
		).toEqual(["br0", "lo", "v0", "v1", "v1p"]);
		// the peer is in B, not in A
		expect(N.findLink(nl, "p0")).toBeUndefined();
		N.withNetlink(B, (b) => expect(N.getLink(b, "p0")).toMatchObject({ kind: "veth", mtu: 1400 }));
		// ip sees what netlink did
		const ipv = sh(["nsenter", `--net=${A}`, "ip", "-o", "link", "show", "v0"]).out;
		expect(ipv).toContain("master br0");
		N.setLinkDown(nl, "v0");
		expect(N.getLink(nl, "v0").up).toBe(false);
		N.setMaster(nl, "v0", null);
		expect(N.getLink(nl, "v0").master).toBeUndefined();
		N.deleteLink(nl, "v0");
		N.withNetlink(B, (b) => expect(N.findLink(b, "p0")).toBeUndefined());
		N.deleteLink(nl, "v1");
		N.deleteLink(nl, "br0");
		expect(N.listLinks(nl).map((l) => l.name)).toEqual(["lo"]);
	});

	test("addresses v4 and v6, routes incl. default v4/v6 via a gateway", () => {
		using nl = N.openNetlink(A);
		N.createVeth(nl, "d0", "d0p");
		N.setLinkUp(nl, "d0");
		N.setLinkUp(nl, "d0p");
		N.addAddress(nl, "d0", "10.213.250.2/24");
		N.addAddress(nl, "d0", "fd21:3:250::2/64");
		const addrs = N.listAddresses(nl, { link: "d0" });
		expect(addrs).toContainEqual(
			expect.objectContaining({
				family: 4,
				address: "10.213.250.2",
				prefixLen: 24,
				scope: "global",
			}),
		);
		expect(addrs).toContainEqual(
			expect.objectContaining({ family: 6, address: "fd21:3:250::2", prefixLen: 64 }),
		);
		expect(N.listAddresses(nl, { family: 6 }).every((a) => a.family === 6)).toBe(true);
		// the broadcast ctrnet adds, as `ip addr add … brd +`
		expect(sh(["nsenter", `--net=${A}`, "ip", "-o", "-4", "addr", "show", "d0"]).out).toContain(
			"brd 10.213.250.255",
		);

		N.addRoute(nl, { dst: "default", gateway: "10.213.250.1" });
		N.addRoute(nl, { dst: "10.213.251.0/24", dev: "d0" });
		N.addRoute(nl, { dst: "10.213.252.0/24", gateway: "10.213.250.9", metric: 50 });
		// an IPv6 gateway in d0's /64 is on-link, so the kernel takes it at once
		N.addRoute(nl, { dst: "default", gateway: "fd21:3:250::1", dev: "d0" });
		const d0 = N.getLink(nl, "d0").index;
		const routes = N.listRoutes(nl);
		expect(routes).toContainEqual(
			expect.objectContaining({ family: 4, dst: "0.0.0.0/0", gateway: "10.213.250.1", oif: d0 }),
		);
		expect(routes).toContainEqual(
			expect.objectContaining({ dst: "10.213.251.0/24", oif: d0, scope: "link" }),
		);
		expect(routes).toContainEqual(
			expect.objectContaining({ dst: "10.213.252.0/24", gateway: "10.213.250.9", metric: 50 }),
		);
		expect(routes).toContainEqual(
			expect.objectContaining({ family: 6, dst: "::/0", gateway: "fd21:3:250::1", oif: d0 }),
		);
		const ipr = sh(["nsenter", `--net=${A}`, "ip", "route"]).out;
		expect(ipr).toContain("default via 10.213.250.1 dev d0");
		expect(ipr).toContain("10.213.252.0/24 via 10.213.250.9 dev d0 metric 50");

		// errors are one line with the kernel's words
		expect(() => N.addAddress(nl, "d0", "10.213.250.2/24")).toThrow(
			"netlink: add address 10.213.250.2/24 dev d0: EEXIST: ipv4: Address already assigned",
		);
		expect(() => N.addRoute(nl, { dst: "default", gateway: "10.213.250.1" })).toThrow(
			/^netlink: add route 0\.0\.0\.0\/0 via 10\.213\.250\.1: EEXIST: /,
		);
		expect(() => N.getLink(nl, "nope0")).toThrow("netlink: get link nope0: ENODEV: No such device");
		expect(() => N.createVeth(nl, "x".repeat(20), "y")).toThrow(/ERANGE|EINVAL/);
		try {
			N.deleteLink(nl, "nope0");
		} catch (e) {
			expect(e).toBeInstanceOf(N.NetlinkError);
			expect((e as N.NetlinkError).code).toBe("ENODEV");
		}

		N.deleteRoute(nl, { dst: "default", gateway: "10.213.250.1" });
		N.deleteRoute(nl, { dst: "10.213.251.0/24", dev: "d0" });
		N.deleteRoute(nl, { dst: "10.213.252.0/24", gateway: "10.213.250.9", metric: 50 });
		N.deleteRoute(nl, { dst: "::/0", gateway: "fd21:3:250::1" });
		const left = N.listRoutes(nl).map((r) => r.dst);
		expect(left).not.toContain("0.0.0.0/0");
		expect(left).not.toContain("::/0");
		expect(left).not.toContain("10.213.251.0/24");
		N.deleteAddress(nl, "d0", "10.213.250.2/24");
		N.deleteAddress(nl, "d0", "fd21:3:250::2/64");
		expect(N.listAddresses(nl, { link: "d0" }).filter((a) => a.scope === "global")).toEqual([]);
		N.deleteLink(nl, "d0");
	});

	test("hostAddresses / hostRoutes agree with ip -j on the host", () => {
		// Other tests on this host add and remove addresses: compare a quiet moment (3 tries).
		const sample = () => {
			const ipAddrs = JSON.parse(sh(["ip", "-j", "addr"]).out) as {
				ifname: string;
				addr_info: { family: string; local: string; prefixlen: number }[];
			}[];
			const want = ipAddrs
				.flatMap((l) =>
					l.addr_info.map(
						(a) => `${l.ifname} ${a.family === "inet" ? 4 : 6} ${a.local}/${a.prefixlen}`,
					),
				)
				.sort();
			const got = N.hostAddresses()
				.map((a) => `${a.ifname} ${a.family} ${a.address}/${a.prefixLen}`)
				.sort();
			return { got, want };
		};
		let r = sample();
		for (let i = 0; i < 2 && JSON.stringify(r.got) !== JSON.stringify(r.want); i++) r = sample();
		expect(r.got).toEqual(r.want);
		const def4 = JSON.parse(sh(["ip", "-j", "-4", "route", "show", "default"]).out) as {
			gateway?: string;
			dev: string;
		}[];
		const hostDef = N.hostRoutes().filter((r) => r.dst === "0.0.0.0/0");
		expect(hostDef.map((r) => `${r.gateway} ${r.ifname}`).sort()).toEqual(
			def4.map((r) => `${r.gateway} ${r.dev}`).sort(),
		);
		for (const r of N.hostRoutes()) expect(r.dst).toMatch(/\/\d+$/);
	});

	test("deleteLinkUnwaited: gone (both veth ends) on return; the sender holds one socket and is reaped", async () => {
		using nl = N.openNetlink(A);
		using nlB = N.openNetlink(B);
		const senders = () =>
			readdirSync("/proc")
				.filter((d) => /^\d+$/.test(d))
				.flatMap((pid) => {
					try {
						const st = readFileSync(`/proc/${pid}/stat`, "utf8");
						const [comm, rest] = [
							st.slice(st.indexOf("(") + 1, st.lastIndexOf(")")),
							st.slice(st.lastIndexOf(")") + 2),
						];
						const [state, ppid] = rest.split(" ");
						return comm === "ctrnet-netlink" && Number(ppid) === process.pid
							? [{ pid, state }]
							: [];
					} catch {
						return []; // gone meanwhile
					}
				});
		let seenAlive = 0;
		for (let i = 0; i < 8; i++) {
			N.createVeth(nl, `u${i}`, `u${i}p`, { peerNetnsPath: B });
			N.deleteLinkUnwaited(A, N.getLink(nl, `u${i}`).index);
			expect(N.findLink(nl, `u${i}`)).toBeUndefined();
			expect(N.findLink(nlB, `u${i}p`)).toBeUndefined();
			// The child still waiting for the kernel has closed every fd but its netlink socket.
			for (const c of senders().filter((x) => x.state !== "Z")) {
				let fds: string[];
				try {
					fds = readdirSync(`/proc/${c.pid}/fd`).map((fd) =>
						readlinkSync(`/proc/${c.pid}/fd/${fd}`),
					);
				} catch {
					continue; // exited between the two reads
				}
				if (fds.length === 0) continue; // exiting: its table already dropped
				seenAlive++;
				expect(fds).toHaveLength(1);
				expect(fds[0]).toMatch(/^socket:/);
			}
		}
		// rcu_barrier takes milliseconds: at least one sender was seen at work.
		expect(seenAlive).toBeGreaterThan(0);
		// Finished senders are reaped by the next call: no zombie of ours piles up.
		await Bun.sleep(300);
		N.createVeth(nl, "u9", "u9p");
		N.deleteLinkUnwaited(A, N.getLink(nl, "u9").index);
		expect(senders().filter((x) => x.state === "Z").length).toBeLessThanOrEqual(1);
		// A link that is not there: the kernel's error comes back from the child's request.
		expect(() => N.deleteLinkUnwaited(A, 999_999)).toThrow(/ENODEV/);
	});

	test("a dump larger than one datagram (200 links) arrives whole", () => {
		using nl = N.openNetlink(B);
		for (let i = 0; i < 100; i++) N.createVeth(nl, `m${i}`, `m${i}p`);
		const names = N.listLinks(nl).map((l) => l.name);
		expect(names.filter((n) => /^m\d+p?$/.test(n))).toHaveLength(200);
		expect(N.linkStats(B)).toHaveLength(names.length);
		for (let i = 0; i < 100; i++) N.deleteLink(nl, `m${i}`);
	});
});
