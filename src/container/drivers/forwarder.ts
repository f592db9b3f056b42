// Published ports that the kernel cannot carry for a container, served in userspace by the
// rootlessport forwarder (this binary, re-executed): all of a rootless container's ports on its
// networks (they must be reached from the host's namespace), and as root the ports on `[::1]`
// (IPv6 has no route_localnet: the kernel never routes a ::1 source off the host). The forwarder
// dials the container's address on the ports' network; when that changes (a disconnect moved the
// ports) it is told through its reload socket instead of being restarted.
import { ConflictError } from "../../errors";
import type { PortMapping } from "../../ports/schema";
import type { Container } from "../../state/schema";
import type { Change } from "../change";
import { makeRunDir, recordHelper, runDir } from "../helper-records";
import { basicFromResult } from "../inspect";

export interface ForwarderPlace {
	/** The namespace the forwarder dials in (the container's, or the rootless netns). */
	netnsPath: string;
	/** Rootless: the user namespace to enter first. */
	userns?: string;
}

const forwarder = (c: Container) => c.helpers.find((h) => h.kind === "rootlessport");

/** The container's address on the ports' network, IPv6 first when `v6` is preferred. */
function portsIP(c: Container, v6: boolean): string {
	if (!c.portsNetwork) return "";
	const b = basicFromResult(c.results[c.portsNetwork]);
	return (v6 ? b.GlobalIPv6Address || b.IPAddress : b.IPAddress || b.GlobalIPv6Address) ?? "";
}

/** Starts (and records) the forwarder for `mappings`, or points a running one at the new address. */
export async function syncForwarder(
	ch: Change,
	mappings: readonly PortMapping[],
	place: ForwarderPlace,
	preferV6 = false,
): Promise<void> {
	if (mappings.length === 0) return;
	const c = ch.c;
	const ip = portsIP(c, preferV6);
	if (forwarder(c)) {
		if (!ip) return;
		const { reloadChildIP } = await import("../../rootlessport/reload");
		await reloadChildIP(runDir(ch.rt, c.id), c.id, ip);
		return;
	}
	if (!ip) throw new ConflictError(`container ${c.id} has no address on ${c.portsNetwork}`);
	const { startRootlessport } = await import("../../helpers/rootlessport");
	const tmpDir = makeRunDir(ch.rt, c.id);
	const fwd = await startRootlessport({
		mappings: [...mappings],
		netnsPath: place.netnsPath,
		...(place.userns ? { userns: place.userns } : {}),
		childIP: ip,
		containerId: c.id,
		tmpDir,
		reloadable: true,
	});
	recordHelper(ch, "rootlessport", fwd);
}

/** As root: the `[::1]` ports (the rest are the backends' own). */
export async function syncLoopbackV6(ch: Change): Promise<void> {
	const v6 = ch.c.ports.filter((p) => p.hostIP === "::1");
	if (v6.length === 0 || !ch.c.netns) return;
	await syncForwarder(ch, v6, { netnsPath: ch.c.netns.path }, true);
}
