// reload: set a container's network up again in the same namespace, keeping each network's IP and
// MAC (podman v3's network reload) — e.g. after a firewall flush wiped the rules, or after
// slirp4netns died. Recorded as one operation (for networks: the ones still to do), so gc finishes
// a reload whose process died.
import { CtrnetError } from "../errors";
import type { Container } from "../state/schema";
import { Change } from "./change";
import { claim, release } from "./guard";
import { modeDriver } from "./modes";
import { reattachNetwork } from "./networks";
import type { Runtime } from "./runtime";

/** The containers `reload --all` covers: set up, not being changed, with something to redo. */
export function reloadable(containers: readonly Container[]): string[] {
	return containers
		.filter((c) => modeDriver(c.mode.mode).reload && c.status === "ready" && c.netns)
		.map((c) => c.id);
}

export async function reloadContainer(rt: Runtime, id: string): Promise<Container> {
	const before = rt.store.mustGet(id);
	const driver = modeDriver(before.mode.mode);
	if (!driver.reload || !before.netns) {
		throw new CtrnetError(
			`container ${id} has nothing to reload (network mode ${before.mode.mode})`,
		);
	}
	const ch = new Change(rt, claim(rt, id, { kind: "reload", networks: before.networks }));
	try {
		await driver.reload(ch);
	} catch (e) {
		ch.c = release(rt, id);
		throw e;
	}
	const nets = ch.c.networks.length > 0 ? ch.c.networks : [null];
	return ch.finish(nets.map((network) => ({ type: "reload", network })));
}

/** Sets up again each network the recorded reload still lists. */
export async function finishReload(ch: Change): Promise<void> {
	const todo = ch.c.op?.kind === "reload" ? ch.c.op.networks : ch.c.networks;
	for (const [i, network] of todo.entries()) {
		if (ch.c.networks.includes(network)) await reattachNetwork(ch, network);
		ch.save((x) => ({ ...x, op: { kind: "reload", networks: todo.slice(i + 1) } }));
	}
}
