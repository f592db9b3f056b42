// setup: give a container its network (DESIGN 4). The record is written before the host changes
// and after every step, so a failure — or a kill -9 — can be undone exactly: a failure here rolls
// back at once, from the record in memory (a full disk cannot stop the undo); a killed ctrnet
// leaves a record that gc uses. What each mode does is in modes.ts; this file orders the steps.
import { existsSync } from "node:fs";
import { ConflictError, NotFoundError, UsageError } from "../errors";
import { createNetns, isHostNetns, pinNetns } from "../netns";
import type { Container } from "../state/schema";
import { Change } from "./change";
import { modeDriver } from "./modes";
import { planRecord, type RecordFacts, recordFacts } from "./record";
import type { SetupRequest } from "./request";
import type { Runtime } from "./runtime";
import { undoContainer } from "./teardown";

/** Inserts the record, with host ports checked against the host and every other container. */
function reserve(rt: Runtime, req: SetupRequest, facts: RecordFacts): Container {
	return rt.store.tx(() => {
		const joined = req.mode.mode === "container" ? req.mode.id : undefined;
		const holders = rt.store.portHolders({ joined, wanted: req.ports });
		const c = planRecord(req, rt.config, facts, holders);
		rt.store.insert(c);
		return c;
	});
}

function netnsOf(req: SetupRequest): string | undefined {
	if (req.netns.kind === "path") return req.netns.path;
	if (req.netns.kind === "pid") return `/proc/${req.netns.pid}/ns/net`;
	return undefined;
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
	const joined = netnsOf(req);
	if (joined && isHostNetns(joined)) {
		const who = req.netns.kind === "pid" ? `process ${req.netns.pid} is in` : `${joined} is`;
		throw new UsageError(
			`${who} the host's network namespace: refusing to configure it (give the container a namespace of its own)`,
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

/** The namespace step: create it, or pin the process's, where the record says. */
function makeNetns(req: SetupRequest, c: Container): void {
	if (!c.netns?.owned) return;
	const dir = c.netns.path.slice(0, c.netns.path.lastIndexOf("/"));
	const name = c.netns.path.slice(dir.length + 1);
	if (req.netns.kind === "pid") pinNetns(req.netns.pid, c.netns.path);
	else createNetns(dir, name);
}

export async function setupContainer(rt: Runtime, req: SetupRequest): Promise<Container> {
	checkJoinTargets(rt, req);
	const driver = modeDriver(req.mode.mode);
	const plan = await driver.plan(rt, req);
	if (rt.store.get(req.id)) throw new ConflictError(`container ${req.id} is already set up`);
	const ch = new Change(rt, reserve(rt, req, recordFacts(req)));
	try {
		makeNetns(req, ch.c);
		await driver.up(ch, plan);
		const nets = driver.hasNetworks ? ch.c.networks : [null];
		ch.finish(nets.map((network) => ({ type: "setup", network })));
	} catch (err) {
		const leftovers = await undoContainer(ch, { keepNetns: false, event: false });
		if (leftovers.length > 0) {
			const detail = leftovers.map((e) => e.message).join("; ");
			throw new ConflictError(
				`${(err as Error).message} (and the rollback failed: ${detail}; run ctrnet gc)`,
			);
		}
		throw err;
	}
	return ch.c;
}
