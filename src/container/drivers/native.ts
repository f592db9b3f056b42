// The native backend: a network definition in podman 4's format (src/netconf), addresses from
// ctrnet's IPAM in the state database (src/ipam), and the attachment itself — data plane,
// firewall, DNS — from src/native/attachment.ts. No process is started.
import type { CniResult } from "../../cni/result";
import { ConflictError } from "../../errors";
import { allocate, release } from "../../ipam/leases";
import { networkDoc } from "../../netconf/format";
import { nativeNetwork } from "../../netconf/manage";
import { ipamDriver, type NetworkDef } from "../../netconf/schema";
import { toNetworkDef } from "../../netconf/validate";
import type { Container } from "../../state/schema";
import type { Runtime } from "../runtime";
import type { NetworkBackend } from "./types";

/** What ctrnet stores with a native attachment beside the CNI-model result. */
interface NativeExtra {
	/** The definition it was made with: detach works the same after the file changed or went. */
	network: Record<string, unknown>;
	hostVeth?: string;
}

/** Where every ctrnet process finds a network's lock (src/native/lock.ts). */
export const lockDir = (rt: Runtime) => `${rt.config.runRoot}/locks`;

function dnsTarget(rt: Runtime, c: Container, network: string) {
	return {
		configDir: rt.config.runRoot,
		containerId: c.id,
		containerName: c.name,
		aliases: c.aliases[network] ?? [],
		rootless: rt.config.rootless,
	};
}

/** A bridge another backend's containers use is refused, not shared (DESIGN 10). */
function refuseForeignBridge(rt: Runtime, def: NetworkDef): void {
	if (def.driver !== "bridge") return;
	for (const c of rt.store.list()) {
		for (const n of c.networks) {
			if ((c.backends[n] ?? "cni") !== "cni") continue;
			const bridge = (c.results[n] as Partial<CniResult> | undefined)?.interfaces?.find(
				(i) => !i.sandbox,
			)?.name;
			if (bridge === def.network_interface)
				throw new ConflictError(
					`bridge ${bridge} of network ${def.name} carries container ${c.id} attached through the cni backend; give the network another --interface-name`,
				);
		}
	}
}

function stored(c: Container, network: string): { result?: CniResult; extra?: NativeExtra } {
	const r = c.results[network] as (CniResult & { ctrnet?: NativeExtra }) | undefined;
	return { result: r, extra: r?.ctrnet };
}

/** The definition an attachment was made with, else the current one. */
function definitionOf(rt: Runtime, c: Container, network: string): NetworkDef {
	const snapshot = stored(c, network).extra?.network;
	if (snapshot) {
		try {
			return toNetworkDef(snapshot);
		} catch {
			// an unreadable snapshot: the file's current definition
		}
	}
	return nativeNetwork(rt.config, network);
}

const prefixOf = (subnet: string) => subnet.slice(subnet.indexOf("/"));

export const nativeBackend: NetworkBackend = {
	kind: "native",

	async prepare(rt, network) {
		refuseForeignBridge(rt, nativeNetwork(rt.config, network));
	},

	async attach(rt, c, network, pin) {
		if (!c.netns) throw new ConflictError(`container ${c.id} has no network namespace`);
		const def = nativeNetwork(rt.config, network);
		const ifname = c.interfaces[network] ?? "eth0";
		const db = rt.store.db;
		const leases =
			ipamDriver(def) === "none"
				? []
				: allocate(db, def, {
						containerId: c.id,
						attachment: ifname,
						...(pin.ip ? { staticIps: [pin.ip] } : {}),
					});
		const { attachNative } = await import("../../native/attachment");
		try {
			const a = await attachNative({
				net: def,
				netnsPath: c.netns.path,
				ifname,
				addresses: leases.map((l) => `${l.address}${prefixOf(l.subnet)}`),
				mac: pin.mac,
				ports: network === c.portsNetwork ? c.ports : [],
				lockDir: lockDir(rt),
				dns: dnsTarget(rt, c, network),
			});
			const extra: NativeExtra = { network: networkDoc(def), hostVeth: a.hostVeth };
			return { cniVersion: "1.1.0", ...a.result, ctrnet: extra };
		} catch (e) {
			db.transaction(() => release(db, c.id, network)).immediate();
			throw e;
		}
	},

	async detach(rt, c, network, opts = {}) {
		const def = definitionOf(rt, c, network);
		const { result, extra } = stored(c, network);
		const { detachNative } = await import("../../native/attachment");
		await detachNative({
			net: def,
			netnsPath: c.netns?.path,
			ifname: c.interfaces[network] ?? "eth0",
			hostVeth: extra?.hostVeth,
			addresses: (result?.ips ?? []).map((i) => i.address),
			ports: network === c.portsNetwork ? c.ports : [],
			lockDir: lockDir(rt),
			dns: dnsTarget(rt, c, network),
			netnsGoing: opts.netnsGoing,
		});
		const db = rt.store.db;
		db.transaction(() => release(db, c.id, network)).immediate();
	},
};

/** For `network rm`: what a removed native network leaves on the host goes. */
export async function removeNativeHostSide(def: NetworkDef): Promise<void> {
	const { fwNetwork } = await import("../../native/attachment");
	const { hostFirewall } = await import("../../firewall/apply");
	const fw = hostFirewall();
	if (def.driver === "bridge") {
		const { deleteLink, findLink, withNetlink } = await import("../../netlink");
		withNetlink(undefined, (nl) => {
			if (findLink(nl, def.network_interface)) deleteLink(nl, def.network_interface);
		});
		fw.teardown(fwNetwork(def), [], { lastOnNetwork: true });
	}
}
