// How the binary knows it was started as the rootless port forwarder: argv[0]'s basename is
// `rootlessport` or `containers-rootlessport` (podman's re-exec key), or `ctrnet rootlessport`.

const NAMES = new Set(["rootlessport", "containers-rootlessport"]);

export function isRootlessportInvocation(argv0: string, args: readonly string[]): boolean {
	const base = argv0.slice(argv0.lastIndexOf("/") + 1);
	return NAMES.has(base) || args[0] === "rootlessport";
}
