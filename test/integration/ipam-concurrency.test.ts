// IPAM under load (DESIGN 10): 100 processes allocate on one dual-stack network at the same
// moment against one fresh state database, with sqlite's write lock as the only lock. Each gets
// one IPv4 and one IPv6 address, all distinct, never the gateway; the round robin makes them the
// first 100 hosts. Then 100 processes release at once and nothing is left.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { listLeases } from "../../src/ipam/leases";
import { writeNetworkDef } from "../../src/netconf/store";
import { toNetworkDef } from "../../src/netconf/validate";
import { Store } from "../../src/state/store";

const N = 100;
const RUNNER = resolve(import.meta.dir, "../lib/ipam-runner.ts");
const NET = "tnc-conc";
const dir = mkdtempSync(`${tmpdir()}/tnc-ipam-conc-`);
const stateDir = `${dir}/state`;
const netDir = `${dir}/networks`;
const ids = Array.from({ length: N }, (_, i) => `tnc-ctr-${i}`);
const pids: number[] = [];

beforeAll(() => {
	writeNetworkDef(
		netDir,
		toNetworkDef({
			name: NET,
			id: "e".repeat(64),
			driver: "bridge",
			network_interface: "tncbr-conc",
			subnets: [
				{ subnet: "10.236.32.0/24", gateway: "10.236.32.1" },
				{ subnet: "fd36:32::/64", gateway: "fd36:32::1" },
			],
			ipam_options: { driver: "host-local" },
		}),
	);
});

afterAll(() => {
	for (const pid of pids) {
		try {
			process.kill(pid, "SIGKILL"); // only if a runner hung; normally all have exited
		} catch {}
	}
	rmSync(dir, { recursive: true, force: true });
});

interface Out {
	leases?: { address: string; subnet: string; containerId: string }[];
	error?: string;
}

/** Starts one runner per container, waits until all are ready, starts them at once. */
async function together(mode: "allocate" | "release", phase: string): Promise<Out[]> {
	const sync = `${dir}/sync-${phase}`;
	mkdirSync(sync);
	const procs = ids.map((id) =>
		Bun.spawn([process.execPath, RUNNER, mode, stateDir, netDir, NET, id, sync], {
			stdout: "pipe",
			stderr: "inherit",
			env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
		}),
	);
	for (const p of procs) pids.push(p.pid);
	const deadline = Date.now() + 120_000;
	while (readdirSync(sync).length < N) {
		const early = procs.find((p) => p.exitCode !== null);
		if (early)
			throw new Error(
				`a runner exited before the start: ${await new Response(early.stdout).text()}`,
			);
		if (Date.now() > deadline) throw new Error("runners did not get ready in time");
		await Bun.sleep(20);
	}
	writeFileSync(`${sync}/go`, "");
	const outs = await Promise.all(
		procs.map(async (p) => JSON.parse(await new Response(p.stdout).text()) as Out),
	);
	await Promise.all(procs.map((p) => p.exited));
	return outs;
}

test(`${N} processes allocating at once on one network get ${N} distinct addresses per family`, async () => {
	const outs = await together("allocate", "up");
	expect(outs.filter((o) => o.error).map((o) => o.error)).toEqual([]);
	const v4 = outs.map((o) => o.leases?.[0]?.address as string);
	const v6 = outs.map((o) => o.leases?.[1]?.address as string);
	expect(new Set(v4).size).toBe(N);
	expect(new Set(v6).size).toBe(N);
	expect(v4).not.toContain("10.236.32.1");
	expect(v6).not.toContain("fd36:32::1");
	// Round robin from the range's start, skipping the gateway: exactly hosts 2..101.
	const want4 = Array.from({ length: N }, (_, i) => `10.236.32.${i + 2}`);
	const want6 = Array.from({ length: N }, (_, i) => `fd36:32::${(i + 2).toString(16)}`);
	expect([...v4].sort()).toEqual([...want4].sort());
	expect([...v6].sort()).toEqual([...want6].sort());

	const store = Store.open(stateDir);
	try {
		const rows = listLeases(store.db, { network: NET });
		expect(rows).toHaveLength(2 * N);
		// each container holds exactly what its process reported
		const byCtr = new Map<string, string[]>();
		for (const r of rows)
			byCtr.set(r.containerId, [...(byCtr.get(r.containerId) ?? []), r.address]);
		outs.forEach((o, i) => {
			expect(byCtr.get(ids[i] as string)?.sort()).toEqual(o.leases?.map((l) => l.address).sort());
		});
	} finally {
		store.close();
	}
}, 300_000);

test(`${N} processes releasing at once leave no lease`, async () => {
	const outs = await together("release", "down");
	expect(outs.filter((o) => o.error).map((o) => o.error)).toEqual([]);
	expect(outs.every((o) => o.leases?.length === 2)).toBe(true);
	const store = Store.open(stateDir);
	try {
		expect(listLeases(store.db)).toEqual([]);
	} finally {
		store.close();
	}
	// nothing left running, no temp file beside the network definition
	for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false);
	expect(readdirSync(netDir)).toEqual([`${NET}.json`]);
}, 300_000);
