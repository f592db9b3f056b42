// The native backend: a network definition in podman 4's format (src/netconf), addresses from
// ctrnet's IPAM in the state database (src/ipam), and the attachment itself — data plane,
// firewall, DNS — from src/native/attachment.ts. No process is started.
import type { CniResult } from "../../cni/result";
import { DEFAULT_DNS_PORT } from "../../dns/port";
import { ConflictError } from "../../errors";
import { allocate, listLeases, release } from "../../ipam/leases";
import type {
	NativeAttachment,
	NativeAttachRequest,
	NativeDetachRequest,
} from "../../native/attachment";
import { networkDoc } from "../../netconf/format";
import { nativeNetwork } from "../../netconf/manage";
import { ipamDriver, type NetworkDef } from "../../netconf/schema";
import { toNetworkDef } from "../../netconf/validate";
import type { Container } from "../../state/schema";
import { backendOf } from "../attachments";
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
		// On 53, where the containers ask: NETAVARK_DNS_PORT is the netavark front end's (DESIGN
		// 11), and the firewall redirect that would go with another port is not made here.
		port: DEFAULT_DNS_PORT,
	};
}

/** A bridge another backend's containers use is refused, not shared (DESIGN 10). */
function refuseForeignBridge(rt: Runtime, def: NetworkDef): void {
	if (def.driver !== "bridge") return;
	for (const c of rt.store.cniNeighboursMentioning(def.network_interface)) {
		for (const n of c.networks) {
			if (backendOf(c, n) !== "cni") continue;
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

/**
 * Runs an attachment operation where the network's bridge is: here as root, or — rootless — by
 * this binary inside the user's rootless netns (src/rootless/worker.ts). A rootless netns that is
 * gone took the bridge, the veth and the rules with it: a detach then has nothing left to do.
 */
async function inNativeNamespace<T>(
	rt: Runtime,
	op: "native-attach" | "native-detach",
	req: NativeAttachRequest | NativeDetachRequest,
): Promise<T> {
	if (!rt.config.rootless) {
		const { attachNative, detachNative } = await import("../../native/attachment");
		if (op === "native-attach") return (await attachNative(req as NativeAttachRequest)) as T;
		return (await detachNative(req as NativeDetachRequest)) as T;
	}
	const { liveRootlessNetns, runWorker } = await import("../../rootless/netns");
	const r = liveRootlessNetns(rt.config);
	if (!r) {
		if (op === "native-detach") return undefined as T;
		throw new ConflictError("the rootless netns is not running");
	}
	return (await runWorker(r, op, req)) as T;
}

export const nativeBackend: NetworkBackend = {
	kind: "native",

	async prepare(rt, network) {
		const def = nativeNetwork(rt.config, network);
		refuseForeignBridge(rt, def);
		if (rt.config.rootless) {
			const { ROOTLESS_CIDR } = await import("../../rootless/netns");
			const { checkSubnets } = await import("./rootless-networks");
			checkSubnets(
				network,
				def.subnets.map((s) => s.subnet),
				ROOTLESS_CIDR,
			);
			return; // the firewall is loaded inside the rootless netns, by the worker
		}
		if (def.driver === "bridge") {
			// libnftables is loaded now: missing, it is refused before anything changes.
			const { hostFirewall } = await import("../../firewall/apply");
			hostFirewall();
		}
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
		try {
			const req: NativeAttachRequest = {
				net: def,
				netnsPath: c.netns.path,
				ifname,
				addresses: leases.map((l) => `${l.address}${prefixOf(l.subnet)}`),
				mac: pin.mac,
				// Rootless, the ports are rootlessport's (in the host's namespace), not nftables'.
				ports: network === c.portsNetwork && !rt.config.rootless ? c.ports : [],
				lockDir: lockDir(rt),
				// Rootless, aardvark-dns is started by the worker, inside the rootless netns.
				dns: dnsTarget(rt, c, network),
			};
			const a = await inNativeNamespace<NativeAttachment>(rt, "native-attach", req);
			const extra: NativeExtra = { network: networkDoc(def), hostVeth: a.hostVeth };
			return { cniVersion: "1.1.0", ...a.result, ctrnet: extra };
		} catch (e) {
			release(db, c.id, network);
			throw e;
		}
	},

	async detach(rt, c, network, opts = {}) {
		const def = definitionOf(rt, c, network);
		const { result, extra } = stored(c, network);
		await inNativeNamespace(rt, "native-detach", {
			net: def,
			netnsPath: c.netns?.path,
			ifname: c.interfaces[network] ?? "eth0",
			hostVeth: extra?.hostVeth,
			// A setup killed before it stored its result (gc's case) still holds its leases: the
			// firewall elements it may have added are keyed by those addresses.
			addresses: result
				? result.ips.map((i) => i.address)
				: listLeases(rt.store.db, { containerId: c.id, network }).map(
						(l) => `${l.address}${prefixOf(l.subnet)}`,
					),
			ports: network === c.portsNetwork && !rt.config.rootless ? c.ports : [],
			lockDir: lockDir(rt),
			dns: dnsTarget(rt, c, network),
			netnsGoing: opts.netnsGoing,
		} satisfies NativeDetachRequest);
		const db = rt.store.db;
		release(db, c.id, network);
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
