// --network slirp4netns: user-mode networking as podman v2 runs it (setupSlirp4netns), with the
// published ports forwarded by slirp4netns' API (port_handler=slirp4netns, keeps the client's
// address) or by this binary re-executed as rootlessport (the default).
import { UsageError } from "../../errors";
import { startRootlessport } from "../../helpers/rootlessport";
import { hostInterfaceNames, startSlirp4netns } from "../../helpers/slirp4netns";
import { publishViaSlirp } from "../../slirp/api";
import { detectSlirp, type SlirpInfo } from "../../slirp/features";
import {
	parseSlirpOptions,
	SlirpOptionError,
	type SlirpOptions,
	slirpGuestIP,
} from "../../slirp/options";
import type { Change } from "../change";
import { makeRunDir, recordHelper, stopRecordedHelper } from "../helper-records";

export interface SlirpPlan {
	slirp: SlirpInfo;
	options: SlirpOptions;
}

/** Everything that can be refused is refused here, before the host changes. */
export async function planSlirp(raw: string[]): Promise<SlirpPlan> {
	const slirp = await detectSlirp();
	if (!slirp) throw new UsageError("slirp4netns not found in PATH");
	try {
		return { slirp, options: parseSlirpOptions(raw, slirp.features, hostInterfaceNames()) };
	} catch (e) {
		if (e instanceof SlirpOptionError) throw new UsageError(e.message);
		throw e;
	}
}

/**
 * Starts slirp4netns into the container's namespace, then its port forwarding. Each helper is
 * recorded as soon as it runs, so a failure later (or a kill) still stops it at teardown or gc.
 */
export async function startSlirp(ch: Change, plan: SlirpPlan): Promise<void> {
	const { rt } = ch;
	const netns = ch.c.netns;
	if (!netns) throw new Error("slirp4netns needs a network namespace");
	const tmpDir = makeRunDir(rt, ch.c.id);
	// Rootless, the namespace is only reachable through the process (no bind mount to name it).
	const viaPid = rt.config.rootless ? netns.pid : undefined;
	const target = viaPid !== undefined ? { pid: viaPid } : { netnsPath: netns.path };
	const started = await startSlirp4netns({
		binary: plan.slirp.path,
		features: plan.slirp.features,
		options: plan.options,
		target,
		containerId: ch.c.id,
		tmpDir,
		hasPorts: ch.c.ports.length > 0,
	});
	recordHelper(ch, "slirp4netns", started, started.apiSocket);
	if (ch.c.ports.length === 0) return;
	if (plan.options.portHandler === "slirp4netns" && started.apiSocket) {
		await publishViaSlirp(started.apiSocket, ch.c.ports);
		return;
	}
	const fwd = await startRootlessport({
		mappings: ch.c.ports,
		netnsPath: netns.path,
		childIP: slirpGuestIP(plan.options.cidr),
		containerId: ch.c.id,
		tmpDir,
		...(viaPid !== undefined ? { userns: `/proc/${viaPid}/ns/user` } : {}),
	});
	recordHelper(ch, "rootlessport", fwd);
}

/**
 * reload for slirp4netns: whatever helper still runs is stopped, then slirp4netns and its port
 * forwarding start again as at setup (a dead slirp4netns took the container's outbound and its
 * ports with it).
 */
export async function restartSlirp(ch: Change): Promise<void> {
	if (ch.c.mode.mode !== "slirp4netns") return;
	const plan = await planSlirp(ch.c.mode.options);
	for (const h of [...ch.c.helpers]) await stopRecordedHelper(ch, h);
	await startSlirp(ch, plan);
}
