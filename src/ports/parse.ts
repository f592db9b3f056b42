// --publish grammar (podman's): [[HOSTIP:][HOSTPORT[-END]]:]CTRPORT[-END][/tcp|udp|sctp]
// IPv6 host IPs go in brackets. Pure: strings in, PortRequests out, UsageError on anything odd.
import { UsageError } from "../errors";
import { ipFamily } from "../ip/address";
import { type PortMapping, type PortRequest, PROTOCOLS, type Protocol } from "./schema";

function bad(spec: string, why: string): never {
	throw new UsageError(`invalid --publish ${JSON.stringify(spec)}: ${why}`);
}

/** "80" or "80-82" → [first, count]. */
function parseRange(spec: string, text: string, what: string): [number, number] {
	const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
	if (!m) bad(spec, `${what} ${JSON.stringify(text)} is not a port or a port range`);
	const first = Number(m[1]);
	const last = m[2] === undefined ? first : Number(m[2]);
	for (const p of [first, last])
		if (p < 1 || p > 65535) bad(spec, `port ${p} is out of range 1-65535`);
	if (last < first) bad(spec, `range ${text} ends before it starts`);
	return [first, last - first + 1];
}

export function parsePublish(spec: string): PortRequest {
	let rest = spec.trim();
	if (!rest) bad(spec, "empty");
	let protocol: Protocol = "tcp";
	const slash = rest.lastIndexOf("/");
	if (slash >= 0) {
		const proto = rest.slice(slash + 1).toLowerCase();
		if (!(PROTOCOLS as readonly string[]).includes(proto)) {
			bad(spec, `unknown protocol ${JSON.stringify(rest.slice(slash + 1))} (tcp, udp or sctp)`);
		}
		protocol = proto as Protocol;
		rest = rest.slice(0, slash);
	}
	let hostIP = "";
	if (rest.startsWith("[")) {
		const end = rest.indexOf("]");
		if (end < 0 || rest[end + 1] !== ":")
			bad(spec, "an IPv6 host address is written [ADDR]:HOSTPORT:PORT");
		hostIP = rest.slice(1, end);
		if (ipFamily(hostIP) !== 6) bad(spec, `${JSON.stringify(hostIP)} is not an IPv6 address`);
		rest = rest.slice(end + 2);
	}
	const parts = rest.split(":");
	if (parts.length > 3 || (hostIP && parts.length > 2)) bad(spec, "too many ':'");
	if (parts.length === 3) {
		hostIP = parts.shift() as string;
		if (ipFamily(hostIP) !== 4) bad(spec, `${JSON.stringify(hostIP)} is not an IPv4 address`);
	}
	if (hostIP === "0.0.0.0") hostIP = "";
	const ctrText = parts.pop() as string;
	const hostText = parts.pop() ?? "";
	const [containerPort, count] = parseRange(spec, ctrText, "container port");
	let hostPort = 0;
	if (hostText !== "") {
		const [first, hostCount] = parseRange(spec, hostText, "host port");
		if (hostCount !== count) {
			bad(spec, `host range ${hostText} and container range ${ctrText} differ in length`);
		}
		hostPort = first;
	}
	return { hostIP, hostPort, containerPort, count, protocol };
}

/** Expands ranges into one mapping per port (host ports must be assigned by now). */
export function expandRequest(req: PortRequest): PortMapping[] {
	if (req.hostPort === 0) throw new Error("expandRequest: host port not assigned");
	return Array.from({ length: req.count }, (_, i) => ({
		hostIP: req.hostIP,
		hostPort: req.hostPort + i,
		containerPort: req.containerPort + i,
		protocol: req.protocol,
	}));
}

/**
 * Exact duplicates collapse; the same host port twice (same protocol and host IP) is a conflict,
 * as in podman ("conflicting port mappings for host port %d (protocol %s)").
 */
export function checkMappings(mappings: PortMapping[]): PortMapping[] {
	const out: PortMapping[] = [];
	const byHost = new Map<string, PortMapping>();
	for (const m of mappings) {
		const key = `${m.protocol}/${m.hostIP}/${m.hostPort}`;
		const prev = byHost.get(key);
		if (prev) {
			if (prev.containerPort === m.containerPort) continue;
			throw new UsageError(
				`conflicting port mappings for host port ${m.hostPort} (protocol ${m.protocol})`,
			);
		}
		byHost.set(key, m);
		out.push(m);
	}
	return out;
}

/** `80/tcp -> 0.0.0.0:8080` (podman port). */
export function formatMapping(m: PortMapping): string {
	return `${m.containerPort}/${m.protocol} -> ${hostAddress(m)}`;
}

export function hostAddress(m: PortMapping): string {
	const ip = m.hostIP === "" ? "0.0.0.0" : m.hostIP.includes(":") ? `[${m.hostIP}]` : m.hostIP;
	return `${ip}:${m.hostPort}`;
}

/** `port ID PORT[/PROTO]`'s argument (podman's): the container port and protocol, tcp by default. */
export function parsePortFilter(text: string): { port: number; protocol: Protocol } {
	const m = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(text);
	const port = Number(m?.[1]);
	if (!m || port < 1 || port > 65535)
		throw new UsageError(`invalid port ${JSON.stringify(text)}: PORT[/tcp|udp|sctp]`);
	return { port, protocol: (m[2] ?? "tcp").toLowerCase() as Protocol };
}
