// Facts about the host that `info` reports.
import { release } from "node:os";

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
