// netavark 1.4's iptables firewall driver, as data: the chains and rules it keeps for a bridge
// network and for a container's published ports, each rule with its iptables text (what
// `iptables -S` prints, without "-A CHAIN") and its nf_tables expressions (expr.ts). Same chain
// names, rule order, positions and teardown policies as netavark's varktables, so a user, a
// script or netavark's own test suite reading iptables finds what netavark would have left. Pure.
import type { Family } from "../../ip/address";
import { formatSubnet, parseSubnet } from "../../ip/cidr";
import type { Protocol } from "../../ports/schema";
import type { FwNetwork, FwPort } from "../types";
import * as X from "./expr";

/** When a rule (or chain) goes: with every container ("each"), the network's last, or never. */
export type Teardown = "each" | "complete" | "never";

export interface LayoutRule {
	text: string;
	exprs: X.Expr[];
	teardown: Teardown;
	/** Inserted at this 1-based position when missing (netavark's `iptables -I`), else appended. */
	position?: number;
	/**
	 * Shared: kept at teardown while another rule of the chain matches these expressions and
	 * ends in a target (another container's DNAT on the same host port). Setup adds a rule only
	 * when missing, so two containers publishing one port share the port's mark rules; netavark
	 * removes them with the first container to go, and the other's localhost port stops working.
	 */
	keptWhile?: X.Expr[];
	/**
	 * Kept at teardown while this chain (of the same table) still holds rules. netavark removes
	 * FORWARD's jump to NETAVARK_ISOLATION_1 with the first isolated network to go, and the
	 * isolation of every other one stops with it.
	 */
	keptWhileRulesIn?: string;
}

export interface LayoutChain {
	table: "nat" | "filter";
	name: string;
	/** netavark's own chain: made when missing (a built-in one always exists). */
	create: boolean;
	/** Removed, when empty and unreferenced, at the network's complete teardown. */
	removeOnComplete: boolean;
	rules: LayoutRule[];
}

const NETAVARK_FORWARD = "NETAVARK_FORWARD";
const HOSTPORT_DNAT = "NETAVARK-HOSTPORT-DNAT";
const HOSTPORT_SETMARK = "NETAVARK-HOSTPORT-SETMARK";
const HOSTPORT_MASQ = "NETAVARK-HOSTPORT-MASQ";
const ISOLATION_1 = "NETAVARK_ISOLATION_1";
const ISOLATION_2 = "NETAVARK_ISOLATION_2";
const MARK = 0x2000;

/** netavark's per-network chain suffix: SHA-512 of the network's name, upper-case hex, 13 long. */
export function networkHash(name: string): string {
	// Bun's hasher: loading node:crypto's module is a cost of its own in a command that runs once.
	return new Bun.CryptoHasher("sha512").update(name).digest("hex").toUpperCase().slice(0, 13);
}

const rule = (text: string, exprs: X.Expr[], teardown: Teardown, position?: number) =>
	({ text, exprs, teardown, ...(position ? { position } : {}) }) as LayoutRule;

const chain = (
	table: LayoutChain["table"],
	name: string,
	rules: LayoutRule[],
	opts: { create?: boolean; removeOnComplete?: boolean } = {},
): LayoutChain => ({
	table,
	name,
	create: opts.create ?? false,
	removeOnComplete: opts.removeOnComplete ?? false,
	rules,
});

/** The network's subnets of `family`, as netavark writes them (network address / prefix). */
export function subnetsOf(net: Pick<FwNetwork, "subnets">, family: Family): string[] {
	return net.subnets
		.map(parseSubnet)
		.filter((s) => s.family === family)
		.map(formatSubnet);
}

/** netavark's get_network_chains: NAT out of the subnet, forwarding in and out, isolation. */
export function networkChains(
	family: Family,
	subnet: string,
	net: Pick<FwNetwork, "name" | "bridge" | "isolate">,
): LayoutChain[] {
	const hashChain = `NETAVARK-${networkHash(net.name)}`;
	const multicast = family === 4 ? "224.0.0.0/4" : "ff00::/8";
	const out: LayoutChain[] = [
		chain(
			"nat",
			hashChain,
			[
				rule(
					`-d ${subnet} -j ACCEPT`,
					[...X.addr(family, "dst", subnet), X.counter(), X.accept()],
					"complete",
				),
				rule(
					`! -d ${multicast} -j MASQUERADE`,
					[...X.addr(family, "dst", multicast, true), X.counter(), X.masquerade(family)],
					"complete",
				),
			],
			{ create: true, removeOnComplete: true },
		),
		chain("nat", "POSTROUTING", [
			rule(
				`-s ${subnet} -j ${hashChain}`,
				[...X.addr(family, "src", subnet), X.counter(), X.jump(hashChain)],
				"complete",
			),
		]),
	];
	const forward: LayoutRule[] = [];
	let position = 1;
	if (net.isolate) {
		const br = net.bridge;
		forward.push({
			...rule(`-j ${ISOLATION_1}`, [X.counter(), X.jump(ISOLATION_1)], "complete", position),
			keptWhileRulesIn: ISOLATION_1,
		});
		out.push(
			chain(
				"filter",
				ISOLATION_1,
				[
					rule(
						`-i ${br} ! -o ${br} -j ${ISOLATION_2}`,
						[...X.iface("in", br), ...X.iface("out", br, true), X.counter(), X.jump(ISOLATION_2)],
						"complete",
						position,
					),
				],
				{ create: true },
			),
			chain(
				"filter",
				ISOLATION_2,
				[
					rule(
						`-o ${br} -j DROP`,
						[...X.iface("out", br), X.counter(), X.drop()],
						"complete",
						position,
					),
				],
				{ create: true },
			),
		);
		position++;
	}
	forward.push(
		rule(
			`-m comment --comment "netavark firewall plugin rules" -j ${NETAVARK_FORWARD}`,
			[X.comment("netavark firewall plugin rules"), X.counter(), X.jump(NETAVARK_FORWARD)],
			"never",
			position,
		),
	);
	out.push(
		chain("filter", "FORWARD", forward),
		chain(
			"filter",
			NETAVARK_FORWARD,
			[
				rule(
					`-d ${subnet} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
					[
						...X.addr(family, "dst", subnet),
						X.ctstateRelatedEstablished(),
						X.counter(),
						X.accept(),
					],
					"complete",
				),
				rule(
					`-s ${subnet} -j ACCEPT`,
					[...X.addr(family, "src", subnet), X.counter(), X.accept()],
					"complete",
				),
			],
			{ create: true },
		),
	);
	return out;
}

export interface PortForward {
	containerId: string;
	network: Pick<FwNetwork, "name" | "dnsRedirect">;
	/** The container's subnet of this family (netavark's network_address). */
	subnet: string;
	/** This family's ports (containerIP of this family). */
	ports: readonly FwPort[];
}

/** The protocols the layout forwards (sctp would need the xt sctp match: not written). */
export const forwards = (protocol: Protocol): protocol is "tcp" | "udp" =>
	protocol === "tcp" || protocol === "udp";

/** The refusal of a port whose protocol the layout does not forward. */
export function refusal(protocol: Protocol, hostPort: number): string {
	return `${protocol} port ${hostPort}: the iptables firewall driver forwards tcp and udp only (NETAVARK_FW=nftables forwards ${protocol})`;
}

const hostAddr = (p: FwPort) => (p.hostIP === "0.0.0.0" || p.hostIP === "::" ? "" : p.hostIP);
const bracket = (family: Family, ip: string) => (family === 6 ? `[${ip}]` : ip);

/** A run of ports that map one to one: host ports from..to onto container ports from `to`. */
export interface PortRun extends FwPort {
	count: number;
}

/**
 * Ports as netavark's rules take them: one run per podman mapping's range (the callers spell
 * ranges out port by port), so a range is one rule per chain, `--dport A:B` and
 * `--to-destination IP:C-D/A`; ports of two mappings stay apart, as in netavark's rules.
 */
export function portRuns(ports: readonly FwPort[]): PortRun[] {
	const runs: PortRun[] = [];
	for (const p of ports) {
		const last = runs.at(-1);
		if (
			last &&
			last.mapping !== undefined &&
			last.mapping === p.mapping &&
			last.hostIP === p.hostIP &&
			last.protocol === p.protocol &&
			last.containerIP === p.containerIP &&
			p.hostPort === last.hostPort + last.count &&
			p.containerPort === last.containerPort + last.count
		) {
			last.count++;
		} else {
			runs.push({ ...p, count: 1 });
		}
	}
	return runs;
}

/** netavark's get_port_forwarding_chains: the hostport chains, DNS redirect, the ports. */
export function portChains(family: Family, pf: PortForward): LayoutChain[] {
	const dnChain = `NETAVARK-DN-${networkHash(pf.network.name)}`;
	const localhost = family === 4 ? "127.0.0.1" : "::1";
	const hostport: LayoutRule[] = [];
	const dn: LayoutRule[] = [];
	const dns = pf.network.dnsRedirect;
	if (dns && dns.port !== 53) {
		for (const gw of dns.gateways.filter((g) => g.includes(":") === (family === 6))) {
			const prefix = family === 4 ? 32 : 128;
			hostport.push(
				rule(
					`-d ${gw}/${prefix} -p udp -m udp --dport 53 -j DNAT --to-destination ${bracket(family, gw)}:${dns.port}`,
					[
						...X.proto("udp"),
						...X.addr(family, "dst", `${gw}/${prefix}`),
						...X.dport(53),
						X.counter(),
						X.dnat(gw, dns.port),
					],
					"complete",
				),
			);
		}
	}
	for (const p of portRuns(pf.ports)) {
		if (!forwards(p.protocol)) throw new Error(refusal(p.protocol, p.hostPort));
		const proto = p.protocol;
		const host = hostAddr(p);
		const prefix = family === 4 ? 32 : 128;
		const dst = host ? ` -d ${host}/${prefix}` : "";
		const dstExprs = host ? X.addr(family, "dst", `${host}/${prefix}`) : [];
		const lastPort = p.hostPort + p.count - 1;
		const ports = p.count > 1 ? `${p.hostPort}:${lastPort}` : `${p.hostPort}`;
		const m = `-p ${proto} -m ${proto} --dport ${ports}`;
		const dport = () => X.dport(p.hostPort, lastPort);
		const cid = `dnat name: ${pf.network.name} id: ${pf.containerId}`;
		hostport.push(
			rule(
				`${m} -m comment --comment "${cid}" -j ${dnChain}`,
				[...X.proto(proto), ...dport(), X.comment(cid), X.counter(), X.jump(dnChain)],
				"each",
			),
		);
		const samePort = [...X.proto(proto), ...dstExprs, ...dport()];
		for (const src of [pf.subnet, `${localhost}/${prefix}`]) {
			dn.push({
				...rule(
					`-s ${src}${dst} ${m} -j ${HOSTPORT_SETMARK}`,
					[
						...X.proto(proto),
						...X.addr(family, "src", src),
						...dstExprs,
						...dport(),
						X.counter(),
						X.jump(HOSTPORT_SETMARK),
					],
					"each",
				),
				keptWhile: samePort,
			});
		}
		const to =
			p.count > 1
				? `${p.containerPort}-${p.containerPort + p.count - 1}/${p.hostPort}`
				: `${p.containerPort}`;
		dn.push(
			rule(
				`${dst.trim()}${dst ? " " : ""}${m} -j DNAT --to-destination ${bracket(family, p.containerIP)}:${to}`,
				[
					...X.proto(proto),
					...dstExprs,
					...dport(),
					X.counter(),
					p.count > 1
						? X.dnat(p.containerIP, p.containerPort, p.containerPort + p.count - 1, p.hostPort)
						: X.dnat(p.containerIP, p.containerPort),
				],
				"each",
			),
		);
	}
	const toDnat = [X.dstTypeLocal(), X.counter(), X.jump(HOSTPORT_DNAT)];
	return [
		chain(
			"nat",
			HOSTPORT_SETMARK,
			[
				rule(
					`-j MARK --set-xmark 0x${MARK.toString(16)}/0x${MARK.toString(16)}`,
					[X.counter(), X.setXmark(MARK, MARK)],
					"never",
				),
			],
			{ create: true },
		),
		chain(
			"nat",
			HOSTPORT_MASQ,
			[
				rule(
					`-m comment --comment "netavark portfw masq mark" -m mark --mark 0x2000/0x2000 -j MASQUERADE`,
					[
						X.comment("netavark portfw masq mark"),
						...X.markMatch(MARK, MARK),
						X.counter(),
						X.masquerade(family),
					],
					"never",
				),
			],
			{ create: true },
		),
		chain("nat", "POSTROUTING", [
			rule(`-j ${HOSTPORT_MASQ}`, [X.counter(), X.jump(HOSTPORT_MASQ)], "never", 1),
		]),
		chain("nat", dnChain, dn, { create: dn.length > 0, removeOnComplete: true }),
		chain("nat", HOSTPORT_DNAT, hostport, { create: true }),
		chain("nat", "PREROUTING", [
			rule(`-m addrtype --dst-type LOCAL -j ${HOSTPORT_DNAT}`, toDnat, "never"),
		]),
		chain("nat", "OUTPUT", [
			rule(`-m addrtype --dst-type LOCAL -j ${HOSTPORT_DNAT}`, toDnat, "never"),
		]),
	];
}
