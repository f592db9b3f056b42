// `netns inspect` for people: the layout of `ip -s addr`. Pure.
import {
	IFF_BROADCAST,
	IFF_DORMANT,
	IFF_LOOPBACK,
	IFF_LOWER_UP,
	IFF_MULTICAST,
	IFF_NOARP,
	IFF_POINTOPOINT,
	IFF_PROMISC,
	IFF_RUNNING,
	IFF_UP,
} from "../netlink/constants";
import type { NetnsInspect, NetnsLink } from "./inspect";

// In the order iproute2 prints them.
const FLAG_NAMES: [number, string][] = [
	[IFF_LOOPBACK, "LOOPBACK"],
	[IFF_BROADCAST, "BROADCAST"],
	[IFF_POINTOPOINT, "POINTOPOINT"],
	[IFF_MULTICAST, "MULTICAST"],
	[IFF_NOARP, "NOARP"],
	[IFF_PROMISC, "PROMISC"],
	[IFF_UP, "UP"],
	[IFF_LOWER_UP, "LOWER_UP"],
	[IFF_DORMANT, "DORMANT"],
];

export function flagNames(flags: number): string[] {
	const names = FLAG_NAMES.filter(([bit]) => flags & bit).map(([, n]) => n);
	// Up but without carrier: iproute2 leads with NO-CARRIER.
	if (flags & IFF_UP && !(flags & IFF_RUNNING)) names.unshift("NO-CARRIER");
	return names;
}

function counters(label: string, cols: [string, number][]): string[] {
	const widths = cols.map(([h, v]) => Math.max(h.length, String(v).length));
	return [
		`    ${label}  ${cols.map(([h], i) => h.padStart(widths[i] ?? 0)).join(" ")}`,
		`         ${cols.map(([, v], i) => String(v).padStart(widths[i] ?? 0)).join(" ")}`,
	];
}

export function formatLink(l: NetnsLink, names: Map<number, string>): string[] {
	const master = l.master ? ` master ${names.get(l.master) ?? l.master}` : "";
	const peer = l.link ? `@${names.get(l.link) ?? `if${l.link}`}` : "";
	const type = l.flags & IFF_LOOPBACK ? "loopback" : "ether";
	const s = l.stats64;
	return [
		`${l.index}: ${l.name}${peer}: <${flagNames(l.flags).join(",")}> mtu ${l.mtu}${master} state ${l.operstate}`,
		`    link/${type} ${l.mac || "none"}${l.kind ? ` kind ${l.kind}` : ""}`,
		...l.addresses.map(
			(a) =>
				`    ${a.family === 4 ? "inet" : "inet6"} ${a.address}/${a.prefixLen} scope ${a.scope}${a.label ? ` ${a.label}` : ""}`,
		),
		...counters("RX:", [
			["bytes", s.rx_bytes],
			["packets", s.rx_packets],
			["errors", s.rx_errors],
			["dropped", s.rx_dropped],
		]),
		...counters("TX:", [
			["bytes", s.tx_bytes],
			["packets", s.tx_packets],
			["errors", s.tx_errors],
			["dropped", s.tx_dropped],
		]),
	];
}

export function formatInspect(ns: NetnsInspect): string {
	const names = new Map(ns.links.map((l) => [l.index, l.name]));
	return `${ns.links.flatMap((l) => formatLink(l, names)).join("\n")}\n`;
}
