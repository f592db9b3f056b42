// The CNI backend: attaching a container to one CNI network is the RuntimeConf podman v2 built
// (getPodNetwork + ocicni's buildCNIRuntimeConf), then ADD; detaching is DEL, against a stand-in
// namespace when the container's is gone (cni-standin.ts). Rootless, the plugins run inside the
// user's rootless netns (DESIGN 13), where the networks' bridges are.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import type { NetworkConfigList } from "../../cni";
import { Cni, cacheFile, findNetwork } from "../../cni";
import { withFileLock } from "../../files/lock";
import { ensureDefaultNetwork, networkLockPath } from "../../network";
import type { Container } from "../../state/schema";
import type { Runtime } from "../runtime";
import { runtimeConf } from "./cni-conf";
import { withStandIn } from "./cni-standin";
import type { NetworkBackend } from "./types";

/** The network's config; the default network is written on first use. */
async function networkList(rt: Runtime, network: string): Promise<NetworkConfigList> {
	if (network === rt.config.defaultNetwork) return ensureDefaultNetwork(rt.config);
	return findNetwork(rt.config.cniConfigDir, network);
}

let rootlessCni: Cni | undefined;

/** The plugins' runtime: the host's, or (rootless) one that runs them inside the rootless netns. */
async function cniFor(rt: Runtime): Promise<Cni | undefined> {
	if (!rt.config.rootless) return rt.cni;
	if (rootlessCni) return rootlessCni;
	const { enterArgs, liveRootlessNetns, rootlessDirs } = await import("../../rootless/netns");
	const r = liveRootlessNetns(rt.config);
	if (!r) return undefined;
	rootlessCni = new Cni({
		pluginDirs: rt.config.cniPluginDirs,
		cacheDir: rt.config.cniCacheDir,
		wrap: enterArgs(r),
		// iptables' default lock is root's /run/xtables.lock.
		env: { ...process.env, XTABLES_LOCKFILE: rootlessDirs(rt.config).xtablesLock },
	});
	return rootlessCni;
}

/**
 * The rootless netns is gone (and the bridges, rules and interfaces with it): what is left of an
 * attachment is its cache entry and host-local's lease file in the user's own dir.
 */
async function forgetRootless(rt: Runtime, c: Container, network: string) {
	const { rootlessDirs } = await import("../../rootless/netns");
	// libcni's name, hashed when too long (as the ADD that wrote it named it).
	rmSync(cacheFile(rt.config.cniCacheDir, network, runtimeConf(c, network)), { force: true });
	const dir = `${rootlessDirs(rt.config).cniData}/networks/${network}`;
	let files: string[] = [];
	try {
		files = readdirSync(dir);
	} catch {
		return;
	}
	for (const f of files) {
		try {
			if (readFileSync(`${dir}/${f}`, "utf8").split(/\s/)[0] === c.id) rmSync(`${dir}/${f}`);
		} catch {
			// not a lease
		}
	}
}

export const cniBackend: NetworkBackend = {
	kind: "cni",

	async prepare(rt, network) {
		const list = await networkList(rt, network);
		if (rt.config.rootless) {
			const { ROOTLESS_CIDR } = await import("../../rootless/netns");
			const { conflistSubnets } = await import("../../network/conflist");
			const { checkSubnets } = await import("./rootless-networks");
			checkSubnets(network, conflistSubnets(list.plugins), ROOTLESS_CIDR);
		}
	},

	async attach(rt, c, network, pin) {
		// Shared with other attachments, exclusive with `network rm`: a network is never removed
		// while a container is half-way onto it.
		const cni = await cniFor(rt);
		if (!cni) throw new Error("the rootless netns is not running");
		return withFileLock(networkLockPath(rt.config, network), "shared", async () => {
			const list = await networkList(rt, network);
			return cni.addNetworkList(list, runtimeConf(c, network, pin));
		});
	},

	/** DEL with the cached config when there is one (it is what ADD used), else the current file. */
	async detach(rt, c, network) {
		const cni = await cniFor(rt);
		if (!cni) return forgetRootless(rt, c, network);
		const current = async (): Promise<NetworkConfigList | undefined> => {
			try {
				return await networkList(rt, network);
			} catch {
				return undefined; // the conflist is gone: DEL from the cache alone
			}
		};
		if (rt.config.rootless) {
			// No stand-in rootless (it needs root); a DEL without the namespace still releases.
			const { netnsAlive } = await import("../../netns/host");
			const x = c.netns && !netnsAlive(c.netns.path) ? { ...c, netns: null } : c;
			await cni.delNetworkList(await current(), runtimeConf(x, network), network);
			return;
		}
		await withStandIn(rt, c, network, async (x) => {
			await rt.cni.delNetworkList(await current(), runtimeConf(x, network), network);
		});
	},
};
