// `network rm` as the container lifecycle sees it: a network that containers in ctrnet's state
// use is refused, or with --force they are disconnected first (through the lifecycle, so each
// record stays right and a kill half-way is repaired by gc like any disconnect).
import { removeNetwork } from "../network";
import { disconnectContainer } from "./connect";
import type { Runtime } from "./runtime";

export async function removeNetworkInUse(rt: Runtime, name: string, force: boolean): Promise<void> {
	await removeNetwork(rt.config, name, {
		force,
		users: () =>
			rt.store
				.list()
				.filter((c) => c.networks.includes(name))
				.map((c) => c.id),
		detach: async (network, ids) => {
			for (const id of ids) await disconnectContainer(rt, network, id, true);
		},
	});
}
