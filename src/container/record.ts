// The record a setup writes first: its intent, before anything on the host changes. Planning is
// pure (request, config, the other containers and the facts gathered below in, a record out), so
// every decision — host ports, where the namespace comes from, what is pinned — is unit-tested;
// recordFacts() gathers the facts (host port probes, a process's start time, a random name, the
// clock) in one place.
import type { Config } from "../config/schema";
import { randomNetnsName } from "../netns/names";
import { assignHostPorts } from "../ports/assign";
import { localPortRange, portKey } from "../ports/host";
import { checkMappings } from "../ports/parse";
import { hostPortTaken } from "../ports/probe";
import type { Protocol } from "../ports/schema";
import { type ProcessIdentity, processStartTime, self } from "../process/identity";
import type { Container, PortHolder } from "../state/schema";
import type { SetupRequest } from "./request";

export interface RecordFacts {
	now: string;
	/** A fresh name for a namespace ctrnet creates or pins. */
	netnsName: string;
	/** The start time of the --pid process (its identity, for gc). */
	pidStartTime?: string;
	self: ProcessIdentity;
	/** Is this host port held by a socket on the host? */
	hostPortTaken(protocol: Protocol, port: number, hostIP: string): boolean;
	/** Where random host ports are picked (the kernel's ephemeral range). */
	portRange: [number, number];
	random: () => number;
}

export function recordFacts(req: SetupRequest): RecordFacts {
	return {
		now: new Date().toISOString(),
		netnsName: randomNetnsName(),
		...(req.netns.kind === "pid" ? { pidStartTime: processStartTime(req.netns.pid) ?? "" } : {}),
		self: self(),
		hostPortTaken,
		portRange: localPortRange(),
		random: Math.random,
	};
}

/**
 * Where the container's namespace is. Created by ctrnet: owned, removed at teardown. A process's:
 * pinned by a bind mount that ctrnet owns (as root), or only its /proc path (rootless, where no
 * bind mount is allowed); either way the process is recorded, and its end ends the container —
 * the pin keeps the namespace alive, not the container.
 */
function planNetns(
	req: SetupRequest,
	config: Pick<Config, "netnsDir" | "rootless">,
	facts: RecordFacts,
	others: readonly PortHolder[],
): Container["netns"] {
	const mode = req.mode;
	if (mode.mode === "host") return null;
	if (mode.mode === "ns") return { path: mode.path, owned: false };
	if (mode.mode === "container") {
		const path = others.find((o) => o.id === mode.id)?.netns?.path;
		return path ? { path, owned: false } : null;
	}
	if (req.netns.kind === "path") return { path: req.netns.path, owned: false };
	if (req.netns.kind === "pid") {
		const pid = { pid: req.netns.pid, pidStartTime: facts.pidStartTime ?? "" };
		if (config.rootless) return { path: `/proc/${req.netns.pid}/ns/net`, owned: false, ...pid };
		return { path: `${config.netnsDir}/${facts.netnsName}`, owned: true, ...pid };
	}
	return { path: `${config.netnsDir}/${facts.netnsName}`, owned: true };
}

/** The record as first written; ConflictError when a host port is taken. */
export function planRecord(
	req: SetupRequest,
	config: Pick<Config, "netnsDir" | "rootless">,
	facts: RecordFacts,
	others: readonly PortHolder[],
): Container {
	const byOthers = new Set(
		others.flatMap((o) => o.ports.map((p) => portKey(p.protocol, p.hostPort))),
	);
	const taken = (proto: Protocol, port: number, hostIP: string) =>
		byOthers.has(portKey(proto, port)) || facts.hostPortTaken(proto, port, hostIP);
	const ports = checkMappings(assignHostPorts(req.ports, taken, facts.portRange, facts.random));
	const networks = req.mode.mode === "bridge" ? req.mode.networks : [];
	return {
		id: req.id,
		name: req.name,
		status: "creating",
		owner: facts.self,
		op: { kind: "setup" },
		rev: 0,
		netns: planNetns(req, config, facts, others),
		mode: req.mode,
		...(req.ip ? { staticIP: req.ip } : {}),
		...(req.mac ? { staticMAC: req.mac } : {}),
		ports,
		portsNetwork: networks[0] ?? null,
		networks: [],
		aliases: Object.fromEntries(networks.map((n) => [n, req.aliases])),
		interfaces: {},
		results: {},
		backends: {},
		helpers: [],
		...(req.hook ? { hook: req.hook } : {}),
		createdAt: facts.now,
		updatedAt: facts.now,
	};
}
