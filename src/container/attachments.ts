// Decisions about one container's attachments, pure: the backend that detaches one, the interface
// name a network gets, and the address an attachment keeps across a re-attach.
import { type CniResult, parseResult } from "../cni";
import type { Backend, Container } from "../state/schema";
import type { Pin } from "./drivers/types";

/**
 * The backend an attached network was attached through: the recorded one, else cni (the only
 * backend records written before backends were recorded knew).
 */
export function backendOf(c: Pick<Container, "backends">, network: string): Backend {
	return c.backends[network] ?? "cni";
}

/**
 * The first ethN the container has never used and that is not taken in its namespace (`inUse`:
 * a joined namespace may hold another container's interfaces); a network it had before keeps its
 * old name.
 */
export function interfaceFor(
	c: Pick<Container, "interfaces">,
	network: string,
	inUse: ReadonlySet<string> = new Set(),
): string {
	const old = c.interfaces[network];
	if (old) return old;
	const used = new Set([...Object.values(c.interfaces), ...inUse]);
	let n = 0;
	while (used.has(`eth${n}`)) n++;
	return `eth${n}`;
}

/** The IPv4 (else first) address and the MAC of an attachment, to keep them across a re-attach. */
export function pinFromResult(stored: unknown): Pin {
	let r: CniResult;
	try {
		r = parseResult(stored);
	} catch {
		return {}; // nothing readable to keep: a fresh address
	}
	const ip = r.ips.find((i) => !i.address.includes(":")) ?? r.ips[0];
	if (!ip) return {};
	const mac = ip.interface === undefined ? undefined : r.interfaces[ip.interface]?.mac;
	return { ip: ip.address.split("/")[0], ...(mac ? { mac } : {}) };
}
