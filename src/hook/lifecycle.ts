// The hook's effects: set a container up at createRuntime/prestart, tear it down at poststop.
// What a stage decides is in request.ts, bundle.ts and annotations.ts; this file acts.
import { validateId } from "../container/request";
import type { Runtime } from "../container/runtime";
import { setupContainer } from "../container/setup";
import { teardownContainer } from "../container/teardown";
import { MultiError } from "../errors";
import { log } from "../log";
import { processStartTime } from "../process/identity";
import type { Container, HookOrigin } from "../state/schema";
import { readBundleNetns } from "./bundle";
import { clearFailed, markFailed, takeFailed } from "./marker";
import { hookSetupRequest } from "./request";
import type { OciState } from "./state";

/** The record was made by this runtime container's setup hook (pid only when the state has one). */
function sameContainer(origin: HookOrigin | undefined, state: OciState, pid = state.pid): boolean {
	if (!origin || origin.bundle !== state.bundle) return false;
	return pid === undefined || pid === 0 || origin.pid === pid;
}

export async function hookSetup(rt: Runtime, state: OciState): Promise<Container | null> {
	const id = validateId(state.id);
	const existing = rt.store.get(id);
	// Both prestart and createRuntime configured: the second finds its own finished work (the
	// same bundle and pid; a setup state always has a pid, checked in hookSetupRequest).
	if (existing?.status === "ready" && state.pid && sameContainer(existing.hook, state)) {
		return existing;
	}
	clearFailed(rt.config.runRoot, id);
	try {
		const req = hookSetupRequest(
			state,
			readBundleNetns(state.bundle),
			rt.config.defaultNetwork,
			rt.config.rootless,
			rt.config.rootlessNetwork,
		);
		if (!req) return null;
		const startTime = processStartTime(state.pid ?? 0);
		if (req.hook && startTime) req.hook.startTime = startTime;
		return await setupContainer(rt, req);
	} catch (e) {
		try {
			const left = rt.store.get(id);
			markFailed(rt.config.runRoot, {
				id,
				bundle: state.bundle,
				pid: state.pid ?? 0,
				error: (e as Error).message,
				leftover: left !== undefined && sameContainer(left.hook, state),
				time: new Date().toISOString(),
			});
		} catch (markError) {
			// The setup's own error is the one the runtime must show.
			log.warn(`cannot mark the failed setup of ${id}: ${(markError as Error).message}`);
		}
		throw e;
	}
}

/** Tears down what this runtime container's setup hook made; returns what it did, for the log. */
export async function hookTeardown(rt: Runtime, state: OciState): Promise<string> {
	let id: string;
	try {
		id = validateId(state.id);
	} catch {
		return `container ID ${JSON.stringify(state.id)} is not one ctrnet could have set up`;
	}
	const mark = takeFailed(rt.config.runRoot, id, state.bundle);
	let c = rt.store.get(id);
	if (mark) {
		// The setup failed: its rollback already cleaned up, unless it said otherwise.
		if (!mark.leftover || !c || !sameContainer(c.hook, state, mark.pid)) {
			return `the setup hook of ${id} had failed (${mark.error}); nothing to tear down`;
		}
	} else if (!c) {
		return `container ${id} is not known to ctrnet; nothing to tear down`;
	} else if (!c.hook) {
		log.warn(`container ${id} was set up by \`ctrnet setup\`, not by a hook; leaving it`);
		return "left alone";
	} else if (!sameContainer(c.hook, state)) {
		log.warn(
			`container ${id} was set up by the hook of another bundle (${c.hook.bundle}); leaving it`,
		);
		return "left alone";
	}
	c = c as Container;
	const errors = await teardownContainer(rt, c, { keepNetns: false, event: true });
	if (errors.length > 0) throw new MultiError(errors);
	return `container ${id} torn down`;
}
