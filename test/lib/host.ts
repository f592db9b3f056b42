// Looking at the host from tests: run a command, read iptables, mounts, leases, bridge ports.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";

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
