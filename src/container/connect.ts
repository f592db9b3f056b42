// connect / disconnect a set-up container to / from one more network, live (podman's network
// connect). Published ports always ride on one attached network; when that one is disconnected
// they move to the first remaining network (podman #10052), which keeps its IP and MAC.
//
// Each is one claimed operation recorded with its network: a kill -9 half-way leaves a record
// that gc (gc.ts) repairs for that network only — a connect is undone, a disconnect finished —
// while the container's other networks stay up.
import { ConflictError, NotFoundError, UsageError } from "../errors";
import type { Container } from "../state/schema";
import { Change } from "./change";
import { backendFor } from "./drivers";
import { claim } from "./guard";
import { modeDriver } from "./modes";
import {
	attachNetwork,
	detachNetwork,
	linksInUse,
	reattachNetwork,
	withoutNetwork,
} from "./networks";
import type { Runtime } from "./runtime";

function requireNetworks(c: Container): void {
	if (!modeDriver(c.mode.mode).hasNetworks)
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
	requireNetworks(before);
	if (before.networks.includes(network)) {
		throw new ConflictError(`container ${id} is already connected to network ${network}`);
	}
	// NotFoundError before anything changes.
	await (await backendFor(rt.config.networkBackend)).prepare(rt, network);
	const ch = new Change(
		rt,
		claim(rt, id, { kind: "connect", network, portsNetwork: before.portsNetwork }),
	);
	try {
		ch.save((x) => ({
			...x,
			aliases: { ...x.aliases, [network]: aliases },
			portsNetwork: x.portsNetwork ?? network,
		}));
		await attachNetwork(ch, network, { inUse: linksInUse(ch.c) });
		if (before.portsNetwork === null) await modeDriver(ch.c.mode.mode).portsMoved?.(ch);
	} catch (err) {
		// attachNetwork undid its attachment; put the rest of the record back as it was.
		ch.trySave(
			(x) => ({
				...withoutConnect(x, network, before.portsNetwork),
				status: "ready",
				owner: null,
				op: null,
			}),
			[],
		);
		throw err;
	}
	return ch.finish([{ type: "connect", network }]);
}

/**
 * The record with what a connect to `network` added besides the attachment itself taken back: its
 * aliases, and the ports' network as it was before (`portsNetwork`). Pure; a failed connect and
 * gc (undoing a connect whose process died) both use it.
 */
export function withoutConnect(
	c: Container,
	network: string,
	portsNetwork: string | null,
): Container {
	const { [network]: _a, ...aliases } = c.aliases;
	return { ...c, aliases, portsNetwork };
}

export async function disconnectContainer(
	rt: Runtime,
	network: string,
	id: string,
	force: boolean,
): Promise<Container> {
	const before = rt.store.mustGet(id);
	requireNetworks(before);
	if (!before.networks.includes(network)) {
		throw new NotFoundError(`container ${id} is not connected to network ${network}`);
	}
	const ch = new Change(rt, claim(rt, id, { kind: "disconnect", network }));
	try {
		await finishDisconnect(ch, network, force);
	} catch (err) {
		ch.trySave((x) => ({ ...x, status: "ready", owner: null, op: null }), []);
		throw err;
	}
	return ch.finish([{ type: "disconnect", network }]);
}

/**
 * The steps of a disconnect, each safe to run again: take the network off (when still on), then,
 * if the ports rode on it, move them to the first remaining network by setting that one up again.
 * gc runs this for a disconnect whose process died.
 */
export async function finishDisconnect(ch: Change, network: string, force: boolean): Promise<void> {
	if (ch.c.networks.includes(network)) {
		try {
			await detachNetwork(ch, network);
		} catch (e) {
			if (!force) throw e;
			ch.save((x) => withoutNetwork(x, network));
		}
	}
	const op = ch.c.op?.kind === "disconnect" ? ch.c.op : undefined;
	let target = op?.movePortsTo;
	if (!target && ch.c.portsNetwork === network) {
		const next = ch.c.networks[0] ?? null;
		ch.save((x) => ({
			...x,
			portsNetwork: next,
			op: { kind: "disconnect", network, ...(next ? { movePortsTo: next } : {}) },
		}));
		target = next ?? undefined;
	}
	// Set the network that now carries the ports up again, keeping its address.
	if (target && ch.c.ports.length > 0 && ch.c.networks.includes(target)) {
		await reattachNetwork(ch, target);
		await modeDriver(ch.c.mode.mode).portsMoved?.(ch);
	}
}
