// Facts about the host that `info` reports.
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { inNetns } from "../../ffi/netns";

export function kernelRelease(): string {
	return release();
}

export interface IptablesInfo {
	path: string;
	version: string;
	/** "nf_tables" or "legacy", from `iptables --version`. */
	backend: string;
}

/** "iptables v1.8.9 (nf_tables)" → { version: "1.8.9", backend: "nf_tables" } */
export function parseIptablesVersion(out: string): { version: string; backend: string } | null {
	const m = /iptables v(\S+)(?: \(([^)]+)\))?/.exec(out);
	if (!m) return null;
	return { version: m[1] as string, backend: m[2] ?? "legacy" };
}

export async function detectIptables(): Promise<IptablesInfo | null> {
	const path = Bun.which("iptables", { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` });
	if (!path) return null;
	const p = Bun.spawn([path, "--version"], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
	const parsed = parseIptablesVersion(await new Response(p.stdout).text());
	await p.exited;
	return parsed ? { path, ...parsed } : null;
}

/**
 * Whether iptables-legacy's filter table is loaded in the namespace at `netnsPath` (this one by
 * default). Its FORWARD chain sits outside nftables: with a DROP policy (Docker on a legacy host)
 * it drops the containers' forwarded traffic whatever ctrnet's table accepts, and nothing done
 * through nftables can change that — the fix is an iptables-legacy rule or iptables-nft.
 */
export function legacyFilterLoaded(netnsPath?: string): boolean {
	// /proc/thread-self/net follows the thread's namespace; x_tables lists its loaded tables
	// there (the file is absent without the ip_tables module).
	const read = () => {
		try {
			return readFileSync("/proc/thread-self/net/ip_tables_names", "utf8");
		} catch {
			return "";
		}
	};
	return (netnsPath ? inNetns(netnsPath, read) : read()).split("\n").includes("filter");
}
