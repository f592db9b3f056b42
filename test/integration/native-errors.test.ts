// The native backend's refusals (issue 12): each is one `Error:` line, exit 125, and the host as
// it was — no link, no nftables table, no namespace, no lease. Subnets 10.245.0.0/16.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { have, requireBinary } from "../lib/cli";
import { world } from "../lib/env";
import { sh } from "../lib/host";

const ok = have(["ip", "nft"], true);
const W = world("t12-err");
W.env.CTRNET_NETWORK_BACKEND = "native";
const tag = Math.random().toString(16).slice(2, 6);
const NET = `t12e-${tag}`;
const BR = `t12e${tag}`;
const id64 = "e".repeat(64);

function definition(name: string, body: Record<string, unknown>): void {
	mkdirSync(W.env.CTRNET_NETWORK_CONFIG_DIR, { recursive: true });
	const doc = {
		name,
		id: id64,
		driver: "bridge",
		network_interface: `${BR}x`,
		ipv6_enabled: false,
		internal: false,
		dns_enabled: false,
		...body,
	};
	writeFileSync(`${W.env.CTRNET_NETWORK_CONFIG_DIR}/${name}.json`, JSON.stringify(doc));
}

/** What a refused setup must not leave: links, ctrnet's table, namespaces, leases. */
function hostState() {
	const netns = W.env.CTRNET_NETNS_DIR;
	return {
		links: sh(["ip", "-o", "link"])
			.out.split("\n")
			.map((l) => l.split(":")[1]?.trim())
			.sort(),
		table: sh(["nft", "list", "table", "inet", "ctrnet"]).code === 0,
		netns: existsSync(netns) ? readdirSync(netns) : [],
	};
}

beforeAll(async () => {
	requireBinary();
	if (!ok) return;
	const r = await W.run([
		"network",
		"create",
		"--disable-dns",
		"--subnet",
		"10.245.1.0/29",
		"--interface-name",
		BR,
		NET,
	]);
	expect(r.stderr).toBe("");
	expect(
		(await W.run(["setup", `t12e-${tag}-holder`, "--network", NET, "--ip", "10.245.1.2"])).code,
	).toBe(0);
	definition(`${NET}-bad`, {}); // rewritten per case below
});

afterAll(async () => {
	if (ok) {
		await W.run(["teardown", `t12e-${tag}-holder`]);
		await W.run(["network", "rm", "--force", NET]);
	}
	W.cleanup();
});

describe.if(ok)("native backend refusals", () => {
	const cases: [string, () => void, string[], Record<string, string>, RegExp][] = [
		[
			"an unknown backend",
			() => {},
			["--network", NET],
			{ CTRNET_NETWORK_BACKEND: "magic" },
			/invalid --network-backend .*"magic".*cni\|native/,
		],
		[
			"malformed network JSON",
			() => writeFileSync(`${W.env.CTRNET_NETWORK_CONFIG_DIR}/${NET}-bad.json`, "{"),
			["--network", `${NET}-bad`],
			{},
			/malformed JSON/,
		],
		[
			"overlapping subnets",
			() =>
				definition(`${NET}-bad`, {
					subnets: [{ subnet: "10.245.9.0/24" }, { subnet: "10.245.9.128/25" }],
				}),
			["--network", `${NET}-bad`],
			{},
			/overlap/,
		],
		[
			"a gateway outside its subnet",
			() =>
				definition(`${NET}-bad`, { subnets: [{ subnet: "10.245.9.0/24", gateway: "10.245.8.1" }] }),
			["--network", `${NET}-bad`],
			{},
			/gateway 10\.245\.8\.1 not in subnet/,
		],
		[
			"an unknown driver",
			() => definition(`${NET}-bad`, { driver: "ipvlan", subnets: [{ subnet: "10.245.9.0/24" }] }),
			["--network", `${NET}-bad`],
			{},
			/ipvlan/,
		],
		[
			"a static IP outside the subnet",
			() => {},
			["--network", NET, "--ip", "10.245.2.9"],
			{},
			/not in any subnet/,
		],
		[
			"a static IP already leased",
			() => {},
			["--network", NET, "--ip", "10.245.1.2"],
			{},
			/already allocated to container ID t12e-/,
		],
		[
			"libnftables missing",
			() => {},
			["--network", NET],
			{ CTRNET_LIBNFTABLES: "/nonexistent/libnftables.so.1" },
			/libnftables1/,
		],
		[
			"a macvlan parent that does not exist",
			() =>
				definition(`${NET}-bad`, {
					driver: "macvlan",
					network_interface: `nope${tag}`,
					subnets: [{ subnet: "10.245.9.0/24" }],
				}),
			["--network", `${NET}-bad`],
			{},
			/parent interface nope.* does not exist/,
		],
	];
	for (const [what, arrange, args, env, message] of cases) {
		test(what, async () => {
			arrange();
			const before = hostState();
			const r = await W.run(["setup", `t12e-${tag}-x`, ...args], { env });
			expect(r.code).toBe(125);
			expect(r.stderr).toMatch(message);
			expect(r.stderr.trim().split("\n")).toHaveLength(1);
			expect(r.stderr).toStartWith("Error: ");
			expect(hostState()).toEqual(before);
			expect(await W.json(["ps", "--format", "json"])).toHaveLength(1); // the holder only
		});
	}

	test("a bridge that containers of the cni backend use", async () => {
		const cni = { env: { CTRNET_NETWORK_BACKEND: "cni" } };
		const cniNet = `t12c-${tag}`;
		let bridge = "";
		try {
			const made = await W.run(["network", "create", "--subnet", "10.245.6.0/24", cniNet], cni);
			expect(made.stderr).toBe("");
			expect((await W.run(["setup", `t12e-${tag}-cni`, "--network", cniNet], cni)).code).toBe(0);
			const inspect = await W.run(["network", "inspect", cniNet], cni);
			const conf = JSON.parse(inspect.stdout) as { plugins: { bridge?: string }[] }[];
			bridge = conf[0]?.plugins.find((p) => p.bridge)?.bridge ?? "";
			expect(bridge).not.toBe("");
			definition(`${NET}-bad`, {
				network_interface: bridge,
				subnets: [{ subnet: "10.245.7.0/24", gateway: "10.245.7.1" }],
			});
			const before = hostState();
			const r = await W.run(["setup", `t12e-${tag}-x`, "--network", `${NET}-bad`]);
			expect(r.code).toBe(125);
			expect(r.stderr).toBe(
				`Error: bridge ${bridge} of network ${NET}-bad carries container t12e-${tag}-cni attached through the cni backend; give the network another --interface-name\n`,
			);
			expect(hostState()).toEqual(before);
		} finally {
			expect((await W.run(["teardown", `t12e-${tag}-cni`], cni)).code).toBe(0);
			expect((await W.run(["network", "rm", cniNet], cni)).code).toBe(0);
			if (bridge) sh(["ip", "link", "del", bridge]);
		}
	});

	test("an exhausted subnet", async () => {
		// 10.245.1.0/29: .1 is the gateway, .2 the holder; .3–.6 are left.
		const ups = [];
		for (let i = 0; i < 4; i++)
			ups.push(await W.run(["setup", `t12e-${tag}-f${i}`, "--network", NET]));
		expect(ups.map((u) => u.code)).toEqual([0, 0, 0, 0]);
		const before = hostState();
		const r = await W.run(["setup", `t12e-${tag}-f9`, "--network", NET]);
		expect(r.code).toBe(125);
		expect(r.stderr).toMatch(/^Error: failed to find free IP in range: .*exhausted/);
		expect(hostState()).toEqual(before);
		for (let i = 0; i < 4; i++)
			expect((await W.run(["teardown", `t12e-${tag}-f${i}`])).code).toBe(0);
	});
});
