// The fixed part of ctrnet's firewall: one `inet` table whose rules never change once it exists.
// Everything that varies — networks, published ports — lives in the sets and maps below, so a
// container's setup or teardown is a handful of element adds or deletes (see elements.ts).
// Pure: these functions only build nft command text.

/** The table ctrnet owns; nothing else in it belongs to anyone else. */
export const TABLE = "inet ctrnet";

/**
 * Packet-mark bit that our `allow` chain sets on what it accepts, so that one rule in iptables'
 * FORWARD chain (whose policy may be drop, e.g. after Docker) can let the same packets through.
 * A single high bit: clear of the ones netavark/CNI (0x2000), kube-proxy (0x4000, 0x8000) and
 * Cilium (0x0f00) use. Forwarded packets lose their mark when they leave the host or enter a
 * container's namespace.
 */
export const FORWARD_MARK = "0x10000000";

/** The comment that identifies our rule in iptables' FORWARD chains (`iptables -S` shows it). */
export const HOST_FORWARD_COMMENT =
	"ctrnet: forward what table inet ctrnet accepted (mark 0x10000000)";

/** iptables-nft's filter tables, whose FORWARD base chain may drop what we accept. */
export type HostFamily = "ip" | "ip6";

/** What a listing found of one iptables FORWARD chain: absent, or present with our rules. */
export interface HostForwardChain {
	family: HostFamily;
	/** Handles of rules carrying HOST_FORWARD_COMMENT (normally zero or one). */
	handles: number[];
}

const HOST_FORWARD_RULE = `meta mark & ${FORWARD_MARK} == ${FORWARD_MARK} counter accept comment "${HOST_FORWARD_COMMENT}"`;

/**
 * Keeps our accept rule at the top of each iptables FORWARD chain that exists. An existing rule is
 * `replace`d by handle rather than left alone: the replace fails if a concurrent teardown removed
 * it in the meantime, and the whole transaction with it, so the caller lists again and retries.
 */
export function hostForwardCommands(chains: readonly HostForwardChain[]): string {
	return chains
		.map(({ family, handles }) =>
			handles[0] === undefined
				? `insert rule ${family} filter FORWARD ${HOST_FORWARD_RULE}`
				: `replace rule ${family} filter FORWARD handle ${handles[0]} ${HOST_FORWARD_RULE}`,
		)
		.join("\n");
}

/** Removes our rules from iptables' FORWARD chains (by handle, from a listing). */
export function hostForwardDeleteCommands(chains: readonly HostForwardChain[]): string {
	return chains
		.flatMap(({ family, handles }) =>
			handles.map((h) => `delete rule ${family} filter FORWARD handle ${h}`),
		)
		.join("\n");
}

// Element comments are added per element by elements.ts; these say what each set means.
const BASE = `
table ${TABLE} {
	set bridges {
		type ifname
		comment "the bridge of every ctrnet network"
	}

	set internal_bridges {
		type ifname
		comment "bridges of internal networks: nothing is forwarded into or out of them"
	}

	set isolated_bridges {
		type ifname
		comment "bridges of isolated networks: nothing is forwarded from one of them to another"
	}

	map within_network {
		type ifname . ifname : verdict
		comment "each bridge to itself: traffic that stays inside one network (also the anchor that keeps this table while a network exists)"
	}

	set subnets4 {
		type ipv4_addr
		flags interval
		comment "IPv4 subnets of networks with outside access: masqueraded when they leave"
	}

	set subnets6 {
		type ipv6_addr
		flags interval
		comment "IPv6 subnets of networks with outside access: masqueraded when they leave"
	}

	set same_subnet4 {
		type ipv4_addr . ipv4_addr
		flags interval
		comment "subnet . itself: traffic within one IPv4 subnet keeps its source address"
	}

	set same_subnet6 {
		type ipv6_addr . ipv6_addr
		flags interval
		comment "subnet . itself: traffic within one IPv6 subnet keeps its source address"
	}

	map ports4 {
		type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
		comment "ports published on one host IPv4 address: host address . protocol . host port : container address . port"
	}

	map ports4_any {
		type inet_proto . inet_service : ipv4_addr . inet_service
		comment "ports published on every host IPv4 address: protocol . host port : container address . port"
	}

	map ports6 {
		type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service
		comment "ports published on one host IPv6 address: host address . protocol . host port : container address . port"
	}

	map ports6_any {
		type inet_proto . inet_service : ipv6_addr . inet_service
		comment "ports published on every host IPv6 address except ::1: protocol . host port : container address . port"
	}

	chain allow {
		comment "accepted container traffic; the mark lets ctrnet's rule in iptables' FORWARD chain accept it too"
		meta mark set meta mark | ${FORWARD_MARK} accept
	}

	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		iifname . oifname vmap @within_network comment "within one network: hairpin through a host address, bridge netfilter"
		iifname @internal_bridges drop comment "internal networks reach nothing beyond their bridge"
		oifname @internal_bridges drop comment "and nothing from elsewhere reaches them"
		iifname @isolated_bridges oifname @isolated_bridges drop comment "isolated networks do not reach one another"
		iifname @bridges jump allow comment "containers reach the outside and other networks"
		oifname @bridges ct state established,related jump allow comment "replies to the containers"
		oifname @bridges ct status dnat jump allow comment "connections to published ports"
	}

	chain input {
		type filter hook input priority filter - 10; policy accept;
		iifname @bridges ip daddr 127.0.0.0/8 ct status & dnat == 0 drop comment "route_localnet is on for 127.0.0.1 ports; containers must not reach the host's loopback services"
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump published_ports
	}

	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local jump published_ports
	}

	chain published_ports {
		ip6 daddr ::1 return comment "the kernel cannot DNAT [::1] to a container (no route_localnet in IPv6); left to a userspace forwarder"
		dnat ip to ip daddr . meta l4proto . th dport map @ports4
		meta nfproto ipv4 dnat ip to meta l4proto . th dport map @ports4_any
		dnat ip6 to ip6 daddr . meta l4proto . th dport map @ports6
		meta nfproto ipv6 dnat ip6 to meta l4proto . th dport map @ports6_any
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname @bridges ct status dnat ip saddr 127.0.0.0/8 masquerade comment "a port published on 127.0.0.1: the container could not answer 127.0.0.1"
		ct status dnat ip saddr . ip daddr @same_subnet4 masquerade comment "hairpin: a published port of one's own network reached through a host address"
		ct status dnat ip6 saddr . ip6 daddr @same_subnet6 masquerade comment "hairpin: a published port of one's own network reached through a host address"
		ip saddr . ip daddr @same_subnet4 return comment "within one network: keep the source address"
		ip6 saddr . ip6 daddr @same_subnet6 return comment "within one network: keep the source address"
		ip saddr @subnets4 ip daddr != 224.0.0.0/4 masquerade comment "containers reaching beyond their network"
		ip6 saddr @subnets6 ip6 daddr != ff00::/8 masquerade comment "containers reaching beyond their network"
	}
}`;

/**
 * Creates the table, or brings an existing one back to this ruleset (its rules are flushed and
 * written again, its set elements are kept), and puts our accept rule in the iptables FORWARD
 * chains that exist. Safe to run any number of times, also by two processes at once; one
 * transaction together with whatever the caller appends.
 */
export function baseCommands(hostForward: readonly HostForwardChain[]): string {
	const lines = [
		`add table ${TABLE} { comment "ctrnet container networks (native backend): per network and per container only the elements of its sets and maps change"; }`,
		`flush table ${TABLE}`,
		BASE.trim(),
	];
	const host = hostForwardCommands(hostForward);
	if (host) lines.push(host);
	return lines.join("\n");
}

/**
 * Removes the table and our iptables FORWARD rules, but only if no network has elements left:
 * deleting `allow` fails (EBUSY, and the whole transaction with it) while an element of
 * within_network still jumps to it. The forward chain goes first because its rules jump there too.
 */
export function removeBaseCommands(hostForward: readonly HostForwardChain[]): string {
	return [
		`delete chain ${TABLE} forward`,
		`delete chain ${TABLE} allow`,
		`delete table ${TABLE}`,
		hostForwardDeleteCommands(hostForward),
	]
		.filter(Boolean)
		.join("\n");
}

/**
 * Removes our iptables FORWARD rules left behind by a table that is already gone, but only if it
 * is still gone: `create table` fails (EEXIST, and the whole transaction with it) when another
 * process has just made it again, together with the rule it relies on.
 */
export function removeOrphanHostForwardCommands(hostForward: readonly HostForwardChain[]): string {
	return [`create table ${TABLE}`, `delete table ${TABLE}`, hostForwardDeleteCommands(hostForward)]
		.filter(Boolean)
		.join("\n");
}

/** Removes everything ctrnet put in the firewall, whatever is still in it (tests, gc). */
export function wipeCommands(hostForward: readonly HostForwardChain[]): string {
	// `add` first makes the delete succeed when the table is already gone.
	return [`add table ${TABLE}`, `delete table ${TABLE}`, hostForwardDeleteCommands(hostForward)]
		.filter(Boolean)
		.join("\n");
}
