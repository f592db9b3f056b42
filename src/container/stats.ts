// Interface counters of a container, read through netlink inside its namespace (DESIGN 4).
import { NotFoundError } from "../errors";
import { type LinkStats, linkStats } from "../netlink";
import type { Container } from "../state/schema";

/** DESIGN 4's `stats` row: the interface, its network, and the kernel's 64-bit counters. */
export type StatsRow = { interface: string; network: string } & LinkStats;

export function containerStats(c: Container): StatsRow[] {
	if (!c.netns)
		throw new NotFoundError(
			`container ${c.id} has no network namespace (network mode ${c.mode.mode})`,
		);
	const byIf = new Map(c.networks.map((n) => [c.interfaces[n], n]));
	return linkStats(c.netns.path)
		.filter((l) => l.ifname !== "lo")
		.map((l) => ({
			interface: l.ifname,
			network: byIf.get(l.ifname) ?? "",
			rx_bytes: l.rx_bytes,
			tx_bytes: l.tx_bytes,
			rx_packets: l.rx_packets,
			tx_packets: l.tx_packets,
			rx_errors: l.rx_errors,
			tx_errors: l.tx_errors,
			rx_dropped: l.rx_dropped,
			tx_dropped: l.tx_dropped,
		}));
}
