// How the binary knows it is to answer as netavark: argv[0]'s basename is `netavark` (a symlink
// or copy in podman's helper_binaries_dir), or `ctrnet netavark …`. Loads nothing.

export function isNetavarkInvocation(argv0: string, args: readonly string[]): boolean {
	return argv0.slice(argv0.lastIndexOf("/") + 1) === "netavark" || args[0] === "netavark";
}
