// Interface counters of a container, read through netlink inside its namespace (DESIGN 4).
import { NotFoundError } from "../errors";
import { linkStats } from "../netlink";
import type { Container } from "../state/schema";

export interface StatsRow {
	interface: string;
	network: string;
	rx_bytes: number;
	tx_bytes: number;
	rx_packets: number;
	tx_packets: number;
	rx_errors: number;
	tx_errors: number;
	rx_dropped: number;
	tx_dropped: number;
}

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
