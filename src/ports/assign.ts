// Turning --publish requests into concrete mappings: free host ports are chosen for requests
// without one, and every host port is checked against what is already taken. Pure: the caller
// passes the test for "taken" (host sockets + other containers) and a random source.
import { ConflictError } from "../errors";
import { portKey } from "./host";
import { expandRequest } from "./parse";
import type { PortMapping, PortRequest, Protocol } from "./schema";

const TRIES = 64;

export function assignHostPorts(
	requests: PortRequest[],
	isTaken: (protocol: Protocol, port: number, hostIP: string) => boolean,
	range: [number, number],
	random: () => number = Math.random,
): PortMapping[] {
	const used = new Set<string>();
	const taken = (req: PortRequest, port: number) =>
		used.has(portKey(req.protocol, port)) || isTaken(req.protocol, port, req.hostIP);
	const out: PortMapping[] = [];
	// Explicit ports first, so a random pick never takes a port the user named.
	const explicit = requests.filter((r) => r.hostPort !== 0);
	const pick = requests.filter((r) => r.hostPort === 0);
	for (const req of explicit) {
		for (let i = 0; i < req.count; i++) {
			const key = portKey(req.protocol, req.hostPort + i);
			if (isTaken(req.protocol, req.hostPort + i, req.hostIP)) {
				throw new ConflictError(`host port ${req.hostPort + i}/${req.protocol} is already in use`);
			}
			used.add(key);
		}
		out.push(...expandRequest(req));
	}
	for (const req of pick) {
		const [lo, hi] = range;
		let chosen = 0;
		for (let t = 0; t < TRIES && !chosen; t++) {
			const start = lo + Math.floor(random() * (hi - lo + 2 - req.count));
			let free = true;
			for (let i = 0; i < req.count && free; i++) free = !taken(req, start + i);
			if (free) chosen = start;
		}
		if (!chosen)
			throw new ConflictError(`no ${req.count} free consecutive host port(s) for ${req.protocol}`);
		for (let i = 0; i < req.count; i++) used.add(portKey(req.protocol, chosen + i));
		out.push(...expandRequest({ ...req, hostPort: chosen }));
	}
	return out;
}
