// Container DNS for the netavark front end: netavark's layout under --config (aardvark files in
// <config>/aardvark-dns/, <config>/aardvark.lock), one aardvark-dns per config dir, bound to the
// gateways in the namespace netavark runs in (the host's, or rootless podman's rootless netns).
// All of a setup's (or teardown's) networks change in one locked update: one SIGHUP.
import type { DnsChangeInput } from "../dns/change";
import type { Context } from "./context";
import type { NetworkPlan } from "./plan";
import type { NetworkOptions } from "./schema";

/** A setup's DNS entries: one per bridge network with DNS on (netavark 1.4 does none for macvlan). */
export function addChanges(opts: NetworkOptions, plans: readonly NetworkPlan[]): DnsChangeInput[] {
	return plans
		.filter((p) => p.dns)
		.map((p) => {
			const ips = p.addresses.map((a) => a.ipnet.slice(0, a.ipnet.indexOf("/")));
			const servers = (p.net as { network_dns_servers?: unknown }).network_dns_servers;
			return {
				action: "add",
				network: {
					name: p.name,
					gateways: p.addresses.map((a) => a.gateway).filter((g): g is string => g !== null),
					...(Array.isArray(servers) ? { dnsServers: servers.map(String) } : {}),
				},
				containerId: opts.container_id,
				containerName: opts.container_name,
				aliases: p.options.aliases,
				ipv4: ips.filter((ip) => !ip.includes(":")),
				ipv6: ips.filter((ip) => ip.includes(":")),
				dnsServers: opts.dns_servers,
			};
		});
}

/** A teardown's removals: the container from every network with DNS on that it names. */
export function removeChanges(opts: NetworkOptions): DnsChangeInput[] {
	return Object.values(opts.network_info)
		.filter((n) => n.driver === "bridge" && n.dns_enabled)
		.map((n) => ({ action: "remove", network: { name: n.name }, containerId: opts.container_id }));
}

/**
 * The aardvark-dns to run, or undefined for none (netavark then runs without container DNS): an
 * explicit --aardvark-binary must exist; else CTRNET_AARDVARK_BINARY, Debian's path or PATH.
 */
async function aardvarkBinary(ctx: Context): Promise<string | undefined> {
	const { findAardvarkBinary } = await import("../helpers/aardvark");
	return findAardvarkBinary(ctx.global.aardvarkBinary, ctx.env);
}

/** Applies the changes; nothing when there are none, or when there is no aardvark-dns to run. */
export async function applyDns(
	ctx: Context,
	changes: DnsChangeInput[],
	port: number,
): Promise<void> {
	if (changes.length === 0) return;
	const binary = await aardvarkBinary(ctx);
	if (!binary) {
		ctx.log.info("dns disabled because aardvark-dns path does not exists");
		return;
	}
	const t0 = performance.now();
	const { updateDns } = await import("../dns/manager");
	const t1 = performance.now();
	const outcome = await updateDns(ctx.global.config, changes, {
		binary,
		port,
		env: ctx.env,
		rootless: ctx.global.rootless,
		trustConfigDir: true,
	});
	ctx.log.debug(
		`aardvark-dns: ${outcome.aardvark} (pid ${outcome.pid ?? "none"}); loading ${(t1 - t0).toFixed(1)} ms, update ${(performance.now() - t1).toFixed(1)} ms`,
	);
}
