// DEL after the container's namespace is gone (a reboot, a lost pin): the bridge plugin of
// containernetworking/plugins 1.1 learns which addresses to un-masquerade from the interface it
// deletes, and skips that part when the namespace is missing — leaving the CNI-… NAT chain behind
// for good. So such a DEL runs against a stand-in: a fresh namespace holding a link named like the
// container's interface, with the addresses of the cached ADD result. The plugins remove it as if
// it were the real one, rules included; then the stand-in namespace goes.
import type { CniResult } from "../../cni";
import { addAddress, createBridge, setLinkUp, withNetlink } from "../../netlink";
import { createNetns, listNetns, netnsAlive, removeNetns } from "../../netns";
import { self } from "../../process/identity";
import type { Container } from "../../state/schema";
import type { Runtime } from "../runtime";
import { runtimeConf } from "./cni-conf";

/** The addresses the cached result gave the container's interface for this network. */
export function standInAddresses(result: CniResult, ifName: string): string[] {
	const onIf = result.ips.filter(
		(ip) => ip.interface !== undefined && result.interfaces[ip.interface]?.name === ifName,
	);
	return (onIf.length > 0 ? onIf : result.ips).map((ip) => ip.address);
}

/**
 * Runs `del` with a container record whose namespace is a stand-in, when the real one is gone and
 * the cache knows the addresses; otherwise with the record as it is.
 */
export async function withStandIn(
	rt: Runtime,
	c: Container,
	network: string,
	del: (c: Container) => Promise<void>,
): Promise<void> {
	const ifName = c.interfaces[network] ?? "";
	const cached =
		c.netns && !netnsAlive(c.netns.path)
			? rt.cni.cachedResult(network, runtimeConf(c, network))
			: undefined;
	const addresses = cached ? standInAddresses(cached, ifName) : [];
	if (!cached || addresses.length === 0 || !ifName) return del(c);
	const path = createNetns(rt.config.netnsDir, standInName(), {
		inside: () =>
			withNetlink(undefined, (nl) => {
				createBridge(nl, ifName);
				for (const a of addresses) addAddress(nl, ifName, a);
				setLinkUp(nl, ifName);
			}),
	});
	try {
		await del({ ...c, netns: { path, owned: true } });
	} finally {
		removeNetns(path);
	}
}

// A stand-in is named after the process that made it (its pid and start time), so one left by a
// ctrnet killed mid-DEL is recognised and removed by gc — recorded before it exists, in its name.
const PREFIX = "ctrnet-standin-";

function standInName(): string {
	const me = self();
	return `${PREFIX}${me.pid}-${me.startTime}-${Math.random().toString(16).slice(2, 8)}`;
}

/** Stand-ins whose maker is gone (gc); returns the paths removed. */
export function removeOrphanStandIns(
	netnsDir: string,
	alive: (pid: number, startTime: string) => boolean,
): string[] {
	const removed: string[] = [];
	for (const ns of listNetns(netnsDir)) {
		const m = new RegExp(`^${PREFIX}(\\d+)-(\\d+)-`).exec(ns.name);
		if (!m || alive(Number(m[1]), m[2] as string)) continue;
		removeNetns(ns.path);
		removed.push(ns.path);
	}
	return removed;
}
