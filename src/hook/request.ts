// From what the runtime hands the hook (state + the bundle's namespace) to a SetupRequest. Pure.
// The namespace: the container's own (pinned from /proc/PID/ns/net, owned by ctrnet, like
// `setup --pid`), or the path config.json joins (like `setup --netns PATH`, never deleted).
import type { RootlessNetwork } from "../config/schema";
import { parseNetworkSpecs } from "../container/network-spec";
import { parseSetup, type SetupRequest } from "../container/request";
import { UsageError } from "../errors";
import { ANNOTATIONS, PREFIX, rawFromAnnotations } from "./annotations";
import type { BundleNetns } from "./bundle";
import type { OciState } from "./state";

const FLAG = /--(network|publish|ip|mac|alias|name)\b/g;

/** The CLI's parsers name flags in their messages; the hook's user wrote annotations. */
function asAnnotations<T>(parse: () => T): T {
	try {
		return parse();
	} catch (e) {
		if (e instanceof UsageError) e.message = e.message.replace(FLAG, `${PREFIX}$1`);
		throw e;
	}
}

/** The request, or null when there is nothing to configure (network host, host namespace). */
export function hookSetupRequest(
	state: OciState,
	netns: BundleNetns,
	defaultNetwork: string,
	rootless: boolean,
	rootlessNetwork: RootlessNetwork,
): SetupRequest | null {
	const raw = rawFromAnnotations(state.id, state.annotations);
	const mode = asAnnotations(() =>
		parseNetworkSpecs(raw.networks, defaultNetwork, rootless, rootlessNetwork),
	).mode;
	if (mode === "host") {
		if (netns.kind === "host") return null;
		throw new UsageError(
			`${ANNOTATIONS.network}=host, but config.json gives the container a network namespace of its own: remove the network entry from linux.namespaces to share the host's`,
		);
	}
	if (mode === "ns" || mode === "container") {
		throw new UsageError(
			`${ANNOTATIONS.network}=${raw.networks[0]} cannot be done by a hook: the runtime has already made the container's namespace; put the namespace path in config.json (linux.namespaces) instead`,
		);
	}
	if (netns.kind === "host") {
		throw new UsageError(
			"the container shares the host's network namespace (config.json linux.namespaces has no network entry): ctrnet configures only a container's own namespace",
		);
	}
	if (state.pid === undefined || state.pid === 0) {
		throw new UsageError(
			`the OCI state has no pid (status ${state.status}): run the setup hook at createRuntime or prestart`,
		);
	}
	const req = asAnnotations(() =>
		parseSetup(
			{
				...raw,
				...(netns.kind === "path" ? { netns: netns.path } : { pid: String(state.pid) }),
			},
			defaultNetwork,
			rootless,
			rootlessNetwork,
		),
	);
	return { ...req, hook: { bundle: state.bundle, pid: state.pid } };
}
