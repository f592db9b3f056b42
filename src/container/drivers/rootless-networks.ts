// Networks (CNI or native) for an unprivileged user (DESIGN 13): what the networks mode adds
// when rootless — the rootless netns made on first need and the container checked to be in its
// user namespace, subnets kept off slirp4netns' own, published ports through the rootlessport
// forwarder (dialing the container's address inside the rootless netns, podman 4's RootlessCNI),
// moved with its reload socket, and the rootless netns released with the last container.
import { readlinkSync } from "node:fs";
import { ConflictError, UsageError } from "../../errors";
import { overlaps, parseSubnet } from "../../ip/cidr";
import type { Change } from "../change";
import type { SetupRequest } from "../request";
import type { Runtime } from "../runtime";

/** A network's subnets must not take slirp4netns' addresses inside the rootless netns. */
export function checkSubnets(network: string, subnets: readonly string[], cidr: string): void {
	const slirp = parseSubnet(cidr);
	for (const s of subnets) {
		if (overlaps(parseSubnet(s), slirp)) {
			throw new UsageError(
				`network ${network}'s subnet ${s} overlaps ${cidr}, which slirp4netns uses in the rootless network namespace: give the network another subnet`,
			);
		}
	}
}

/** Before anything of the container changes: the rootless netns, and the container inside it. */
export async function planRootless(rt: Runtime, req: SetupRequest): Promise<void> {
	const { ensureRootlessNetns } = await import("../../rootless/netns");
	const { nsPaths } = await import("../../rootless/schema");
	const r = await ensureRootlessNetns(rt.config);
	if (req.netns.kind !== "pid") return; // rootless setup always has --pid (checked before)
	const userns = (p: string) => {
		try {
			return readlinkSync(p);
		} catch {
			return "";
		}
	};
	if (userns(`/proc/${req.netns.pid}/ns/user`) !== userns(nsPaths(r).user)) {
		throw new UsageError(
			`process ${req.netns.pid} is not in ctrnet's rootless user namespace, so its network namespace cannot join the rootless networks (the kernel refuses a veth between two user namespaces): start the container with \`ctrnet rootless exec -- CMD\``,
		);
	}
}

/** The published ports, all through the forwarder (it dials inside the rootless netns). */
export async function syncRootlessPorts(ch: Change): Promise<void> {
	const { liveRootlessNetns } = await import("../../rootless/netns");
	const { nsPaths } = await import("../../rootless/schema");
	const r = liveRootlessNetns(ch.rt.config);
	if (!r) throw new ConflictError("the rootless netns is not running");
	const { syncForwarder } = await import("./forwarder");
	await syncForwarder(ch, ch.c.ports, { netnsPath: nsPaths(r).net, userns: nsPaths(r).user });
}

/** After a rootless container is gone: the rootless netns goes too when nothing else uses it. */
export async function releaseIfUnused(rt: Runtime): Promise<void> {
	const { releaseRootlessNetns } = await import("../../rootless/netns");
	await releaseRootlessNetns(rt.config, () => rt.store.anyInMode("bridge"));
}
