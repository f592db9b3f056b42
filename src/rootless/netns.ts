// A user's rootless network namespace (DESIGN 13, the seed's CNI-in-slirp4netns): a holder
// process in a user namespace of its own (root mapped to the user, the user's subordinate ids
// above it, as podman maps them), with a network namespace and a private mount namespace; the
// networks' bridges live there, slirp4netns gives it a way out, and the user's containers — which
// must run in that user namespace (`ctrnet rootless exec`): the kernel does not let a veth join
// two sibling user namespaces — get their interfaces on those bridges.
//
// Created on first need, kept in `<run-root>/rootless-netns.json` (read and changed under its
// flock), and removed when nothing uses it any more: no container of ctrnet's state on a network,
// and no process of the user left in its user namespace.
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { ERRNO, SysError } from "../../ffi/errno";
import { close, O_RDWR, open } from "../../ffi/libc";
import type { Config } from "../config/schema";
import { CtrnetError, UsageError } from "../errors";
import { writeFileAtomic } from "../files/atomic";
import { withFileLock } from "../files/lock";
import { AARDVARK_DIR, runningAardvark, stopAardvark } from "../helpers/aardvark";
import { stopProcess } from "../helpers/stop";
import { check, parseJson } from "../json";
import { log } from "../log";
import { identify, isAlive, type ProcessIdentity } from "../process/identity";
import { nsPaths, type RootlessNetns, RootlessNetnsSchema } from "./schema";
import { subIdRange } from "./subid";

export const ROOTLESS_CIDR = "10.0.2.0/24";

type Dirs = Pick<Config, "runRoot" | "root">;

const statePath = (cfg: Dirs) => `${cfg.runRoot}/rootless-netns.json`;
const lockPath = (cfg: Dirs) => `${cfg.runRoot}/rootless-netns.lock`;
/**
 * Container DNS of the user's native networks: aardvark-dns runs inside the rootless netns, with
 * its config in the run root (reachable inside at the same path).
 */
const aardvarkDir = (cfg: Dirs) => `${cfg.runRoot}/${AARDVARK_DIR}`;
/** User-owned dirs the holder's mount namespace puts where CNI plugins write. */
export const rootlessDirs = (cfg: Dirs) => ({
	/** Bound onto /var/lib/cni inside (host-local's leases). */
	cniData: `${cfg.root}/rootless/cni-data`,
	/** iptables' lock (XTABLES_LOCKFILE): /run/xtables.lock is root's. */
	xtablesLock: `${cfg.runRoot}/rootless/xtables.lock`,
	/** slirp4netns' log. */
	tmp: `${cfg.runRoot}/rootless`,
	/** Where the host's /run stays reachable inside (an empty mount point outside). */
	hostRun: `${cfg.root}/rootless/host-run`,
});

/** The recorded rootless netns, whether or not its holder still runs; undefined when none. */
export function readRootlessNetns(cfg: Dirs): RootlessNetns | undefined {
	let text: string;
	try {
		text = readFileSync(statePath(cfg), "utf8");
	} catch {
		return undefined;
	}
	const r = check(RootlessNetnsSchema(), parseJson(text));
	if (r.ok) return r.data;
	log.warn(`${statePath(cfg)} is unreadable; a new rootless netns will be made`);
	return undefined;
}

/** The rootless netns when its holder runs. */
export function liveRootlessNetns(cfg: Dirs): RootlessNetns | undefined {
	const r = readRootlessNetns(cfg);
	return r && isAlive(r.holder) ? r : undefined;
}

function write(cfg: Dirs, r: RootlessNetns): void {
	writeFileAtomic(statePath(cfg), JSON.stringify(r), { mode: 0o600, durable: false });
}

function whoami(): { name: string; uid: number; gid: number } {
	const uid = process.getuid?.() ?? 0;
	const gid = process.getgid?.() ?? 0;
	let name = String(uid);
	for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
		const [n, , u] = line.split(":");
		if (Number(u) === uid && n) name = n;
	}
	return { name, uid, gid };
}

/** Everything that can be refused before anything starts. */
function preflight(): { uids: string; gids: string } {
	const me = whoami();
	const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
	const sub = subIdRange(read("/etc/subuid"), me.name, me.uid);
	const subg = subIdRange(read("/etc/subgid"), me.name, me.gid);
	if (!sub || !subg) {
		throw new UsageError(
			`no subordinate ${sub ? "group" : "user"} ids for ${me.name} in /etc/sub${sub ? "gid" : "uid"}: rootless networks need a range (e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${me.name})`,
		);
	}
	for (const tool of ["newuidmap", "newgidmap", "unshare", "nsenter"]) {
		if (!Bun.which(tool, { PATH: `${process.env.PATH ?? ""}:/usr/bin:/usr/sbin` }))
			throw new UsageError(
				`${tool} not found (Debian package ${tool.startsWith("new") ? "uidmap" : "util-linux"})`,
			);
	}
	try {
		close(open("/dev/net/tun", O_RDWR));
	} catch (e) {
		const why =
			e instanceof SysError && e.errno === ERRNO.EACCES
				? "is not usable by you"
				: "cannot be opened";
		throw new UsageError(
			`/dev/net/tun ${why} (slirp4netns needs it; distributions ship it mode 0666)`,
		);
	}
	return { uids: `${sub.start},1,${sub.count}`, gids: `${subg.start},1,${subg.count}` };
}

/** How to run a program as root of the rootless netns' user namespace, inside its mount and net. */
export function enterArgs(
	r: Pick<RootlessNetns, "holder">,
	ns: ("mnt" | "net")[] = ["mnt", "net"],
): string[] {
	const p = nsPaths(r);
	return [
		"nsenter",
		`--user=${p.user}`,
		...(ns.includes("mnt") ? [`--mount=${p.mnt}`] : []),
		...(ns.includes("net") ? [`--net=${p.net}`] : []),
		"--",
	];
}

async function waitMapped(pid: number, own: string): Promise<void> {
	const end = Date.now() + 10_000;
	for (;;) {
		try {
			// Both maps (newuidmap and newgidmap run one after the other): joining before the gid
			// map exists fails in setgroups.
			const mapped = ["uid_map", "gid_map"].every(
				(m) => readFileSync(`/proc/${pid}/${m}`, "utf8").trim() !== "",
			);
			if (mapped && readlinkSync(`/proc/${pid}/ns/net`) !== own) return;
		} catch {
			throw new CtrnetError("the rootless netns' holder process exited at once (unshare failed)");
		}
		if (Date.now() > end) throw new CtrnetError("the rootless netns' holder did not start");
		await Bun.sleep(5);
	}
}

/** The rootless netns, made (or its slirp4netns restarted) when needed. */
export async function ensureRootlessNetns(
	cfg: Dirs & Pick<Config, "rootless">,
): Promise<RootlessNetns> {
	mkdirSync(cfg.runRoot, { recursive: true, mode: 0o700 });
	return withFileLock(lockPath(cfg), "exclusive", async () => {
		const existing = liveRootlessNetns(cfg);
		if (existing) {
			if (existing.slirp && isAlive(existing.slirp)) return existing;
			log.warn("the rootless netns' slirp4netns is not running: starting it again");
			const restarted = { ...existing, slirp: await startSlirp(cfg, existing) };
			write(cfg, restarted);
			return restarted;
		}
		const maps = preflight();
		const dirs = rootlessDirs(cfg);
		for (const d of [dirs.cniData, dirs.tmp, dirs.hostRun])
			mkdirSync(d, { recursive: true, mode: 0o700 });
		const own = readlinkSync("/proc/thread-self/ns/net");
		const proc = Bun.spawn(
			[
				"unshare",
				"--map-root-user",
				`--map-users=${maps.uids}`,
				`--map-groups=${maps.gids}`,
				"--net",
				"--mount",
				"--",
				"sleep",
				"infinity",
			],
			{ stdio: ["ignore", "ignore", "ignore"], detached: true, cwd: "/" },
		);
		proc.unref();
		// The start time is the fork's, kept across unshare's exec of sleep: one reading will do.
		const holder = identify(proc.pid);
		const partial: RootlessNetns = {
			holder: holder ?? { pid: proc.pid, startTime: "" },
			slirp: null,
			cidr: ROOTLESS_CIDR,
			createdAt: new Date().toISOString(),
		};
		try {
			await waitMapped(proc.pid, own);
			write(cfg, partial); // recorded before it grows: gc can always find and stop it
			await runWorker(partial, "init", {
				cniData: dirs.cniData,
				hostRun: dirs.hostRun,
				runRoot: cfg.runRoot,
			});
			const done = { ...partial, slirp: await startSlirp(cfg, partial) };
			write(cfg, done);
			return done;
		} catch (e) {
			await destroy(cfg, readRootlessNetns(cfg) ?? partial);
			throw e;
		}
	});
}

async function startSlirp(cfg: Dirs, r: RootlessNetns): Promise<ProcessIdentity> {
	const { detectSlirp } = await import("../slirp/features");
	const { parseSlirpOptions } = await import("../slirp/options");
	const { startSlirp4netns } = await import("../helpers/slirp4netns");
	const slirp = await detectSlirp();
	if (!slirp) throw new UsageError("slirp4netns not found in PATH (Debian package slirp4netns)");
	const started = await startSlirp4netns({
		binary: slirp.path,
		features: slirp.features,
		options: parseSlirpOptions([], slirp.features),
		target: { pid: r.holder.pid },
		containerId: "rootless-netns",
		tmpDir: rootlessDirs(cfg).tmp,
		hasPorts: false,
	});
	return { pid: started.pid, startTime: started.startTime };
}

/** Runs this binary's `rootless-worker OP` inside the rootless netns with `input` (JSON) on stdin. */
export async function runWorker(r: RootlessNetns, op: string, input: unknown): Promise<unknown> {
	const { selfCommand } = await import("../helpers/rootlessport");
	const p = Bun.spawn([...enterArgs(r), ...selfCommand(), "rootless-worker", op], {
		stdin: new TextEncoder().encode(JSON.stringify(input)),
		stdout: "pipe",
		stderr: "pipe",
		env: { ...process.env, BUN_BE_BUN: undefined },
	});
	const [out, err, code] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
		p.exited,
	]);
	if (code !== 0) {
		const msg = err.trim().replace(/^Error: /, "") || `exit status ${code}`;
		throw new CtrnetError(`in the rootless netns: ${msg}`);
	}
	return out.trim() ? JSON.parse(out) : undefined;
}

/** Processes of the user (other than the netns' own helpers) in the rootless user namespace. */
function othersInUserns(cfg: Dirs, r: RootlessNetns): number[] {
	let target: string;
	try {
		target = readlinkSync(nsPaths(r).user);
	} catch {
		return [];
	}
	const own = new Set([r.holder.pid, r.slirp?.pid, runningAardvark(aardvarkDir(cfg))?.pid]);
	const out: number[] = [];
	for (const d of readdirSync("/proc")) {
		const pid = Number(d);
		if (!Number.isInteger(pid) || own.has(pid)) continue;
		try {
			// A zombie still shows its user namespace; it is gone for our purposes.
			if (readlinkSync(`/proc/${pid}/ns/user`) === target && identify(pid)) out.push(pid);
		} catch {
			// gone, or not ours to see
		}
	}
	return out;
}

async function destroy(cfg: Dirs, r: RootlessNetns): Promise<void> {
	// aardvark serves only this netns' networks; its entries name containers that are gone.
	const dns = runningAardvark(aardvarkDir(cfg));
	if (dns) await stopAardvark(dns, aardvarkDir(cfg));
	rmSync(aardvarkDir(cfg), { recursive: true, force: true });
	if (r.slirp) await stopProcess(r.slirp);
	await stopProcess(r.holder);
	rmSync(statePath(cfg), { force: true });
	rmSync(rootlessDirs(cfg).tmp, { recursive: true, force: true });
	rmSync(`${cfg.root}/rootless`, { recursive: true, force: true });
}

/**
 * Removes the rootless netns when nothing uses it: `inUse` says whether containers of ctrnet's
 * state are on its networks; a process left in its user namespace (a container not set up yet, a
 * forwarder) keeps it too. Returns true when it was removed (or was not there).
 */
export async function releaseRootlessNetns(cfg: Dirs, inUse: () => boolean): Promise<boolean> {
	if (!existsSync(statePath(cfg))) return true;
	return withFileLock(lockPath(cfg), "exclusive", async () => {
		const r = readRootlessNetns(cfg);
		if (!r) return true;
		if (isAlive(r.holder) && (inUse() || othersInUserns(cfg, r).length > 0)) return false;
		await destroy(cfg, r);
		return true;
	});
}

/** For `ctrnet info`: the rootless netns and its helpers. */
export function rootlessNetnsInfo(cfg: Dirs) {
	const r = readRootlessNetns(cfg);
	if (!r) return null;
	return {
		netns: nsPaths(r).net,
		userns: nsPaths(r).user,
		cidr: r.cidr,
		holder: { pid: r.holder.pid, running: isAlive(r.holder) },
		slirp4netns: r.slirp ? { pid: r.slirp.pid, running: isAlive(r.slirp) } : null,
	};
}
