// Shared by the benchmark scripts: medians, timing a process, netavark's input, plugin traces.

import { readFileSync } from "node:fs";

export const median = (xs: number[]): number => {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

export async function timed(argv: string[], env: Record<string, string> = {}, stdin?: string) {
	const t0 = performance.now();
	const p = Bun.spawn(argv, {
		env: { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", ...env },
		stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
		stdout: "pipe",
		stderr: "pipe",
	});
	const [out, err, code] = await Promise.all([
		new Response(p.stdout).text(),
		new Response(p.stderr).text(),
		p.exited,
	]);
	const ms = performance.now() - t0;
	if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${err || out}`);
	return { ms, out, err };
}

/** Runs a setup command that has to work: its stdout, else an error naming it and its stderr. */
export function mustSync(cmd: string[], stdin?: string): string {
	const p = Bun.spawnSync(cmd, {
		stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
		stdout: "pipe",
		stderr: "pipe",
	});
	if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString()}`);
	return p.stdout.toString();
}

/** Live aardvark-dns processes whose --config starts with `prefix` (a zombie counts as gone). */
export function aardvarks(prefix: string): number[] {
	return Bun.spawnSync(["pgrep", "-f", `aardvark-dns --config ${prefix}`])
		.stdout.toString()
		.split("\n")
		.filter(Boolean)
		.map(Number)
		.filter((pid) => {
			try {
				return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
			} catch {
				return false;
			}
		});
}

/** Sum of the plugin wall times ctrnet printed with CTRNET_TRACE_PLUGINS=1. */
export const pluginMs = (trace: string): number =>
	[...trace.matchAll(/^trace: plugin \S+ \S+ network=\S* ms=([\d.]+)/gm)].reduce(
		(a, m) => a + Number(m[1]),
		0,
	);

/** A podman-style id (64 hex digits) made from a name, as netavark's input carries them. */
export const hexId = (s: string): string =>
	Buffer.from(s).toString("hex").padEnd(64, "0").slice(0, 64);

/** netavark 1.x setup/teardown input: one bridge network, a static IP, one published port. */
export function netavarkInput(o: {
	id: string;
	net: string;
	bridge: string;
	subnet24: string;
	ip: number;
	hostPort: number;
}) {
	return JSON.stringify({
		container_id: hexId(o.id),
		container_name: o.id,
		networks: { [o.net]: { interface_name: "eth0", static_ips: [`${o.subnet24}.${o.ip}`] } },
		network_info: {
			[o.net]: {
				name: o.net,
				id: hexId(o.net),
				driver: "bridge",
				network_interface: o.bridge,
				subnets: [{ subnet: `${o.subnet24}.0/24`, gateway: `${o.subnet24}.1` }],
				ipv6_enabled: false,
				internal: false,
				dns_enabled: false,
				ipam_options: { driver: "host-local" },
			},
		},
		port_mappings: [
			{ container_port: 80, host_ip: "", host_port: o.hostPort, protocol: "tcp", range: 1 },
		],
	});
}
