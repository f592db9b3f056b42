// `netavark setup NETNS`: every network of podman's options attached to the container's netns
// through the native backend (src/native/attachment.ts) with the addresses podman chose, then
// container DNS for all of them at once. All or nothing: a failure undoes what was done.
import { ERRNO } from "../../ffi/errno";
import { strerror } from "../../ffi/libc";
import { ConflictError } from "../errors";
import { forwards, refusal } from "../firewall/iptables/layout";
import type { FirewallDriver, NativeAttachRequest } from "../native/attachment";
import { containerAddressOwner, hasInterface } from "./container";
import {
	type Context,
	checkNetns,
	dnsPort,
	firewallDriver,
	loadOptions,
	lockDirOf,
} from "./context";
import { addChanges, applyDns, removeChanges } from "./dns";
import { describeError, NetavarkError } from "./errors";
import { type NetworkPlan, planNetworks } from "./plan";
import { formatSetupOutput, type StatusBlock, statusBlock } from "./result";

interface Attached {
	plan: NetworkPlan;
	hostVeth?: string;
	mac: string;
}

export function attachRequest(
	plan: NetworkPlan,
	netnsPath: string,
	lockDir: string,
	port: number,
	firewall: FirewallDriver,
	containerId: string,
): NativeAttachRequest {
	return {
		firewall,
		containerId,
		net: plan.net,
		netnsPath,
		ifname: plan.ifname,
		addresses: plan.addresses.map((a) => a.ipnet),
		...(plan.mac ? { mac: plan.mac } : {}),
		ports: plan.ports,
		lockDir,
		...(plan.dns ? { dnsPort: port } : {}),
	};
}

/** Runs the setup; returns what goes on stdout. */
export async function setup(ctx: Context, netnsPath: string): Promise<string> {
	ctx.log.debug(`setup loaded at ${performance.now().toFixed(1)} ms`);
	checkNetns(netnsPath);
	const opts = loadOptions(ctx);
	const firewall = firewallDriver(ctx);
	const port = dnsPort(ctx);
	if (firewall === "iptables") {
		// Refused before anything is touched (the layout would refuse it half-way through).
		for (const m of opts.port_mappings) {
			for (const proto of m.protocols) {
				if (!forwards(proto)) throw new NetavarkError(refusal(proto, m.host_port));
			}
		}
	}
	const plans = planNetworks(opts, true, firewall === "iptables");
	for (const p of opts.port_mappings.filter((m) => m.host_ip === "::1")) {
		// netavark 1.4 writes an ip6tables DNAT rule for it that can never work (IPv6 has no
		// route_localnet: the container's answer to ::1 is dropped); say so instead.
		ctx.log.warn(
			`port ${p.host_port}/${p.protocols.join(",")} on [::1] is not forwarded: the kernel cannot DNAT connections to ::1 into a container`,
		);
	}
	const lockDir = lockDirOf(ctx.global.config);
	ctx.log.debug(`options read at ${performance.now().toFixed(1)} ms`);
	const { attachNative, detachNative } = await import("../native/attachment");
	const ownsAddress = containerAddressOwner(netnsPath);
	const done: Attached[] = [];
	let dnsTried = false;
	try {
		for (const plan of plans) {
			ctx.log.debug(`setting up network ${plan.name} (${plan.net.driver}) as ${plan.ifname}`);
			let a: Awaited<ReturnType<typeof attachNative>>;
			try {
				a = await attachNative({
					...attachRequest(plan, netnsPath, lockDir, port, firewall, opts.container_id),
					ownsAddress,
					label: opts.container_name || opts.container_id.slice(0, 12),
				});
			} catch (e) {
				// The name was taken before we came (ours is gone again): say it as netavark does.
				if (e instanceof ConflictError && hasInterface(netnsPath, plan.ifname)) {
					const what =
						plan.net.driver === "bridge" ? "create veth pair" : "create macvlan interface";
					throw new NetavarkError(
						`${what}: interface ${plan.ifname} already exists on container namespace: Netlink error: ${strerror(ERRNO.EEXIST)} (os error ${ERRNO.EEXIST})`,
					);
				}
				throw e;
			}
			done.push({ plan, hostVeth: a.hostVeth, mac: a.mac });
		}
		ctx.log.debug(`networks attached at ${performance.now().toFixed(1)} ms`);
		const changes = addChanges(opts, plans);
		dnsTried = changes.length > 0;
		try {
			await applyDns(ctx, changes, port);
		} catch (e) {
			throw new NetavarkError(
				`IO error: Error while applying dns entries: ${describeError(e, strerror)}`,
			);
		}
	} catch (e) {
		if (dnsTried) {
			await applyDns(ctx, removeChanges(opts), port).catch((err) =>
				ctx.log.error(
					`failed to remove the dns entries after setup failed: ${describeError(err, strerror)}`,
				),
			);
		}
		for (const d of done.reverse()) {
			try {
				await detachNative({
					...attachRequest(d.plan, netnsPath, lockDir, port, firewall, opts.container_id),
					hostVeth: d.hostVeth,
				});
			} catch (err) {
				ctx.log.error(
					`failed to cleanup previous networks after setup failed: ${describeError(err, strerror)}`,
				);
			}
		}
		throw e;
	}
	ctx.log.debug(`done at ${performance.now().toFixed(1)} ms`);
	const blocks: Record<string, StatusBlock> = {};
	for (const d of done) {
		blocks[d.plan.name] = statusBlock(d.plan.net, d.plan.ifname, d.mac, d.plan.addresses, {
			dns: d.plan.dns,
			containerDnsServers: opts.dns_servers,
		});
	}
	return formatSetupOutput(blocks);
}
