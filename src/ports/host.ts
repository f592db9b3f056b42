// Host facts for port assignment: the kernel's ephemeral range (random host ports are picked
// there, as binding to port 0 would) and the key ports are compared by.
import { readFileSync } from "node:fs";
import type { Protocol } from "./schema";

export function portKey(protocol: Protocol, port: number): string {
	return `${protocol}/${port}`;
}

export function localPortRange(): [number, number] {
	try {
		const m = /(\d+)\s+(\d+)/.exec(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8"));
		if (m) return [Number(m[1]), Number(m[2])];
	} catch {}
	return [32768, 60999];
}
