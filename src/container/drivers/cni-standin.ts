// DEL after the container's namespace is gone (a reboot, a lost pin): the bridge plugin of
// containernetworking/plugins 1.1 learns which addresses to un-masquerade from the interface it
// deletes, and skips that part when the namespace is missing — leaving the CNI-… NAT chain behind
// for good. So such a DEL runs against a stand-in: a fresh namespace holding a link named like the
// container's interface, with the addresses of the cached ADD result. The plugins remove it as if
// it were the real one, rules included; then the stand-in namespace goes.
import type { CniResult } from "../../cni";
import { addAddress, createBridge, setLinkUp, withNetlink } from "../../netlink";
import { createNetns, netnsAlive, randomNetnsName, removeNetns } from "../../netns";
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
	const path = createNetns(rt.config.netnsDir, randomNetnsName(), {
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
