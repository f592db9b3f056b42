// The CNI backend: attaching a container to one CNI network is the RuntimeConf podman v2 built
// (getPodNetwork + ocicni's buildCNIRuntimeConf), then ADD; detaching is DEL, against a stand-in
// namespace when the container's is gone (cni-standin.ts).
import type { NetworkConfigList } from "../../cni";
import { findNetwork } from "../../cni";
import { withFileLock } from "../../files/lock";
import { ensureDefaultNetwork, networkLockPath } from "../../network";
import type { Runtime } from "../runtime";
import { runtimeConf } from "./cni-conf";
import { withStandIn } from "./cni-standin";
import type { NetworkBackend } from "./types";

/** The network's config; the default network is written on first use. */
export async function networkList(rt: Runtime, network: string): Promise<NetworkConfigList> {
	if (network === rt.config.defaultNetwork) return ensureDefaultNetwork(rt.config);
	return findNetwork(rt.config.cniConfigDir, network);
}

export const cniBackend: NetworkBackend = {
	kind: "cni",

	async prepare(rt, network) {
		await networkList(rt, network);
	},

	async attach(rt, c, network, pin) {
		// Shared with other attachments, exclusive with `network rm`: a network is never removed
		// while a container is half-way onto it.
		return withFileLock(networkLockPath(rt.config, network), "shared", async () => {
			const list = await networkList(rt, network);
			return rt.cni.addNetworkList(list, runtimeConf(c, network, pin));
		});
	},

	/** DEL with the cached config when there is one (it is what ADD used), else the current file. */
	async detach(rt, c, network) {
		await withStandIn(rt, c, network, async (x) => {
			let list: NetworkConfigList | undefined;
			try {
				list = await networkList(rt, network);
			} catch {
				list = undefined; // the conflist is gone: DEL from the cache alone
			}
			await rt.cni.delNetworkList(list, runtimeConf(x, network), network);
		});
	},
};
