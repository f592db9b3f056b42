// Which host ports are taken by a listening socket, from /proc/net/{tcp,udp}{,6} of the current
// (host) network namespace. Reading /proc is cheaper than probing with bind(2) and changes nothing.
import { readFileSync } from "node:fs";
import type { Protocol } from "./schema";

const TCP_LISTEN = "0A";

/** Ports bound by sockets in one /proc/net table; TCP counts only listening sockets. */
export function parseProcNet(table: string, tcp: boolean): number[] {
	const ports: number[] = [];
	for (const line of table.split("\n").slice(1)) {
		const f = line.trim().split(/\s+/);
		const local = f[1];
		if (!local || (tcp && f[3] !== TCP_LISTEN)) continue;
		ports.push(Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16));
	}
	return ports;
}

function read(path: string): string {
	try {
		return readFileSync(path, "utf8");
	} catch {
		return "";
	}
}

/** `${protocol}/${port}` for every port some host socket holds (any address). */
export function hostPortsInUse(): Set<string> {
	const used = new Set<string>();
	for (const [proto, tcp] of [
		["tcp", true],
		["udp", false],
	] as const) {
		for (const suffix of ["", "6"]) {
			for (const port of parseProcNet(read(`/proc/net/${proto}${suffix}`), tcp)) {
				used.add(`${proto}/${port}`);
			}
		}
	}
	return used;
}

export function portKey(protocol: Protocol, port: number): string {
	return `${protocol}/${port}`;
}

export function localPortRange(): [number, number] {
	const m = /(\d+)\s+(\d+)/.exec(read("/proc/sys/net/ipv4/ip_local_port_range"));
	return m ? [Number(m[1]), Number(m[2])] : [32768, 60999];
}
