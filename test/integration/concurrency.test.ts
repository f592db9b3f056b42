// Many ctrnet processes at once (DESIGN 8): 50 concurrent setups on one network all succeed with
// 50 distinct addresses, and 50 concurrent teardowns leave nothing behind.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { InspectObject } from "../../src/container/inspect";
import { have, requireBinary } from "../lib/cli";
import { world } from "../lib/env";
import {
	bridgePorts,
	cniIdComment,
	iptablesMentioning,
	leaseFiles,
	mountsUnder,
} from "../lib/host";

const ok = have(["iptables"], true);
const W = world("t5-conc");
const tag = Math.random().toString(16).slice(2, 6);
const NET = `t5conc-${tag}`;
const BRIDGE = `t5cb${tag}`;
const N = 50;
const ids = Array.from({ length: N }, (_, i) => `t5c-${tag}-${i}`);

beforeAll(async () => {
	requireBinary();
	if (!ok) return;
	expect((await W.run(["network", "create", "--subnet", "10.215.16.0/22", NET])).code).toBe(0);
	const file = `${W.env.CTRNET_CNI_CONFIG_DIR}/${NET}.conflist`;
	const conf = JSON.parse(readFileSync(file, "utf8"));
	conf.plugins[0].bridge = BRIDGE; // a bridge name no other test's network can pick
	writeFileSync(file, JSON.stringify(conf));
});

afterAll(async () => {
	if (ok) {
		await Promise.all(ids.map((id) => W.run(["teardown", id])));
		await W.run(["network", "rm", "--force", NET]);
	}
	W.cleanup();
});

test.if(ok)(
	`${N} concurrent setups get ${N} distinct addresses; ${N} concurrent teardowns leave nothing`,
	async () => {
		const results = await Promise.all(
			ids.map((id, i) => W.run(["setup", id, "--network", NET, "-p", `${19000 + i}:80`])),
		);
		const failures = results.filter((r) => r.code !== 0).map((r) => r.stderr);
		expect(failures).toEqual([]);
		const ips = results.map(
			(r) => (JSON.parse(r.stdout) as InspectObject).NetworkSettings.IPAddress,
		);
		expect(new Set(ips).size).toBe(N);
		const rows = await W.json<{ id: string }[]>(["ps", "--format", "json"]);
		expect(rows.map((r) => r.id).sort()).toEqual([...ids].sort());
		expect(leaseFiles(NET).sort()).toEqual([...ips].sort());
		expect(bridgePorts(BRIDGE)).toHaveLength(N);

		const downs = await Promise.all(ids.map((id) => W.run(["teardown", id])));
		expect(downs.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
		expect(await W.json(["ps", "--format", "json"])).toEqual([]);
		expect(leaseFiles(NET)).toEqual([]);
		expect(bridgePorts(BRIDGE)).toEqual([]);
		expect(iptablesMentioning(ids.map(cniIdComment))).toEqual([]);
		const netnsDir = W.env.CTRNET_NETNS_DIR as string;
		expect(mountsUnder(netnsDir).filter((m) => m !== netnsDir)).toEqual([]);
		expect(existsSync(netnsDir) ? readdirSync(netnsDir) : []).toEqual([]);
		const events = await W.json<{ type: string }[]>(["events", "--format", "json"]);
		expect(events.filter((e) => e.type === "setup")).toHaveLength(N);
		expect(events.filter((e) => e.type === "teardown")).toHaveLength(N);
	},
	300_000,
);
