// Container DNS on ctrnet's own native networks (DESIGN 12): containers set up with --alias
// resolve each other by name and alias through the real aardvark-dns, inspect says so per network,
// the last container takes aardvark with it, and a --disable-dns network gets none of it.
// Subnets 10.244.0.0/16.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { InspectObject } from "../../src/container/inspect";
import { findAardvarkBinary } from "../../src/helpers/aardvark";
import { have, requireBinary } from "../lib/cli";
import { world } from "../lib/env";
import { processesMatching, sh, until } from "../lib/host";

const aardvark = findAardvarkBinary();
if (!aardvark && process.env.CI === "true") throw new Error("aardvark-dns missing (scripts/setup)");
const ok = have(["ip", "nft", "nsenter", "busybox"], true) && !!aardvark;
const W = world("t13-dns");
W.env.CTRNET_NETWORK_BACKEND = "native";
const tag = Math.random().toString(16).slice(2, 6);
const NET = `t13d-${tag}`;
const QUIET = `t13q-${tag}`;
const ids: string[] = [];
const id = (n: string) => {
	const v = `t13-${tag}-${n}`;
	ids.push(v);
	return v;
};

beforeAll(async () => {
	requireBinary();
	if (!ok) return;
	for (const [name, subnet, bridge, extra] of [
		[NET, "10.244.1.0/24", `t13d${tag}`, []],
		[QUIET, "10.244.2.0/24", `t13q${tag}`, ["--disable-dns"]],
	] as const) {
		const r = await W.run([
			"network",
			"create",
			"--subnet",
			subnet,
			"--interface-name",
			bridge,
			...extra,
			name,
		]);
		expect(r.stderr).toBe("");
	}
});

afterAll(async () => {
	if (ok) {
		for (const cid of ids) await W.run(["teardown", cid]);
		for (const n of [NET, QUIET]) await W.run(["network", "rm", "--force", n]);
	}
	W.cleanup();
});

const aardvarks = () => processesMatching(`${W.env.CTRNET_RUN_ROOT}/aardvark-dns`);

/** busybox nslookup NAME at the gateway, from inside a container's namespace; the addresses. */
function lookup(netns: string, name: string): string[] {
	const r = sh(["nsenter", `--net=${netns}`, "busybox", "nslookup", name, "10.244.1.1"]);
	return [...r.out.matchAll(/Address: (10\.244\.[\d.]+)/g)].map((m) => m[1] as string);
}

describe.if(ok)("native networks with DNS", () => {
	test("names and aliases resolve between containers; inspect shows the DNS; the last one stops aardvark", async () => {
		const a = id("a");
		const b = id("b");
		// NETAVARK_DNS_PORT is the netavark front end's: ctrnet's own networks keep aardvark on 53
		const ra = await W.run(["setup", a, "--network", NET, "--alias", "web"], {
			env: { NETAVARK_DNS_PORT: "5399" },
		});
		expect([ra.code, ra.stderr]).toEqual([0, ""]);
		const ia = JSON.parse(ra.stdout) as InspectObject;
		const ib = await W.json<InspectObject>(["setup", b, "--network", NET]);
		expect(ia.NetworkSettings.Networks[NET]).toMatchObject({
			DNSNames: [a, "web"],
			DNSServers: ["10.244.1.1"],
			DNSSearchDomains: ["dns.podman"],
		});
		expect(aardvarks()).toHaveLength(1);
		expect(readFileSync(`/proc/${aardvarks()[0]}/cmdline`, "utf8").split("\0")).toContain("53");
		const ipA = ia.NetworkSettings.IPAddress;
		const nsB = ib.NetworkSettings.SandboxKey;
		expect(
			await until(
				() => lookup(nsB, "web"),
				3000,
				50,
				(v) => v.length > 0,
			),
		).toEqual([ipA]);
		expect(lookup(nsB, a)).toEqual([ipA]);
		expect(lookup(ia.NetworkSettings.SandboxKey, b)).toEqual([ib.NetworkSettings.IPAddress]);
		expect((await W.run(["teardown", a])).code).toBe(0);
		expect(
			await until(
				() => lookup(nsB, "web"),
				3000,
				50,
				(v) => v.length === 0,
			),
		).toEqual([]);
		expect((await W.run(["teardown", b])).code).toBe(0);
		expect(await until(aardvarks, 3000, 50, (v) => v.length === 0)).toEqual([]);
	});

	test("a --disable-dns network: no DNS in inspect, no aardvark", async () => {
		const q = id("q");
		const i = await W.json<InspectObject>(["setup", q, "--network", QUIET, "--alias", "x"]);
		const entry = i.NetworkSettings.Networks[QUIET];
		expect(entry?.DNSNames).toBeUndefined();
		expect(entry?.DNSServers).toBeUndefined();
		expect(entry?.Aliases).toEqual(["x"]);
		expect(aardvarks()).toEqual([]);
		expect((await W.run(["teardown", q])).code).toBe(0);
	});
});
