// Pure decisions of the native data plane: what a network's options mean, which addresses go on
// the bridge, what a container interface gets (addresses, gateways, default routes), and the
// CNI-shaped result the rest of ctrnet reads. Every input error is found here, before anything
// on the host changes.
import type { CniInterface, CniResult } from "../cni/result";
import { UsageError } from "../errors";
import type { Family } from "../ip/address";
import { contains, nthAddress, parseCidr, parseSubnet, type Subnet } from "../ip/cidr";
import type { MacvlanMode } from "../netlink/link";
import type { NativeNetwork, NativeSubnet } from "./types";

export interface NetworkOptions {
	mtu?: number;
	/** Metric of the container's default routes (podman's `-o metric=`). */
	metric?: number;
	/** macvlan mode; "bridge" when not given. */
	mode: MacvlanMode;
}

const MODES: readonly MacvlanMode[] = ["bridge", "private", "vepa", "passthru", "source"];

function integer(net: NativeNetwork, key: string, v: unknown, min: number, max: number) {
	if (v === undefined || v === "") return undefined;
	const n = typeof v === "number" ? v : typeof v === "string" ? Number(v.trim()) : Number.NaN;
	if (!Number.isInteger(n) || n < min || n > max) {
		throw new UsageError(
			`network ${net.name}: option ${key}=${JSON.stringify(v)} must be an integer from ${min} to ${max}`,
		);
	}
	return n;
}

/** The options this layer reads, checked. */
export function networkOptions(net: NativeNetwork): NetworkOptions {
	const o = net.options ?? {};
	const out: NetworkOptions = { mode: "bridge" };
	const mtu = integer(net, "mtu", o.mtu, 68, 65535);
	if (mtu !== undefined) out.mtu = mtu;
	const metric = integer(net, "metric", o.metric, 0, 0xffffffff);
	if (metric !== undefined) out.metric = metric;
	if (o.mode !== undefined && o.mode !== "") {
		const mode = String(o.mode) as MacvlanMode;
		if (!MODES.includes(mode)) {
			throw new UsageError(
				`network ${net.name}: macvlan mode ${JSON.stringify(o.mode)} is not one of ${MODES.join(", ")}`,
			);
		}
		out.mode = mode;
	}
	return out;
}

/**
 * A valid Linux interface name (the kernel's dev_valid_name): 1 to 15 bytes, not "." or "..",
 * no "/", ":" or whitespace.
 */
export function checkIfname(name: string, what: string): string {
	if (
		name.length === 0 ||
		new TextEncoder().encode(name).byteLength > 15 ||
		name === "." ||
		name === ".." ||
		/[/:\s]/.test(name)
	) {
		throw new UsageError(
			`invalid ${what} ${JSON.stringify(name)}: an interface name has 1 to 15 characters, without "/", ":" or spaces`,
		);
	}
	return name;
}

interface ParsedSubnet {
	subnet: Subnet;
	prefixLen: number;
	gateway?: string;
}

function parseSubnets(net: NativeNetwork): ParsedSubnet[] {
	return net.subnets.map((s: NativeSubnet) => {
		let subnet: Subnet;
		try {
			subnet = parseSubnet(s.subnet);
		} catch {
			throw new UsageError(`network ${net.name}: invalid subnet ${JSON.stringify(s.subnet)}`);
		}
		let gateway = s.gateway || undefined;
		if (gateway !== undefined && !contains(subnet, gateway)) {
			throw new UsageError(`network ${net.name}: gateway ${gateway} is not in subnet ${s.subnet}`);
		}
		// A bridge network's gateway is the bridge itself: podman gives it the first address when
		// the definition names none. A macvlan gateway is a router outside: only an explicit one.
		if (gateway === undefined && net.driver === "bridge") gateway = nthAddress(subnet, 1);
		return { subnet, prefixLen: subnet.prefixLen, gateway };
	});
}

/** The bridge's own addresses: each subnet's gateway with the subnet's prefix. */
export function bridgeAddresses(net: NativeNetwork): string[] {
	if (ipamNone(net)) return [];
	return parseSubnets(net).flatMap((s) => (s.gateway ? [`${s.gateway}/${s.prefixLen}`] : []));
}

/** Whether any subnet is IPv6 (IPv6 forwarding and the IPv6 sysctls are then needed). */
export function hasIpv6(net: NativeNetwork): boolean {
	return net.ipv6_enabled || net.subnets.some((s) => s.subnet.includes(":"));
}

export interface PlannedAddress {
	/** CIDR as it goes on the interface, e.g. 10.89.0.5/24. */
	cidr: string;
	family: Family;
	gateway?: string;
}

export interface PlannedRoute {
	family: Family;
	gateway: string;
	metric?: number;
}

export interface InterfacePlan {
	addresses: PlannedAddress[];
	/** Default routes, at most one per family; none on an internal network. */
	routes: PlannedRoute[];
	ipv6: boolean;
	mtu?: number;
}

/**
 * IPAM "none" (or a network without subnets): the interface gets no address and no route, the
 * bridge no gateway address — the user (or a DHCP client in the container) configures it.
 */
export function ipamNone(net: NativeNetwork): boolean {
	const ipam = (net as { ipam_options?: { driver?: string } }).ipam_options;
	return ipam?.driver === "none" || net.subnets.length === 0;
}

/**
 * What the container's interface gets. Each address must lie in one of the network's subnets; a
 * bare address takes its subnet's prefix. The gateway address is not refused here: ctrnet's own
 * IPAM never hands it out, and podman's IPAM passes a static `--ip` equal to the gateway on to
 * netavark, which assigns it — the netavark front end must do the same.
 */
export function planInterface(
	net: NativeNetwork,
	addresses: readonly string[],
	mtu?: number,
): InterfacePlan {
	const subnets = parseSubnets(net);
	const opts = networkOptions(net);
	if (addresses.length === 0 && !ipamNone(net)) {
		throw new UsageError(`network ${net.name}: no address to assign`);
	}
	const planned = addresses.map((text): PlannedAddress => {
		let c: ReturnType<typeof parseCidr>;
		try {
			c = parseCidr(text);
		} catch {
			throw new UsageError(`network ${net.name}: invalid address ${JSON.stringify(text)}`);
		}
		const s = subnets.find((x) => contains(x.subnet, c.address));
		if (!s) {
			const list = net.subnets.map((x) => x.subnet).join(", ") || "none";
			throw new UsageError(
				`network ${net.name}: address ${c.address} is not in its subnets (${list})`,
			);
		}
		const prefixLen = text.includes("/") ? c.prefixLen : s.prefixLen;
		const out: PlannedAddress = { cidr: `${c.address}/${prefixLen}`, family: c.family };
		if (s.gateway) out.gateway = s.gateway;
		return out;
	});
	const routes: PlannedRoute[] = [];
	if (!net.internal) {
		for (const family of [4, 6] as const) {
			const gw = planned.find((a) => a.family === family && a.gateway)?.gateway;
			if (!gw) continue;
			routes.push(
				opts.metric === undefined
					? { family, gateway: gw }
					: { family, gateway: gw, metric: opts.metric },
			);
		}
	}
	const plan: InterfacePlan = {
		addresses: planned,
		routes,
		ipv6: planned.some((a) => a.family === 6),
	};
	const m = mtu ?? opts.mtu;
	if (m !== undefined) plan.mtu = m;
	return plan;
}

/**
 * The result in ctrnet's CNI model, shaped like the bridge plugin's: interfaces [bridge, host
 * veth, container interface (sandbox = netns path)], each IP pointing at the container
 * interface, and the default routes. For macvlan there is only the container interface.
 */
export function buildResult(
	plan: InterfacePlan,
	container: { name: string; mac: string; sandbox: string },
	host: { bridge: CniInterface; veth: CniInterface } | undefined,
): CniResult {
	const interfaces: CniInterface[] = host ? [host.bridge, host.veth] : [];
	const index = interfaces.length;
	interfaces.push(plan.mtu === undefined ? { ...container } : { ...container, mtu: plan.mtu });
	return {
		interfaces,
		ips: plan.addresses.map((a) =>
			a.gateway
				? { address: a.cidr, gateway: a.gateway, interface: index }
				: { address: a.cidr, interface: index },
		),
		routes: plan.routes.map((r) => ({
			dst: r.family === 4 ? "0.0.0.0/0" : "::/0",
			gw: r.gateway,
			...(r.metric === undefined ? {} : { priority: r.metric }),
		})),
		dns: {},
	};
}
