// Data safety under kills, races and a full disk (issue 10, items 5-13; issue 11's --pid defect),
// each reproduced against the built binary with the real CNI plugins. Slow and failing steps come
// from test plugins spliced into the chains (test/fixtures/cni-plugins). Subnets 10.218.0.0/16.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { InspectObject } from "../../src/container/inspect";
import { BIN, have, requireBinary } from "../lib/cli";
import { bridgeOf, createNetworks, leftovers } from "../lib/cni-world";
import { type World, world } from "../lib/env";
import { sh, waitUnshared } from "../lib/host";

const ok = have(["ip", "iptables", "unshare", "mount"], true);
const W = world("t10-rec");
const tag = Math.random().toString(16).slice(2, 6);
const net = (s: string) => `r${s}-${tag}`;
const RA = net("a"); // the plain podman-v2 chain
const RB = net("b");
const RS = net("s"); // ADD sleeps 3 s
const RD = net("d"); // DEL sleeps 1.5 s
const RF = net("f"); // ADD refused by the last plugin
const RFW = net("w"); // ADD sleeps 3 s after the firewall plugin ran
const RX = net("x"); // DEL refused while a flag file exists
const ALL = [RA, RB, RS, RD, RF, RFW, RX];
const flag = `${W.dir}/fail-del`;
const ids: string[] = [];
const id = (name: string) => {
	const v = `t10-${tag}-${name}`;
	ids.push(v);
	return v;
};

beforeAll(async () => {
	requireBinary();
	if (!ok) return;
	await createNetworks(
		W,
		[
			{ name: RA, subnet: "10.218.1.0/24" },
			{ name: RB, subnet: "10.218.7.0/24" },
			{ name: RS, subnet: "10.218.2.0/24", extra: { type: "t5-slow", sleep: 3 } },
			{ name: RD, subnet: "10.218.3.0/24", extra: { type: "t5-slow", delSleep: 1.5 } },
			{ name: RF, subnet: "10.218.4.0/24", extra: { type: "t4-fixture", failOn: "ADD" } },
			// bridge, portmap, firewall, [slow], tuning
			{ name: RFW, subnet: "10.218.5.0/24", extra: { type: "t5-slow", sleep: 3 }, at: 3 },
			{ name: RX, subnet: "10.218.6.0/24", extra: { type: "t5-slow", failDelWhile: flag } },
		],
		`t10b${tag}`,
	);
});

afterAll(async () => {
	if (ok) {
		rmSync(flag, { force: true });
		await W.run(["gc"]);
		for (const cid of ids) await W.run(["teardown", cid]);
		for (const n of ALL) await W.run(["network", "rm", "--force", n]);
	}
	W.cleanup();
});

interface Row {
	id: string;
	status: string;
	networks: string[];
	ips: string[];
	netns: string;
}
async function ps(w: World = W): Promise<Row[]> {
	return w.json<Row[]>(["ps", "--format", "json"]);
}
const row = async (cid: string) => (await ps()).find((r) => r.id === cid);

function start(args: string[], env = W.env): Bun.Subprocess<"ignore", "pipe", "pipe"> {
	return Bun.spawn([BIN, ...args], {
		env: { PATH: process.env.PATH ?? "", ...env },
		stdin: "ignore",
		stdout: "pipe",
		stderr: "pipe",
	});
}

async function killAfter(p: Bun.Subprocess, ms: number): Promise<void> {
	await Bun.sleep(ms);
	p.kill(9);
	await p.exited;
}

/** Makes a set-up container dead: its namespace goes, as after a reboot. */
async function killNetns(cid: string): Promise<void> {
	const path = (await row(cid))?.netns as string;
	expect((await W.run(["netns", "rm", path])).code).toBe(0);
}

/** Teardown succeeds (its stderr shown when it does not). */
async function teardownOk(cid: string): Promise<void> {
	const r = await W.run(["teardown", cid]);
	expect([r.code, r.stderr]).toEqual([0, ""]);
}

async function gc(): Promise<{ reclaimed: { id: string }[]; repaired: { id: string }[] }> {
	return W.json(["gc", "--format", "json"]);
}

async function ipOf(cid: string, network: string): Promise<string> {
	const i = (await W.json<InspectObject[]>(["inspect", cid]))[0] as InspectObject;
	return i.NetworkSettings.Networks[network]?.IPAddress ?? "";
}

describe.if(ok)("a dead --pid process", () => {
	test("as root: the pid is recorded, and gc reclaims the container once it is gone", async () => {
		const cid = id("pid");
		const p = Bun.spawn(["unshare", "-n", "sleep", "300"]);
		await waitUnshared(p.pid, 1000, 10);
		const r = await W.run([
			"setup",
			cid,
			"--pid",
			String(p.pid),
			"--network",
			RA,
			"-p",
			"127.0.0.1:31999:8080",
		]);
		expect(r.stderr).toBe("");
		expect(r.code).toBe(0);
		expect((await gc()).reclaimed).toEqual([]); // alive: nothing to do
		p.kill(9);
		await p.exited;
		const report = await gc();
		expect(report.reclaimed.map((x) => x.id)).toEqual([cid]);
		expect(await row(cid)).toBeUndefined();
		expect(await leftovers(W, [cid], [RA])).toEqual([]);
	});
});

describe.if(ok)("gc never acts on a snapshot that changed", () => {
	test("a container torn down and set up again while gc runs survives it", async () => {
		const dead = ["a1", "a2", "a3"].map(id);
		const z = id("z9");
		for (const cid of dead) expect((await W.run(["setup", cid, "--network", RD])).code).toBe(0);
		expect((await W.run(["setup", z, "--network", RA])).code).toBe(0);
		for (const cid of [...dead, z]) await killNetns(cid);
		const running = start(["gc"]); // busy for ~4.5 s with the slow DELs of a1..a3
		await Bun.sleep(600);
		expect((await W.run(["teardown", z])).code).toBe(0);
		expect((await W.run(["setup", z, "--network", RA])).code).toBe(0);
		const zNetns = (await row(z))?.netns as string;
		expect(await running.exited).toBe(0);
		const after = await row(z);
		expect(after?.status).toBe("ready");
		expect(after?.netns).toBe(zNetns);
		expect(existsSync(zNetns)).toBe(true);
		expect(await ipOf(z, RA)).toMatch(/^10\.218\.1\./);
		for (const cid of dead) expect(await row(cid)).toBeUndefined();
		expect((await W.run(["teardown", z])).code).toBe(0);
		expect(await leftovers(W, [...dead, z], [RA, RD])).toEqual([]);
	});
});

describe.if(ok)("kill -9 of a change to one network: gc repairs that network only", () => {
	test("connect killed mid-ADD: undone, the other network untouched", async () => {
		const cid = id("conn");
		expect((await W.run(["setup", cid, "--network", RA])).code).toBe(0);
		const ip = await ipOf(cid, RA);
		await killAfter(start(["connect", RS, cid]), 1000);
		expect((await row(cid))?.status).toBe("creating");
		expect((await gc()).repaired.map((x) => x.id)).toEqual([cid]);
		const r = await row(cid);
		expect([r?.status, r?.networks]).toEqual(["ready", [RA]]);
		expect(await ipOf(cid, RA)).toBe(ip);
		expect(await leftovers(W, [], [RS])).toEqual([]);
		await teardownOk(cid);
		expect(await leftovers(W, [cid], [RA, RS])).toEqual([]);
	});

	test("reload killed mid-ADD: finished, same addresses", async () => {
		const cid = id("rel");
		expect((await W.run(["setup", cid, "--network", `${RA},${RS}`])).code).toBe(0);
		const before = [await ipOf(cid, RA), await ipOf(cid, RS)];
		await killAfter(start(["reload", cid]), 1200); // RA done, RS's ADD sleeping
		expect((await gc()).repaired.map((x) => x.id)).toEqual([cid]);
		const r = await row(cid);
		expect([r?.status, r?.networks]).toEqual(["ready", [RA, RS].sort()]);
		expect([await ipOf(cid, RA), await ipOf(cid, RS)]).toEqual(before);
		await teardownOk(cid);
		expect(await leftovers(W, [cid], [RA, RS])).toEqual([]);
	});

	test("disconnect killed mid-DEL: finished, the other network untouched", async () => {
		const cid = id("disc");
		expect((await W.run(["setup", cid, "--network", `${RA},${RD}`])).code).toBe(0);
		const ip = await ipOf(cid, RA);
		await killAfter(start(["disconnect", RD, cid]), 500);
		expect((await gc()).repaired.map((x) => x.id)).toEqual([cid]);
		const r = await row(cid);
		expect([r?.status, r?.networks]).toEqual(["ready", [RA]]);
		// gc recorded the disconnect it finished, once (with the ready state, in one write)
		const events = await W.json<{ id: string; type: string; network: string | null }[]>([
			"events",
			"--format",
			"json",
		]);
		expect(events.filter((e) => e.id === cid && e.type === "disconnect")).toEqual([
			expect.objectContaining({ network: RD }),
		]);
		expect(await ipOf(cid, RA)).toBe(ip);
		expect(await leftovers(W, [], [RD])).toEqual([]);
		await teardownOk(cid);
	});
});

describe.if(ok)("a setup joining another container's namespace", () => {
	test("never takes, nor rolls back, an interface it did not make", async () => {
		const j1 = id("j1");
		expect((await W.run(["setup", j1, "--network", RA])).code).toBe(0);
		const ns = (await row(j1))?.netns as string;
		const eth0 = () => sh(["nsenter", `--net=${ns}`, "ip", "-o", "addr", "show", "eth0"]).out;
		const before = eth0();
		expect(before).toContain("10.218.1.");
		const failed = await W.run(["setup", id("j6"), "--netns", ns, "--network", RF]);
		expect(failed.code).toBe(125);
		expect(failed.stderr).toContain("t4-fixture refuses ADD");
		expect(eth0()).toBe(before);
		const j7 = id("j7");
		const joined = await W.json<InspectObject>(["setup", j7, "--netns", ns, "--network", RB]);
		expect(joined.NetworkSettings.Networks[RB]?.InterfaceName).toBe("eth1");
		expect((await W.run(["teardown", j7])).code).toBe(0);
		expect(eth0()).toBe(before);
		expect((await W.run(["teardown", j1])).code).toBe(0);
		expect(await leftovers(W, [j1, j7], [RA, RB, RF])).toEqual([]);
	});
});

describe.if(ok)("a full disk", () => {
	test("setup fails with one line and leaves the host as it was", async () => {
		const F = world("t10-full");
		const state = `${F.dir}/state`;
		mkdirSync(state, { recursive: true });
		sh(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", state]);
		const FN = net("full");
		try {
			// The disk fills while the plugins work: the host has changed, the record cannot follow.
			await createNetworks(
				F,
				[{ name: FN, subnet: "10.218.9.0/24", extra: { type: "t5-slow", sleep: 1 } }],
				`t10f${tag}`,
			);
			expect((await F.run(["ps"])).code).toBe(0); // the database exists
			const cid = `t10-${tag}-full`;
			const p = start(["setup", cid, "--network", FN], F.env);
			await Bun.sleep(500);
			sh(["dd", "if=/dev/zero", `of=${state}/filler`, "bs=64k", "count=64"]);
			const r = {
				code: await p.exited,
				stderr: await new Response(p.stderr).text(),
			};
			expect(r.code).toBe(125);
			expect(r.stderr).toMatch(
				/(^|\n)Error: cannot (open|write) the state database .*: (database or disk is full|disk I\/O error)/,
			);
			// The error, and at most a warning that the record is left for gc.
			const lines = r.stderr.trim().split("\n");
			expect(lines.filter((l) => l.startsWith("Error: "))).toHaveLength(1);
			expect(lines.filter((l) => !l.startsWith("Error: ") && !l.startsWith("Warning: "))).toEqual(
				[],
			);
			rmSync(`${state}/filler`);
			// Clean before gc ran: the record (left for gc) names a namespace that is gone.
			const left = (await ps(F)).find((x) => x.id === cid);
			if (left) expect(existsSync(left.netns)).toBe(false);
			expect(await leftovers(F, [cid], [FN])).toEqual([]);
			expect((await ps(F)).filter((x) => x.status === "ready")).toEqual([]);
			await F.run(["gc"]);
			expect(await ps(F)).toEqual([]);
			expect(await leftovers(F, [cid], [FN])).toEqual([]);
		} finally {
			rmSync(`${state}/filler`, { force: true });
			await F.run(["gc"]);
			await F.run(["network", "rm", "--force", FN]);
			sh(["umount", "-l", state]);
			F.cleanup();
		}
	});
});

describe.if(ok)("records this ctrnet cannot read", () => {
	test("are skipped with a warning, and teardown or gc still undo them", async () => {
		const v1 = id("v1");
		const v2 = id("v2");
		expect((await W.run(["setup", v1, "--network", RA])).code).toBe(0);
		expect((await W.run(["setup", v2, "--network", RA])).code).toBe(0);
		const db = new Database(`${W.env.CTRNET_ROOT}/ctrnet.db`);
		for (const cid of [v1, v2]) {
			const { doc } = db.query("SELECT doc FROM containers WHERE id = ?").get(cid) as {
				doc: string;
			};
			const frozen = { ...JSON.parse(doc), status: "frozen-by-a-future-ctrnet" };
			db.query("UPDATE containers SET doc = ? WHERE id = ?").run(JSON.stringify(frozen), cid);
		}
		db.close();
		const listed = await W.run(["ps", "--format", "json"]);
		expect(listed.code).toBe(0);
		expect(listed.stderr).toContain(`Warning: skipping container ${v1}:`);
		expect(JSON.parse(listed.stdout).some((r: Row) => r.id === v1)).toBe(false);
		const other = id("v3");
		expect((await W.run(["setup", other, "--network", "none"])).code).toBe(0);
		expect((await W.run(["reload", "--all"])).code).toBe(0);
		const td = await W.run(["teardown", v1]);
		expect(td.code).toBe(0);
		expect(td.stderr).toContain("tearing it down from what can be read");
		const report = await gc();
		expect(report.reclaimed.map((x) => x.id)).toContain(v2);
		expect((await W.run(["teardown", other])).code).toBe(0);
		expect(await leftovers(W, [v1, v2, other], [RA])).toEqual([]);
	});

	test("an empty database file is refused, not taken for an empty state", async () => {
		const E = world("t10-empty");
		mkdirSync(E.env.CTRNET_ROOT, { recursive: true });
		writeFileSync(`${E.env.CTRNET_ROOT}/ctrnet.db`, "");
		const r = await E.run(["ps"]);
		expect(r.code).toBe(125);
		expect(r.stderr).toMatch(/^Error: the state database .* is empty \(0 bytes\)/);
		E.cleanup();
	});
});

describe.if(ok)("nothing stays stuck in removing", () => {
	test("a 253-character ID sets up and tears down (the cache file name is shortened)", async () => {
		const cid = `t10${tag}`.padEnd(253, "x");
		ids.push(cid);
		expect((await W.run(["setup", cid, "--network", RA])).code).toBe(0);
		expect(readdirSync(`${W.env.CTRNET_CNI_CACHE_DIR}/results`).some((f) => f.length <= 255)).toBe(
			true,
		);
		await teardownOk(cid);
		expect(await leftovers(W, [cid], [RA])).toEqual([]);
	});

	test("a teardown whose DEL failed is finished by the next one", async () => {
		const cid = id("delfail");
		expect((await W.run(["setup", cid, "--network", `${RA},${RX}`])).code).toBe(0);
		writeFileSync(flag, "");
		const first = await W.run(["teardown", cid]);
		expect(first.code).toBe(125);
		expect(first.stderr).toContain("t5-slow refuses DEL");
		const r = await row(cid);
		expect([r?.status, r?.networks]).toEqual(["removing", [RX]]); // RA is done already
		rmSync(flag);
		await teardownOk(cid);
		expect(await leftovers(W, [cid], [RA, RX])).toEqual([]);
	});

	test("gc killed during a stand-in DEL: the next gc finishes and removes the stand-in", async () => {
		const cid = id("standin");
		expect((await W.run(["setup", cid, "--network", RD])).code).toBe(0);
		await killNetns(cid);
		await killAfter(start(["gc"]), 700); // in the slow DEL, against a stand-in namespace
		const standIns = () =>
			readdirSync(W.env.CTRNET_NETNS_DIR).filter((f) => f.startsWith("ctrnet-standin-"));
		expect(standIns()).toHaveLength(1);
		const report = await gc();
		expect(report.reclaimed.map((x) => x.id)).toContain(cid);
		expect(standIns()).toEqual([]);
		expect(await leftovers(W, [cid], [RD])).toEqual([]);
	});

	test("setup killed while the firewall plugin's rules exist: gc removes them too", async () => {
		const cid = id("fw");
		const p = start(["setup", cid, "--network", RFW]);
		await Bun.sleep(1500); // bridge, portmap and firewall done; the slow plugin sleeps
		const cache = readFileSync(`${W.env.CTRNET_CNI_CACHE_DIR}/results/${RFW}-${cid}-eth0`, "utf8");
		const addr = /"address":"(10\.218\.5\.\d+)\//.exec(cache)?.[1] as string;
		expect(addr).toBeTruthy();
		const rules = () =>
			sh(["iptables", "-S", "CNI-FORWARD"])
				.out.split("\n")
				.filter((l) => l.includes(`${addr}/32`));
		expect(rules().length).toBeGreaterThan(0);
		p.kill(9);
		await p.exited;
		expect((await gc()).reclaimed.map((x) => x.id)).toEqual([cid]);
		expect(rules()).toEqual([]);
		expect(await leftovers(W, [cid], [RFW])).toEqual([]);
	});
});

describe.if(ok)("network rm --force racing a setup on that network", () => {
	test("the container never stays on a network that is gone", async () => {
		const cid = id("rmrace");
		const RR = net("r");
		await createNetworks(
			W,
			[{ name: RR, subnet: "10.218.8.0/24", extra: { type: "t5-slow", sleep: 2 } }],
			`t10r${tag}`,
		);
		const bridge = bridgeOf(W, RR);
		const setup = start(["setup", cid, "--network", RR]);
		await Bun.sleep(500);
		const rm = await W.run(["network", "rm", "--force", RR]);
		expect(rm.code).toBe(0);
		await setup.exited;
		const r = await row(cid);
		expect(r?.networks ?? []).not.toContain(RR);
		expect(existsSync(`/sys/class/net/${bridge}`)).toBe(false);
		await W.run(["teardown", cid]);
		expect(await leftovers(W, [cid], [])).toEqual([]);
	});
});
