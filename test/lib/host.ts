// Looking at the host from tests: run a command, poll, read iptables, mounts, leases, bridge ports,
// processes and namespaces.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";

export function sh(
	cmd: string[],
	opts: { stdin?: string } = {},
): { code: number; out: string; err: string } {
	const p = Bun.spawnSync(cmd, {
		stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
		stdout: "pipe",
		stderr: "pipe",
	});
	return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** Runs a command that has to work: its stdout, else an error naming the command and its stderr. */
export function must(cmd: string[], opts: { stdin?: string } = {}): string {
	const r = sh(cmd, opts);
	if (r.code !== 0) throw new Error(`${cmd.join(" ")}: ${r.err.trim()}`);
	return r.out;
}

/** Like sh, with stdout and stderr together in `out` (for asserting on whatever a tool printed). */
export function shAll(cmd: string[]): { code: number; out: string } {
	const r = sh(cmd);
	return { code: r.code, out: r.out + r.err };
}

/** The needle that finds a container's CNI rules: `iptables -S` prints comment quotes as \". */
export function cniIdComment(containerId: string): string {
	return `id: \\"${containerId}\\"`;
}

/** iptables rules (every table) that mention one of `needles`. */
export function iptablesMentioning(needles: string[]): string[] {
	const out: string[] = [];
	for (const table of ["nat", "filter", "mangle"]) {
		for (const line of sh(["iptables", "-w", "-t", table, "-S"]).out.split("\n")) {
			if (needles.some((n) => line.includes(n))) out.push(`${table}: ${line}`);
		}
	}
	return out;
}

/** Mount points at or under `dir` (netns bind mounts show up here). */
export function mountsUnder(dir: string): string[] {
	return readFileSync("/proc/self/mountinfo", "utf8")
		.split("\n")
		.map((l) => l.split(" ")[4] ?? "")
		.filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** host-local lease files (named after the address) of a network. */
export function leaseFiles(network: string): string[] {
	const dir = `/var/lib/cni/networks/${network}`;
	if (!existsSync(dir)) return [];
	return readdirSync(dir).filter(
		(f) => /^[0-9a-f.:]+$/.test(f) && (f.includes(".") || f.includes(":")),
	);
}

/** Interfaces enslaved to a bridge (veths of containers still attached). */
export function bridgePorts(bridge: string): string[] {
	const dir = `/sys/class/net/${bridge}/brif`;
	return existsSync(dir) ? readdirSync(dir) : [];
}

/** pids of processes whose command line contains `needle`. */
export function processesMatching(needle: string): number[] {
	const out: number[] = [];
	for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
		try {
			const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
			if (cmd.includes(needle) && Number(pid) !== process.pid) out.push(Number(pid));
		} catch {}
	}
	return out;
}

/** Whether process `pid` still runs: a zombie counts as gone (PID 1 here reaps late). */
export function alive(pid: number): boolean {
	try {
		return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
	} catch {
		return false;
	}
}

/** Live aardvark-dns processes serving the config dir `dir` (netavark's `<config>/aardvark-dns`). */
export function aardvarksServing(dir: string): number[] {
	return processesMatching(`aardvark-dns --config ${dir}`).filter(alive);
}

/** Addresses (CIDR) on an interface inside a namespace given by path. */
export function addressesInNetns(netnsPath: string, ifname: string): string[] {
	const r = sh(["nsenter", `--net=${netnsPath}`, "ip", "-o", "addr", "show", "dev", ifname]);
	return [...r.out.matchAll(/inet6? (\S+)/g)].map((m) => m[1] as string);
}

/** HTTP GET with curl, asynchronous (a server in this process can answer); "" when none did. */
export async function curlGet(url: string, timeoutS = 3): Promise<string> {
	const p = Bun.spawn(["curl", "-s", "-m", String(timeoutS), url], {
		stdout: "pipe",
		stderr: "ignore",
	});
	const out = await new Response(p.stdout).text();
	await p.exited;
	return out;
}

/** busybox httpd inside a namespace, serving one page from `<dir>/www-<port>`. */
export function httpdIn(
	netnsPath: string,
	port: number,
	text: string,
	dir: string,
): Bun.Subprocess {
	const root = `${dir}/www-${port}`;
	sh(["mkdir", "-p", root]);
	writeFileSync(`${root}/index.html`, text);
	return Bun.spawn(
		["nsenter", `--net=${netnsPath}`, "busybox", "httpd", "-f", "-p", String(port), "-h", root],
		{ stdout: "ignore", stderr: "ignore" },
	);
}

/**
 * Polls `check` (sync or async) every `stepMs` until `done` holds for its result (by default: the
 * result is truthy) or `ms` have passed; the last result.
 */
export async function until<T>(
	check: () => T | Promise<T>,
	ms: number,
	stepMs: number,
	done: (v: T) => boolean = Boolean,
): Promise<T> {
	const end = Date.now() + ms;
	for (;;) {
		const v = await check();
		if (done(v) || Date.now() >= end) return v;
		await Bun.sleep(stepMs);
	}
}

/**
 * Which netns a path names (a /proc/<pid>/ns/net link or a bind mount of one): device and inode,
 * "" when it is gone. Compared by stat, not readlink: a bind mount is no link.
 */
function netnsId(path: string): string {
	try {
		const st = statSync(path);
		return `${st.dev}:${st.ino}`;
	} catch {
		return "";
	}
}

/** Whether process `pid` is in a netns other than the one at `than` (this process's by default). */
export function unshared(pid: number, than = "/proc/self/ns/net"): boolean {
	const theirs = netnsId(`/proc/${pid}/ns/net`);
	return theirs !== "" && theirs !== netnsId(than);
}

/** Polls (every `stepMs`, up to `ms`) until a process just started with unshare has its own netns. */
export function waitUnshared(
	pid: number,
	ms: number,
	stepMs: number,
	than?: string,
): Promise<boolean> {
	return until(() => unshared(pid, than), ms, stepMs);
}

/** The first child of `pid` named `name` (a process runuser or nsenter forked), 0 when none. */
export function childNamed(pid: number, name: string): number {
	return Number(
		sh(["pgrep", "-P", String(pid), "-x", name])
			.out.trim()
			.split("\n")[0] || 0,
	);
}
