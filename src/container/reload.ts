// reload: tear the CNI attachments down and set them up again in the same namespace, keeping each
// network's IP and MAC (podman v3's network reload), e.g. after a firewall flush wiped the rules.

import { CtrnetError } from "../errors";
import { log } from "../log";
import type { Container } from "../state/schema";
import { attach, detach, pinFromResult } from "./attach";
import { claim, release } from "./guard";
import type { Runtime } from "./runtime";

export async function reloadContainer(rt: Runtime, id: string): Promise<Container> {
	let c = claim(rt, id, "creating");
	if (c.mode.mode !== "bridge" || !c.netns) {
		release(rt, id);
		throw new CtrnetError(
			`container ${id} has no CNI networks to reload (network mode ${c.mode.mode})`,
		);
	}
	try {
		for (const network of c.networks) {
			const pin = pinFromResult(c.results[network]);
			try {
				await detach(rt, c, network);
			} catch (e) {
				// Expected after a flush: the plugins cannot find the chains they want to delete.
				log.info(`reload ${id}: teardown of ${network}: ${(e as Error).message}`);
			}
			const result = await attach(rt, c, network, pin);
			c = rt.store.update(id, (x) => ({ ...x, results: { ...x.results, [network]: result } }));
		}
	} finally {
		c = release(rt, id);
	}
	rt.store.tx(() => {
		for (const n of c.networks) rt.store.addEvent(id, "reload", n);
	});
	return c;
}
