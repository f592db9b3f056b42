// connect / disconnect a set-up container to / from one more CNI network, live (podman's network
// connect). Published ports always ride on one attached network; when that one is disconnected
// they move to the first remaining network (podman #10052), which keeps its IP and MAC.
import { ConflictError, NotFoundError, UsageError } from "../errors";
import type { Container } from "../state/schema";
import { attach, detach, interfaceFor, networkList, pinFromResult } from "./attach";
import { claim, release } from "./guard";
import type { Runtime } from "./runtime";

function requireBridgeMode(c: Container): void {
	if (c.mode.mode !== "bridge")
		throw new UsageError(`network mode "${c.mode.mode}" is not supported`);
	if (!c.netns) throw new UsageError(`container ${c.id} has no network namespace`);
}

export async function connectContainer(
	rt: Runtime,
	network: string,
	id: string,
	aliases: string[],
): Promise<Container> {
	const before = rt.store.mustGet(id);
	requireBridgeMode(before);
	if (before.networks.includes(network)) {
		throw new ConflictError(`container ${id} is already connected to network ${network}`);
	}
	await networkList(rt, network); // NotFoundError before anything changes
	claim(rt, id, "creating");
	let c = rt.store.update(id, (x) => ({
		...x,
		networks: [...x.networks, network].sort(),
		interfaces: { ...x.interfaces, [network]: interfaceFor(x, network) },
		aliases: { ...x.aliases, [network]: aliases },
		portsNetwork: x.portsNetwork ?? network,
	}));
	try {
		const result = await attach(rt, c, network);
		c = rt.store.update(id, (x) => ({ ...x, results: { ...x.results, [network]: result } }));
	} catch (err) {
		// attach rolled its plugins back; undo the record too.
		release(rt, id, {
			networks: before.networks,
			aliases: before.aliases,
			interfaces: c.interfaces,
			portsNetwork: before.portsNetwork,
		});
		throw err;
	}
	c = release(rt, id);
	rt.store.addEvent(id, "connect", network);
	return c;
}

export async function disconnectContainer(
	rt: Runtime,
	network: string,
	id: string,
	force: boolean,
): Promise<Container> {
	const before = rt.store.mustGet(id);
	requireBridgeMode(before);
	if (!before.networks.includes(network)) {
		throw new NotFoundError(`container ${id} is not connected to network ${network}`);
	}
	let c = claim(rt, id, "creating");
	try {
		try {
			await detach(rt, c, network);
		} catch (e) {
			if (!force) throw e;
		}
		const remaining = c.networks.filter((n) => n !== network);
		const { [network]: _r, ...results } = c.results;
		const { [network]: _a, ...aliases } = c.aliases;
		const movePorts = c.portsNetwork === network;
		c = rt.store.update(id, (x) => ({
			...x,
			networks: remaining,
			results,
			aliases,
			portsNetwork: movePorts ? (remaining[0] ?? null) : x.portsNetwork,
		}));
		const target = c.portsNetwork;
		if (movePorts && target && c.ports.length > 0) {
			// Re-attach the network that now carries the ports, keeping its address.
			const pin = pinFromResult(c.results[target]);
			await detach(rt, { ...c, portsNetwork: null }, target);
			const result = await attach(rt, c, target, pin);
			c = rt.store.update(id, (x) => ({ ...x, results: { ...x.results, [target]: result } }));
		}
	} finally {
		c = release(rt, id);
	}
	rt.store.addEvent(id, "disconnect", network);
	return c;
}
