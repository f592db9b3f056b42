// Interface counters of a container (DESIGN 4): through netlink inside its namespace; rootless,
// where entering another network namespace is not allowed, from /proc/PID/net/dev of the
// container's process (the kernel shows the counters of that process's namespace there).
import { readFileSync } from "node:fs";
import { NotFoundError } from "../errors";
import { type LinkStats, linkStats } from "../netlink";
import type { Container } from "../state/schema";

/** DESIGN 4's `stats` row: the interface, its network, and the kernel's 64-bit counters. */
export type StatsRow = { interface: string; network: string } & LinkStats;

type Counters = Omit<StatsRow, "interface" | "network">;

/** /proc/net/dev's table (pure): per interface, the counters `stats` shows. */
export function parseProcNetDev(text: string): { ifname: string; counters: Counters }[] {
	const out: { ifname: string; counters: Counters }[] = [];
	for (const line of text.split("\n").slice(2)) {
		const colon = line.indexOf(":");
		if (colon < 0) continue;
		const f = line
			.slice(colon + 1)
			.trim()
			.split(/\s+/)
			.map(Number);
		out.push({
			ifname: line.slice(0, colon).trim(),
			counters: {
				rx_bytes: f[0] ?? 0,
				rx_packets: f[1] ?? 0,
				rx_errors: f[2] ?? 0,
				rx_dropped: f[3] ?? 0,
				tx_bytes: f[8] ?? 0,
				tx_packets: f[9] ?? 0,
				tx_errors: f[10] ?? 0,
				tx_dropped: f[11] ?? 0,
			},
		});
	}
	return out;
}

function counters(c: Container): { ifname: string; counters: Counters }[] {
	const netns = c.netns;
	if (!netns)
		throw new NotFoundError(
			`container ${c.id} has no network namespace (network mode ${c.mode.mode})`,
		);
	if (netns.pid !== undefined && netns.path.startsWith("/proc/")) {
		return parseProcNetDev(readFileSync(`/proc/${netns.pid}/net/dev`, "utf8"));
	}
	return linkStats(netns.path).map((l) => ({
		ifname: l.ifname,
		counters: {
			rx_bytes: l.rx_bytes,
			tx_bytes: l.tx_bytes,
			rx_packets: l.rx_packets,
			tx_packets: l.tx_packets,
			rx_errors: l.rx_errors,
			tx_errors: l.tx_errors,
			rx_dropped: l.rx_dropped,
			tx_dropped: l.tx_dropped,
		},
	}));
}

export function containerStats(c: Container): StatsRow[] {
	const byIf = new Map(c.networks.map((n) => [c.interfaces[n], n]));
	return counters(c)
		.filter((l) => l.ifname !== "lo")
		.map((l) => ({ interface: l.ifname, network: byIf.get(l.ifname) ?? "", ...l.counters }));
}
