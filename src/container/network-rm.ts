// `network rm` as the container lifecycle sees it: a network that containers in ctrnet's state
// use is refused, or with --force they are disconnected first (through the lifecycle, so each
// record stays right and a kill half-way is repaired by gc like any disconnect).
import { backendOf } from "./attachments";
import { disconnectContainer } from "./connect";
import type { Runtime } from "./runtime";

export async function removeNetworkInUse(rt: Runtime, name: string, force: boolean): Promise<void> {
	const native = rt.config.networkBackend === "native";
	const users = () =>
		rt.store
			.list()
			.filter((c) => c.networks.includes(name) && backendOf(c, name) === rt.config.networkBackend)
			.map((c) => c.id);
	const detach = async (network: string, ids: string[]) => {
		for (const id of ids) await disconnectContainer(rt, network, id, true);
	};
	if (native) {
		const { removeNativeNetwork } = await import("../netconf/manage");
		const { lockDir, removeNativeHostSide } = await import("./drivers/native");
		await removeNativeNetwork(rt.config, name, {
			force,
			lockDir: lockDir(rt),
			users,
			detach,
			removeHostSide: removeNativeHostSide,
			db: rt.store.db,
		});
		return;
	}
	const { removeNetwork } = await import("../network");
	await removeNetwork(rt.config, name, { force, users, detach });
}
