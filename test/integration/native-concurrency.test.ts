// 100 containers attach to and detach from one native bridge network at the same time, each in
// its own process (namespace work is synchronous on the JS thread, so concurrency needs
// processes): every one succeeds, gets its own interfaces, is on the bridge and reaches the
// gateway while attached; the bridge is removed and re-created as the network empties and fills,
// never under an attaching container; nothing is left at the end.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { NativeNetwork } from "../../src/native";
import { have } from "../lib/cli";
import { wipeNetnsDir } from "../lib/env";
import { mountsUnder, sh } from "../lib/host";

const ok = have(["ping"], true);
const N = 100;
const tag = Math.random().toString(16).slice(2, 6);
const DIR = `/tmp/tnv-${tag}-conc`;
const SRC = resolve(import.meta.dir, "../../src");
const net: NativeNetwork = {
	name: `tnv-conc-${tag}`,
	driver: "bridge",
	network_interface: `tnv${tag}c`,
	subnets: [
		{ subnet: "10.235.2.0/24", gateway: "10.235.2.1" },
		{ subnet: "fd35:2::/64", gateway: "fd35:2::1" },
	],
	ipv6_enabled: true,
	internal: false,
	dns_enabled: false,
};

// One container's life: attach, check, linger a little (so attaches and removals overlap),
// detach, and try to remove the bridge.
const WORKER = `
import * as NS from ${JSON.stringify(`${SRC}/netns`)};
import * as L from ${JSON.stringify(`${SRC}/netlink`)};
import { attachBridge, detachBridge, removeBridgeIfUnused } from ${JSON.stringify(`${SRC}/native`)};
const net = JSON.parse(process.env.TNV_NET);
const i = Number(process.env.TNV_I);
const dir = process.env.TNV_DIR;
const lockDir = dir + "/locks";
const p = NS.createNetns(dir + "/netns", "w" + i);
try {
	const a = attachBridge({ net, netnsPath: p, ifname: "eth0", lockDir,
		addresses: ["10.235.2." + (i + 2) + "/24", "fd35:2::" + (i + 2).toString(16) + "/64"] });
	const onBridge = L.withNetlink(undefined, (nl) => {
		const br = L.getLink(nl, net.network_interface);
		return br.up && L.getLink(nl, a.hostVeth).master === br.index;
	});
	const ping = NS.inNetns(p, () =>
		Bun.spawnSync(["ping", "-c", "1", "-W", "5", "10.235.2.1"]).exitCode);
	await Bun.sleep(Math.random() * 40);
	detachBridge({ net, ifname: "eth0", hostVeth: a.hostVeth });
	const removed = removeBridgeIfUnused(net, { lockDir });
	console.log(JSON.stringify({ hostVeth: a.hostVeth, mac: a.mac, onBridge, ping, removed }));
} finally {
	NS.removeNetns(p);
}
`;

// Teardowns of other containers, as often as can be: each deletes the bridge whenever it has no
// ports. Without the lock they would delete it under setups that have found it and not yet put
// their veth on it.
const REAPER = `
import { existsSync } from "node:fs";
import { removeBridgeIfUnused } from ${JSON.stringify(`${SRC}/native`)};
const net = JSON.parse(process.env.TNV_NET);
const dir = process.env.TNV_DIR;
let removed = 0;
while (!existsSync(dir + "/stop")) {
	if (removeBridgeIfUnused(net, { lockDir: dir + "/locks" })) removed++;
	await Bun.sleep(1);
}
console.log(removed);
`;
const REAPERS = 3;

afterAll(() => {
	if (!ok) return;
	wipeNetnsDir(`${DIR}/netns`);
	rmSync(DIR, { recursive: true, force: true });
	expect(mountsUnder(`${DIR}/netns`)).toEqual([]);
});

async function run(code: string, i: number) {
	const p = Bun.spawn([process.execPath, "-e", code], {
		env: { ...process.env, TNV_NET: JSON.stringify(net), TNV_I: String(i), TNV_DIR: DIR },
		stdout: "pipe",
		stderr: "pipe",
	});
	const [out, err, exit] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
		p.exited,
	]);
	return { code: exit, out, err };
}

test.if(ok)(`${N} concurrent attach/detach processes on one bridge network`, async () => {
	mkdirSync(DIR, { recursive: true });
	const reapers = Array.from({ length: REAPERS }, (_, i) => run(REAPER, i));
	const runs = await Promise.all(Array.from({ length: N }, (_, i) => run(WORKER, i)));
	writeFileSync(`${DIR}/stop`, "");
	const reaped = await Promise.all(reapers);
	expect(reaped.filter((r) => r.code !== 0).map((r) => r.err)).toEqual([]);
	expect(runs.filter((r) => r.code !== 0).map((r) => r.err)).toEqual([]);
	const rows = runs.map(
		(r) =>
			JSON.parse(r.out.trim()) as {
				hostVeth: string;
				mac: string;
				onBridge: boolean;
				ping: number;
				removed: boolean;
			},
	);
	expect(new Set(rows.map((r) => r.hostVeth)).size).toBe(N);
	expect(new Set(rows.map((r) => r.mac)).size).toBe(N);
	expect(rows.filter((r) => !r.onBridge)).toEqual([]);
	expect(rows.filter((r) => r.ping !== 0)).toEqual([]);
	// The last one out removed the bridge (earlier ones may have too, when the network emptied).
	expect(rows.some((r) => r.removed)).toBe(true);
	const links = sh(["ip", "-o", "link"]).out;
	expect(links).not.toContain(net.network_interface);
	expect(rows.filter((r) => links.includes(`${r.hostVeth}@`))).toEqual([]);
	// The netns dir itself is a mount point (as iproute2 makes it); no namespace is left in it.
	expect(mountsUnder(`${DIR}/netns`).filter((m) => m !== `${DIR}/netns`)).toEqual([]);
	const byReapers = reaped.reduce((n, r) => n + Number(r.out.trim()), 0);
	console.log(
		`bridge removed ${rows.filter((r) => r.removed).length} time(s) by containers, ${byReapers} by reapers`,
	);
});
