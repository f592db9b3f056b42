// CNI networks for lifecycle tests, each with a bridge of its own (networks in other tests' config
// dirs may pick the same ctrnetN), optionally with a test plugin spliced in; and the check that a
// set of containers left nothing on the host.

import { expect } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { World } from "./env";
import { bridgePorts, cniIdComment, iptablesMentioning, leaseFiles, mountsUnder } from "./host";

export interface NetSpec {
	name: string;
	subnet: string;
	/** A test plugin (test/fixtures/cni-plugins) appended to the chain, or put at `at`. */
	extra?: Record<string, unknown>;
	at?: number;
	/** The bridge's name (default: `<bridgePrefix><index>`). */
	bridge?: string;
}

export function conflistFile(W: World, net: string): string {
	return `${W.env.CTRNET_CNI_CONFIG_DIR}/${net}.conflist`;
}

export function bridgeOf(W: World, net: string): string {
	return JSON.parse(readFileSync(conflistFile(W, net), "utf8")).plugins[0].bridge;
}

/** Creates the networks with `ctrnet network create`; bridge i is `<bridgePrefix><i>`. */
export async function createNetworks(
	W: World,
	specs: NetSpec[],
	bridgePrefix: string,
): Promise<void> {
	for (const [i, s] of specs.entries()) {
		const r = await W.run(["network", "create", "--subnet", s.subnet, s.name]);
		expect(r.stderr).toBe("");
		const file = conflistFile(W, s.name);
		const conf = JSON.parse(readFileSync(file, "utf8"));
		conf.plugins[0].bridge = s.bridge ?? `${bridgePrefix}${i}`;
		if (s.extra) conf.plugins.splice(s.at ?? conf.plugins.length, 0, s.extra);
		writeFileSync(file, JSON.stringify(conf));
	}
}

/**
 * Everything the given containers could leave on the host: iptables rules naming them, leases and
 * veths on the networks, namespace files or mounts that no container still set up owns, cache
 * entries, stand-in namespaces.
 */
export async function leftovers(W: World, cids: string[], nets: string[]): Promise<string[]> {
	const rows = await W.json<{ netns: string }[]>(["ps", "--format", "json"]);
	const live = new Set(rows.map((r) => r.netns.slice(r.netns.lastIndexOf("/") + 1)));
	const out: string[] = [];
	out.push(...iptablesMentioning(cids.map(cniIdComment)));
	for (const n of nets) {
		out.push(...leaseFiles(n).map((l) => `lease ${n}/${l}`));
		if (existsSync(conflistFile(W, n))) {
			out.push(...bridgePorts(bridgeOf(W, n)).map((p) => `veth ${p} on ${n}`));
		}
	}
	const netnsDir = W.env.CTRNET_NETNS_DIR as string;
	const ours = (f: string) => !live.has(f.slice(f.lastIndexOf("/") + 1));
	const mounts = mountsUnder(netnsDir).filter((m) => m !== netnsDir && ours(m));
	out.push(...mounts.map((m) => `mount ${m}`));
	if (existsSync(netnsDir))
		out.push(
			...readdirSync(netnsDir)
				.filter(ours)
				.map((f) => `netns file ${f}`),
		);
	const cache = `${W.env.CTRNET_CNI_CACHE_DIR}/results`;
	if (existsSync(cache))
		out.push(
			...readdirSync(cache)
				.filter((f) => cids.some((c) => f.includes(c)))
				.map((f) => `cache ${f}`),
		);
	return out;
}
