// `ctrnet rootless-worker OP`: this binary, run by nsenter inside a user's rootless netns (root of
// its user namespace, in its mount and network namespaces), doing there what ctrnet's own process
// cannot (it is in the host's user namespace, and a multi-threaded process cannot join another).
// Input: JSON on stdin; output: JSON on stdout; errors: one line on stderr, exit 125.
//   init          the mount namespace's private dirs, loopback up
//   native-attach / native-detach    src/native/attachment.ts, inside
import { existsSync, mkdirSync } from "node:fs";
import { MS_BIND, mount } from "../../ffi/libc";
import { writeOut } from "../io";
import { setLinkUp, withNetlink } from "../netlink";

async function stdinJson<T>(): Promise<T> {
	return JSON.parse(await Bun.stdin.text()) as T;
}

/** CNI plugins write host-local's leases under /var/lib/cni: here, the user's own dir. */
function init(input: { cniData: string }): void {
	if (!existsSync("/var/lib/cni")) {
		// Nothing to bind onto (the host never ran a CNI plugin as root): a tmpfs for /var/lib
		// in this namespace only, with the mount point made in it.
		mount("tmpfs", "/var/lib", "tmpfs", 0);
		mkdirSync("/var/lib/cni");
	}
	mount(input.cniData, "/var/lib/cni", null, MS_BIND);
	withNetlink(undefined, (nl) => setLinkUp(nl, "lo"));
}

export async function runWorker(op: string): Promise<void> {
	if (op === "init") return init(await stdinJson());
	const { attachNative, detachNative } = await import("../native/attachment");
	if (op === "native-attach") {
		writeOut(`${JSON.stringify(await attachNative(await stdinJson()))}\n`);
		return;
	}
	if (op === "native-detach") return detachNative(await stdinJson());
	throw new Error(`unknown rootless-worker operation ${JSON.stringify(op)}`);
}
