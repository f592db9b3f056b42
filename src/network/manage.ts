// The effects of `ctrnet network …`: read the config dir, ask the host, write or remove files.
// Decisions are in plan.ts; this file only gathers their inputs and carries them out.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import {
	attachmentConf,
	findPlugin,
	type LoadedNetworks,
	loadNetworks,
	type NetworkConfigList,
} from "../cni";
import type { Config } from "../config/schema";
import { ConflictError, MultiError, NotFoundError } from "../errors";
import { fileNameFor } from "../files/atomic";
import { withFileLock } from "../files/lock";
import { ipFamily } from "../ip/address";
import { parseSubnet } from "../ip/cidr";
import { conflistBridge, conflistText } from "./conflist";
import { hostView } from "./host";
import { type CreateRequest, type PlanContext, planNetwork } from "./plan";
import { removeConflistFile, withConfigLock, writeConflistFile } from "./store";

export const DEFAULT_BRIDGE = "ctrnet0";

export function listNetworks(config: Config): LoadedNetworks {
	return loadNetworks(config.cniConfigDir, config.cniPluginDirs);
}

/** Creates the network and returns the path of its conflist. */
export function createNetwork(config: Config, req: CreateRequest): Promise<string> {
	return withConfigLock(config.cniConfigDir, () => createLocked(config, req));
}

async function createLocked(config: Config, req: CreateRequest): Promise<string> {
	const { networks } = listNetworks(config);
	const ctx: PlanContext = {
		existing: [...networks.values()].map((n) => ({ name: n.name, plugins: n.plugins })),
		host: await hostView(),
		reserved: networks.has(config.defaultNetwork) ? [] : [parseSubnet(config.defaultSubnet)],
		reservedBridges: networks.has(config.defaultNetwork) ? [] : [DEFAULT_BRIDGE],
		haveDnsname: !!findPlugin("dnsname", config.cniPluginDirs),
	};
	const plan = planNetwork(req, ctx);
	return writeConflistFile(config.cniConfigDir, plan.name, conflistText(plan.conflist));
}

export interface RemoveOptions {
	force: boolean;
	/** Containers in ctrnet's state attached to the network (read under the network's lock). */
	users?: () => string[];
	/** With --force: takes those containers off the network first, keeping the state right. */
	detach?: (network: string, containerIds: string[]) => Promise<void>;
}

/** The lock of one network: attaching holds it shared, removing the network exclusive. */
export function networkLockPath(config: Pick<Config, "cniConfigDir">, name: string): string {
	return `${config.cniConfigDir}/${fileNameFor(`.ctrnet-${name}.lock`)}`;
}

/**
 * Removes the conflist and, as root, the bridge device when it exists. A network still in use is
 * refused unless `force`: in use by containers in ctrnet's state (`users`, read under the lock),
 * or by attachments in the CNI result cache (whoever made them: ctrnet, cnitool, podman). With
 * `force` the state's containers are detached (`detach`), then every cached attachment gets a CNI
 * DEL. Holds the network's lock, so no setup attaches to it meanwhile; the conflist goes last, so
 * a removal killed half-way can be run again.
 */
export async function removeNetwork(
	config: Config,
	name: string,
	opts: RemoveOptions,
): Promise<void> {
	if (!listNetworks(config).networks.get(name)?.file)
		throw new NotFoundError(`no such network ${name}`);
	// The lock file stays: removing it while another process waits on it would hand out two locks.
	await withFileLock(networkLockPath(config, name), "exclusive", () =>
		removeLocked(config, name, opts),
	);
}

async function removeLocked(config: Config, name: string, opts: RemoveOptions): Promise<void> {
	const list = listNetworks(config).networks.get(name);
	if (!list?.file) throw new NotFoundError(`no such network ${name}`);
	const { Cni } = await import("../cni");
	const cni = new Cni({ pluginDirs: config.cniPluginDirs, cacheDir: config.cniCacheDir });
	const cached = () => cni.cachedAttachments().filter((a) => a.network === name);
	const users = opts.users?.() ?? [];
	const attached = cached();
	if ((users.length > 0 || attached.length > 0) && !opts.force) {
		const ids = [...new Set([...users, ...attached.map((a) => a.containerId)])];
		throw new ConflictError(
			`network ${name} is in use by container(s) ${ids.join(", ")}; use --force to take them off it`,
		);
	}
	if (users.length > 0) await opts.detach?.(name, users);
	const errors: Error[] = [];
	for (const a of cached()) {
		try {
			await cni.delNetworkList(list, attachmentConf(a));
		} catch (e) {
			errors.push(e as Error);
		}
	}
	if (errors.length > 0) {
		throw errors.length === 1 ? errors[0] : new MultiError(errors);
	}
	const bridge = conflistBridge(list.plugins);
	// Another network may share the device (several conflists on cni0): then it stays.
	const shared = [...listNetworks(config).networks.values()].some(
		(n) => n.name !== name && conflistBridge(n.plugins) === bridge,
	);
	if (bridge && !shared && !config.rootless) {
		const { deleteHostLink } = await import("./host");
		await deleteHostLink(bridge);
	}
	removeIpamDir(list.plugins, name);
	removeConflistFile(list.file as string);
}

/**
 * host-local keeps `<dataDir>/<network>/` (its lock and last_reserved_ip) after the last lease
 * is released. Once the network is gone that dir is only a trap: a new network of the same name
 * would start from the old cursor. Removed when it holds no lease (a file named after an address).
 */
function removeIpamDir(plugins: NetworkConfigList["plugins"], name: string): void {
	const ipam = plugins.find(
		(p) => (p as { ipam?: { type?: string } }).ipam?.type === "host-local",
	) as { ipam: { dataDir?: string } } | undefined;
	if (!ipam) return;
	const dir = `${ipam.ipam.dataDir ?? "/var/lib/cni/networks"}/${name}`;
	try {
		const leases = readdirSync(dir).filter((f) => ipFamily(f) !== undefined);
		if (leases.length === 0) rmSync(dir, { recursive: true, force: true });
	} catch {
		// no such dir: nothing to do
	}
}

/** The conflists as written (a .conf file shows as the list it is promoted to). */
export function inspectNetwork(list: NetworkConfigList): unknown {
	if (list.file?.endsWith(".conflist")) {
		try {
			return JSON.parse(readFileSync(list.file, "utf8"));
		} catch {
			// Fall through to the bytes read at load time.
		}
	}
	return JSON.parse(list.bytes);
}

/**
 * The default network (config.defaultNetwork, bridge ctrnet0, config.defaultSubnet), written on
 * first use; returns its list. Concurrent first uses are safe: one file wins, the others read it.
 */
export async function ensureDefaultNetwork(config: Config): Promise<NetworkConfigList> {
	const { findNetwork } = await import("../cni");
	try {
		return findNetwork(config.cniConfigDir, config.defaultNetwork);
	} catch (e) {
		if (!(e instanceof NotFoundError)) throw e;
	}
	const { bridgeConflist } = await import("./conflist");
	const { formatSubnet, nthAddress } = await import("../ip/cidr");
	const s = parseSubnet(config.defaultSubnet);
	const conflist = bridgeConflist({
		name: config.defaultNetwork,
		bridge: DEFAULT_BRIDGE,
		ranges: [{ subnet: formatSubnet(s), gateway: nthAddress(s, 1) }],
		gateway: true,
		dnsname: !!findPlugin("dnsname", config.cniPluginDirs),
	});
	try {
		writeConflistFile(config.cniConfigDir, config.defaultNetwork, conflistText(conflist));
	} catch (e) {
		if (!(e instanceof ConflictError)) throw e;
	}
	return findNetwork(config.cniConfigDir, config.defaultNetwork);
}
