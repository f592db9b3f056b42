// The effects of `ctrnet network …` for the native backend: podman 4's network files in the
// network config dir, the host's view for choosing a free subnet, and removal of a network with
// its bridge and its leases. Decisions are in create.ts and validate.ts.
import type { Database } from "bun:sqlite";
import type { Config } from "../config/schema";
import { ConflictError, NotFoundError } from "../errors";
import { formatSubnet } from "../ip/cidr";
import { forgetNetwork } from "../ipam/leases";
import { type CreateFlags, planNetworkCreate } from "./create";
import { defaultNetworkDef } from "./default";
import type { NetworkDef } from "./schema";
import { getNetworkDef, listNetworkDefs, removeNetworkDef, writeNetworkDef } from "./store";

export const DEFAULT_BRIDGE = "ctrnet0";

type Dirs = Pick<Config, "networkConfigDir">;

export function listNativeNetworks(cfg: Dirs) {
	return listNetworkDefs(cfg.networkConfigDir);
}

/** Plans and writes a network; returns its file's path. */
export async function createNativeNetwork(
	cfg: Pick<Config, "networkConfigDir" | "defaultNetwork" | "defaultSubnet">,
	flags: CreateFlags,
): Promise<string> {
	const { hostView } = await import("../network/host");
	const host = await hostView();
	const { networks } = listNativeNetworks(cfg);
	const haveDefault = networks.some((n) => n.name === cfg.defaultNetwork);
	const def = planNetworkCreate(
		flags,
		networks,
		host.networks.map((n) => formatSubnet(n.subnet)),
		{
			hostLinks: host.links,
			reservedSubnets: haveDefault ? [] : [cfg.defaultSubnet],
			reservedInterfaces: haveDefault ? [] : [DEFAULT_BRIDGE],
		},
	);
	return writeNetworkDef(cfg.networkConfigDir, def);
}

/**
 * The network called `name`; the default network's file is written on first use (two processes
 * at once: one file wins, both read it).
 */
export function nativeNetwork(
	cfg: Pick<Config, "networkConfigDir" | "defaultNetwork" | "defaultSubnet">,
	name: string,
): NetworkDef {
	try {
		return getNetworkDef(cfg.networkConfigDir, name);
	} catch (e) {
		if (!(e instanceof NotFoundError) || name !== cfg.defaultNetwork) throw e;
	}
	try {
		writeNetworkDef(
			cfg.networkConfigDir,
			defaultNetworkDef(cfg.defaultNetwork, DEFAULT_BRIDGE, cfg.defaultSubnet),
		);
	} catch (e) {
		if (!(e instanceof ConflictError)) throw e;
	}
	return getNetworkDef(cfg.networkConfigDir, name);
}

export interface NativeRemoveOptions {
	force: boolean;
	/** The per-network lock dir (the one attachments use). */
	lockDir: string;
	/** Containers in ctrnet's state on the network. */
	users: () => string[];
	/** With --force: takes them off the network first (through the lifecycle). */
	detach: (network: string, ids: string[]) => Promise<void>;
	/** Removes what is left on the host: the bridge and the network's firewall elements. */
	removeHostSide: (def: NetworkDef) => Promise<void>;
	db: Database;
}

const ATTEMPTS = 5;

/**
 * Removes a network: refused while containers use it unless `force`, which disconnects them
 * first (without the lock: their detach takes it). Then, under the network's exclusive lock, no
 * setup can be half-way onto it: if one got on meanwhile, again. The file goes last, so a removal
 * killed half-way can be run again (its bridge and leases went first).
 */
export async function removeNativeNetwork(
	cfg: Dirs,
	name: string,
	opts: NativeRemoveOptions,
): Promise<void> {
	const def = getNetworkDef(cfg.networkConfigDir, name);
	const { lockNetwork } = await import("../native/lock");
	for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
		const users = opts.users();
		if (users.length > 0 && !opts.force) {
			throw new ConflictError(
				`network ${def.name} is in use by container(s) ${users.join(", ")}; use --force to take them off it`,
			);
		}
		if (users.length > 0) await opts.detach(def.name, users);
		using _lock = lockNetwork(opts.lockDir, def.name, "exclusive");
		if (opts.users().length > 0) continue;
		await opts.removeHostSide(def);
		forgetNetwork(opts.db, def.name);
		removeNetworkDef(cfg.networkConfigDir, def.name);
		return;
	}
	throw new ConflictError(`network ${def.name} keeps getting new containers; try again`);
}
