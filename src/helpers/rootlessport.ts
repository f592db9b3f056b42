// Starting the rootless port forwarder (src/rootlessport) from ctrnet: this binary, re-executed
// with argv0 `rootlessport`, the config on stdin (podman v2 mapping shape), ready on fd 4.
//
// Lifetime: ctrnet's CLI exits right after `setup`, so unlike podman (whose conmon holds the exit
// pipe) nothing long-lived could hold an exit pipe's write end. By default the config says
// `ExitFD: -1` (ctrnet's extension: run until SIGTERM) and teardown / gc stop the forwarder as
// any recorded helper, by its identity (stop.ts). A caller that outlives the container can pass holdExit: the
// forwarder then gets podman's fd 3 and exits when the returned exitWriteFd is closed (or the
// caller dies).
import { resolve } from "node:path";
import type { PortMapping } from "../ports/schema";
import { DEFAULT_CHILD_IP } from "../rootlessport/config";
import { type StartedHelper, spawnHelper } from "./spawn";

export interface RootlessportOptions {
	mappings: PortMapping[];
	netnsPath: string;
	/** The container's address the forwarder dials (slirp4netns: `<cidr>.100`). */
	childIP?: string;
	containerId: string;
	/** Where the (unlinked) log file is created. */
	tmpDir: string;
	/** Give up when the forwarder is alive but not ready after this long (default 30 s). */
	timeoutMs?: number;
	holdExit?: boolean;
	/** Serve podman's reload socket TmpDir/rp/<ContainerID> (its ChildIP can move). */
	reloadable?: boolean;
	/**
	 * Rootless: the container's user namespace (/proc/PID/ns/user). Entering a network namespace
	 * needs CAP_SYS_ADMIN in the caller's own user namespace too, which an unprivileged ctrnet in
	 * the host's does not have; so the forwarder runs inside the container's user namespace (host
	 * network namespace still), as podman runs its own inside its rootless one. Joining a user
	 * namespace needs a single-threaded process: util-linux nsenter does it, then execs us.
	 */
	userns?: string;
}

/**
 * How to run this program again: the compiled binary, or (under `bun`, e.g. in tests) bun with
 * src/main.ts — not Bun.main, which is whatever script bun was started with.
 */
export function selfCommand(): string[] {
	if (Bun.main.startsWith("/$bunfs/")) return [process.execPath];
	return [process.execPath, resolve(import.meta.dir, "../main.ts")];
}

/**
 * Starts the forwarder and waits until every port listens. Throws HelperError
 * `rootlessport <line>` (e.g. `rootlessport listen tcp 0.0.0.0:8080: bind: address already in
 * use`) when it cannot; nothing is left running then.
 */
export async function startRootlessport(opts: RootlessportOptions): Promise<StartedHelper> {
	const config = {
		Mappings: opts.mappings.map((m) => ({
			hostIP: m.hostIP,
			hostPort: m.hostPort,
			containerPort: m.containerPort,
			protocol: m.protocol,
		})),
		NetNSPath: opts.netnsPath,
		ExitFD: opts.holdExit ? 3 : -1,
		ReadyFD: 4,
		TmpDir: opts.tmpDir,
		ChildIP: opts.childIP ?? DEFAULT_CHILD_IP,
		ContainerID: opts.containerId,
		RootlessCNI: opts.reloadable ?? false,
	};
	const cmd = opts.userns
		? [
				"nsenter",
				`--user=${opts.userns}`,
				"--preserve-credentials",
				"--",
				...selfCommand(),
				"rootlessport",
			]
		: selfCommand();
	return spawnHelper({
		name: "rootlessport",
		cmd,
		...(opts.userns ? {} : { argv0: "rootlessport" }),
		stdin: new TextEncoder().encode(JSON.stringify(config)),
		logPath: `${opts.tmpDir}/rootlessport-${opts.containerId}.log`,
		separateStdout: true,
		holdExit: opts.holdExit,
		timeoutMs: opts.timeoutMs ?? 30_000,
		// BUN_BE_BUN would turn the compiled binary into the bun CLI (bun-platform §4).
		env: { ...process.env, BUN_BE_BUN: undefined },
	});
}
