// `ctrnet rootless-worker OP`: this binary, run by nsenter inside a user's rootless netns (root of
// its user namespace, in its mount and network namespaces), doing there what ctrnet's own process
// cannot (it is in the host's user namespace, and a multi-threaded process cannot join another).
// Input: JSON on stdin; output: JSON on stdout; errors: one line on stderr, exit 125.
//   init          the mount namespace's private dirs, loopback up
//   native-attach / native-detach    src/native/attachment.ts, inside
import { existsSync, mkdirSync } from "node:fs";
import { MS_BIND, MS_REC, mount } from "../../ffi/libc";
import { writeOut } from "../io";
import type { DnsTarget } from "../native/attachment";
import { setLinkUp, withNetlink } from "../netlink";

async function stdinJson<T>(): Promise<T> {
	return JSON.parse(await Bun.stdin.text()) as T;
}

export interface InitInput {
	/** The user's dir that becomes /var/lib/cni (host-local's leases). */
	cniData: string;
	/** A user dir that keeps the host's /run reachable after /run is replaced. */
	hostRun: string;
	/** ctrnet's run root: reachable inside at the same path. */
	runRoot: string;
}

/**
 * The paths CNI plugins write become the user's (DESIGN 13): /var/lib/cni (leases) is the user's
 * dir, and /run (tuning's and dnsname's state, locks) a fresh tmpfs — with ctrnet's own run root
 * bound back in when it lived under /run (XDG_RUNTIME_DIR). Everything here is in the rootless
 * netns' own mount namespace; the host never sees it.
 */
function init(input: InitInput): void {
	if (!existsSync("/var/lib/cni")) {
		// Nothing to bind onto (the host never ran a CNI plugin as root): a tmpfs for /var/lib
		// in this namespace only, with the mount point made in it.
		mount("tmpfs", "/var/lib", "tmpfs", 0);
		mkdirSync("/var/lib/cni");
	}
	mount(input.cniData, "/var/lib/cni", null, MS_BIND);
	mount("/run", input.hostRun, null, MS_BIND | MS_REC);
	mount("tmpfs", "/run", "tmpfs", 0);
	if (input.runRoot.startsWith("/run/")) {
		const top = input.runRoot.split("/").slice(0, 4).join("/"); // /run/user/UID
		mkdirSync(top, { recursive: true });
		mount(`${input.hostRun}${top.slice("/run".length)}`, top, null, MS_BIND | MS_REC);
	}
	withNetlink(undefined, (nl) => setLinkUp(nl, "lo"));
}

/**
 * The run root (aardvark's config dir) was checked by the ctrnet that sent the request, in the
 * host's user namespace; in here its parents belong to an unmapped uid, which the check refuses.
 */
function trusted<T extends { dns?: DnsTarget }>(req: T): T {
	return req.dns ? { ...req, dns: { ...req.dns, trustConfigDir: true } } : req;
}

export async function runWorker(op: string): Promise<void> {
	if (op === "init") return init(await stdinJson());
	const { attachNative, detachNative } = await import("../native/attachment");
	if (op === "native-attach") {
		writeOut(`${JSON.stringify(await attachNative(trusted(await stdinJson())))}\n`);
		return;
	}
	if (op === "native-detach") return detachNative(trusted(await stdinJson()));
	throw new Error(`unknown rootless-worker operation ${JSON.stringify(op)}`);
}
