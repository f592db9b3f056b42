// Attaching and detaching one network of a container, with the record kept right at each step:
// the intent (network, interface name, backend) is stored before the backend touches the host, so
// a kill -9 in the middle leaves something gc can detach; a failed attach, which the backend has
// already undone, takes the intent out again.
import { listLinks, withNetlink } from "../netlink";
import type { Container } from "../state/schema";
import { backendOf, interfaceFor, pinFromResult } from "./attachments";
import type { Change } from "./change";
import { backendFor, type DetachOptions, type Pin } from "./drivers";

/** Interface names taken in a namespace the container joined (another container's, say). */
export function linksInUse(c: Container): Set<string> {
	if (!c.netns || c.netns.owned) return new Set();
	try {
		return new Set(withNetlink(c.netns.path, (nl) => listLinks(nl).map((l) => l.name)));
	} catch {
		return new Set(); // setup reports a namespace it cannot enter in its own words
	}
}

/**
 * Attaches `network` through the configured backend (an attached one, reattached, through its own),
 * recording the intent first and the result on success.
 */
export async function attachNetwork(
	ch: Change,
	network: string,
	opts: { pin?: Pin; inUse?: ReadonlySet<string> } = {},
): Promise<void> {
	// A network already attached (a reattach) keeps the backend that attached it.
	const kind = ch.c.networks.includes(network)
		? backendOf(ch.c, network)
		: ch.rt.config.networkBackend;
	const backend = await backendFor(kind);
	const ifname = interfaceFor(ch.c, network, opts.inUse);
	ch.save((x) => ({
		...x,
		networks: [...x.networks.filter((n) => n !== network), network].sort(),
		interfaces: { ...x.interfaces, [network]: ifname },
		backends: { ...x.backends, [network]: kind },
	}));
	let result: unknown;
	try {
		result = await backend.attach(ch.rt, ch.c, network, opts.pin ?? {});
	} catch (err) {
		// The backend undid its own work; the intent goes (in memory at least). Unless its undo
		// failed too: then the attachment stays recorded, for teardown or gc to detach.
		if (!(err as { leftover?: boolean }).leftover)
			ch.trySave((x) => withoutNetwork(x, network), []);
		throw err;
	}
	ch.save((x) => ({ ...x, results: { ...x.results, [network]: result } }));
}

/**
 * Detaches `network` through the backend that attached it, then drops it from the record. With
 * `bookkeeping`, a record that cannot be written is reported there instead of thrown: the host
 * side is done either way (an undo goes on regardless).
 */
export async function detachNetwork(
	ch: Change,
	network: string,
	bookkeeping?: Error[],
	opts: DetachOptions = {},
): Promise<void> {
	await (await backendFor(backendOf(ch.c, network))).detach(ch.rt, ch.c, network, opts);
	if (bookkeeping) ch.trySave((x) => withoutNetwork(x, network), bookkeeping);
	else ch.save((x) => withoutNetwork(x, network));
}

/** Sets an attached network up again with its old address and MAC (reload, moved ports). */
export async function reattachNetwork(ch: Change, network: string): Promise<void> {
	const pin = pinFromResult(ch.c.results[network]);
	try {
		await (await backendFor(backendOf(ch.c, network))).detach(ch.rt, ch.c, network);
	} catch {
		// Expected after a firewall flush: the plugins cannot find what they want to delete.
	}
	// Still recorded (same interface, same backend): a kill here leaves a reload for gc to finish.
	await attachNetwork(ch, network, { pin });
}

/** The record without `network` (its interface name stays reserved for a reconnect). */
export function withoutNetwork(c: Container, network: string): Container {
	const { [network]: _r, ...results } = c.results;
	const { [network]: _b, ...backends } = c.backends;
	const { [network]: _a, ...aliases } = c.aliases;
	return {
		...c,
		networks: c.networks.filter((n) => n !== network),
		results,
		backends,
		aliases,
	};
}
