// setup: give a container its network (DESIGN 4). The record is written before the host changes
// and updated after every step, so a failure — or a kill -9 — can be undone exactly: a failure
// here rolls back at once; a killed ctrnet leaves a record that gc uses.
import { existsSync } from "node:fs";
import { ConflictError, NotFoundError, UsageError } from "../errors";
import { createNetns, isHostNetns, pinNetns, randomNetnsName } from "../netns";
import { assignHostPorts } from "../ports/assign";
import { localPortRange, portKey } from "../ports/host";
import { checkMappings } from "../ports/parse";
import { hostPortTaken } from "../ports/probe";
import type { Protocol } from "../ports/schema";
import { processStartTime, self } from "../process/identity";
import type { Container } from "../state/schema";
import { attach, interfaceFor, networkList } from "./attach";
import { release } from "./guard";
import type { SetupRequest } from "./request";
import type { Runtime } from "./runtime";
import { teardownContainer } from "./teardown";

/** The record as first written: intent only, nothing on the host yet. */
function initialRecord(req: SetupRequest, rt: Runtime, byOthers: Set<string>): Container {
	const now = new Date().toISOString();
	const taken = (proto: Protocol, port: number, hostIP: string) =>
		byOthers.has(portKey(proto, port)) || hostPortTaken(proto, port, hostIP);
	const ports = checkMappings(assignHostPorts(req.ports, taken, localPortRange()));
	const first = req.mode.mode === "bridge" ? req.mode.networks[0] : undefined;
	const netnsDir = rt.config.netnsDir;
	let netns: Container["netns"] = null;
	if (req.mode.mode === "ns") netns = { path: req.mode.path, owned: false };
	else if (req.mode.mode === "host" || req.mode.mode === "container") netns = null;
	else if (req.netns.kind === "path") netns = { path: req.netns.path, owned: false };
	else if (req.netns.kind === "pid" && rt.config.rootless) {
		// No bind mount without privileges: keep the process, whose end ends the container.
		const pid = req.netns.pid;
		netns = {
			path: `/proc/${pid}/ns/net`,
			owned: false,
			pid,
			pidStartTime: processStartTime(pid) ?? "",
		};
	} else netns = { path: `${netnsDir}/${randomNetnsName()}`, owned: true };
	return {
		id: req.id,
		name: req.name,
		status: "creating",
		owner: self(),
		netns,
		mode: req.mode,
		...(req.ip ? { staticIP: req.ip } : {}),
		...(req.mac ? { staticMAC: req.mac } : {}),
		ports,
		portsNetwork: first ?? null,
		networks: [],
		aliases:
			req.mode.mode === "bridge"
				? Object.fromEntries(req.mode.networks.map((n) => [n, req.aliases]))
				: {},
		interfaces: {},
		results: {},
		helpers: [],
		...(req.hook ? { hook: req.hook } : {}),
		createdAt: now,
		updatedAt: now,
	};
}

/** Inserts the record, with host ports checked against the host and every other container. */
function reserve(rt: Runtime, req: SetupRequest): Container {
	return rt.store.tx(() => {
		const taken = new Set<string>();
		for (const other of rt.store.list())
			for (const p of other.ports) taken.add(portKey(p.protocol, p.hostPort));
		const c = initialRecord(req, rt, taken);
		rt.store.insert(c);
		return c;
	});
}

function checkJoinTargets(rt: Runtime, req: SetupRequest): void {
	if (req.mode.mode === "ns" && !existsSync(req.mode.path)) {
		throw new NotFoundError(`netns ${req.mode.path} does not exist`);
	}
	if (req.netns.kind === "path" && !existsSync(req.netns.path)) {
		throw new NotFoundError(`netns ${req.netns.path} does not exist`);
	}
	if (req.netns.kind === "pid" && !existsSync(`/proc/${req.netns.pid}/ns/net`)) {
		throw new NotFoundError(`no process with pid ${req.netns.pid}`);
	}
	const joined =
		req.netns.kind === "path"
			? req.netns.path
			: req.netns.kind === "pid"
				? `/proc/${req.netns.pid}/ns/net`
				: undefined;
	if (joined && isHostNetns(joined)) {
		throw new UsageError(
			`${req.netns.kind === "pid" ? `process ${req.netns.pid} is in` : `${joined} is`} the host's network namespace: refusing to configure it (give the container a namespace of its own)`,
		);
	}
	if (req.mode.mode === "container") {
		const other = rt.store.get(req.mode.id);
		if (other?.status !== "ready")
			throw new NotFoundError(`no container with ID ${JSON.stringify(req.mode.id)}`);
		if (!other.netns)
			throw new UsageError(`container ${other.id} has no network namespace to share`);
	}
	if (rt.config.rootless && req.netns.kind === "create" && req.mode.mode !== "host") {
		// An unprivileged process cannot make a network namespace of its own (no user namespace
		// here): the container's runtime made one, and setup joins it.
		throw new UsageError(
			"rootless setup needs --pid PID (a process in its own user and network namespace)",
		);
	}
}

/** The namespace step: create or pin it where the record says. */
function makeNetns(req: SetupRequest, c: Container): Container {
	if (!c.netns?.owned) return c;
	const dir = c.netns.path.slice(0, c.netns.path.lastIndexOf("/"));
	const name = c.netns.path.slice(dir.length + 1);
	if (req.netns.kind === "pid") pinNetns(req.netns.pid, c.netns.path);
	else createNetns(dir, name);
	return c;
}

async function attachAll(rt: Runtime, c0: Container): Promise<Container> {
	let c = c0;
	if (c.mode.mode !== "bridge") return c;
	for (const network of c.mode.networks) {
		// Record the attachment before ADD: a kill during ADD leaves something for gc to DEL.
		const ifname = interfaceFor(c, network);
		c = rt.store.update(c.id, (x) => ({
			...x,
			networks: [...x.networks, network],
			interfaces: { ...x.interfaces, [network]: ifname },
		}));
		const pin = network === c.portsNetwork ? { ip: c.staticIP, mac: c.staticMAC } : {};
		const result = await attach(rt, c, network, pin);
		c = rt.store.update(c.id, (x) => ({ ...x, results: { ...x.results, [network]: result } }));
	}
	return c;
}

export async function setupContainer(rt: Runtime, req: SetupRequest): Promise<Container> {
	checkJoinTargets(rt, req);
	// slirp4netns' modules load only for containers that use it.
	const slirp =
		req.mode.mode === "slirp4netns"
			? await (await import("./slirp")).planSlirp(req.mode.options)
			: undefined;
	// Every network must exist before anything changes (the default one is written here).
	if (req.mode.mode === "bridge") for (const n of req.mode.networks) await networkList(rt, n);
	const existing = rt.store.get(req.id);
	if (existing) throw new ConflictError(`container ${req.id} is already set up`);
	let c = reserve(rt, req);
	try {
		if (c.mode.mode === "container") {
			const other = rt.store.mustGet(c.mode.id);
			c = rt.store.update(c.id, (x) => ({
				...x,
				netns: other.netns ? { path: other.netns.path, owned: false } : null,
			}));
		}
		c = makeNetns(req, c);
		c = await attachAll(rt, c);
		if (slirp) c = await (await import("./slirp")).startSlirp(rt, c, slirp);
	} catch (err) {
		const leftovers = await teardownContainer(rt, rt.store.mustGet(c.id), {
			keepNetns: false,
			event: false,
		});
		if (leftovers.length > 0) {
			const detail = leftovers.map((e) => e.message).join("; ");
			throw new ConflictError(
				`${(err as Error).message} (and the rollback failed: ${detail}; run ctrnet gc)`,
			);
		}
		throw err;
	}
	c = release(rt, c.id);
	const nets = c.mode.mode === "bridge" ? c.networks : [null];
	rt.store.tx(() => {
		for (const n of nets) rt.store.addEvent(c.id, "setup", n);
	});
	return c;
}
