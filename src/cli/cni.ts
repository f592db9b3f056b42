// `ctrnet cni add|check|del|status|gc NETWORK NETNS`: a drop-in for cnitool, with its environment
// (NETCONFPATH, CNI_PATH, CNI_ARGS, CAP_ARGS, CNI_IFNAME) and its container ID
// (cnitool-<sha512(netns path)>), plus --id and --ifname. `add` prints the result in the config's version.
import { resolve } from "node:path";
import type { Cni, NetworkConfigList, RuntimeConf } from "../cni";
import type { Config } from "../config/schema";
import { UsageError } from "../errors";
import { decodeJson } from "../json";
import { command } from "./command";
import { getConfig, globalFlags } from "./context";
import { printJson } from "./output";

const attachmentArgs = {
	network: { type: "positional", required: true, description: "network name" },
	netns: { type: "positional", required: true, description: "network namespace path" },
	id: { type: "string", description: "container ID (default: cnitool's, from the netns path)" },
	ifname: {
		type: "string",
		alias: "i",
		description: "interface name in the netns (default: $CNI_IFNAME or eth0)",
	},
} as const;

const listArgs = {
	network: { type: "positional", required: true, description: "network name" },
	netns: { type: "positional", required: false, description: "network namespace path (unused)" },
} as const;

/** NETCONFPATH is cnitool's config dir; an explicit --cni-config-dir still wins over it. */
function configDir(cfg: Config): string {
	const explicit = globalFlags().cniConfigDir;
	if (explicit) return cfg.cniConfigDir;
	return process.env.NETCONFPATH || cfg.cniConfigDir;
}

async function loadList(cfg: Config, name: string): Promise<NetworkConfigList> {
	const dir = configDir(cfg);
	const { findNetwork } = await import("../cni");
	if (name === cfg.defaultNetwork && dir === cfg.cniConfigDir) {
		const { ensureDefaultNetwork } = await import("../network");
		await ensureDefaultNetwork(cfg);
	}
	return findNetwork(dir, name);
}

async function runtimeConf(args: {
	netns: string;
	id?: string;
	ifname?: string;
}): Promise<RuntimeConf> {
	const { cnitoolContainerId, parseCniArgs } = await import("../cni");
	const { CapabilityArgsSchema } = await import("../cni/schema");
	const netns = resolve(args.netns);
	let cniArgs: [string, string][] = [];
	try {
		cniArgs = parseCniArgs(process.env.CNI_ARGS ?? "");
	} catch (e) {
		throw new UsageError((e as Error).message);
	}
	let capabilityArgs: Record<string, unknown> | undefined;
	const capText = process.env.CAP_ARGS;
	if (capText) {
		capabilityArgs = decodeJson(CapabilityArgsSchema(), capText, "CAP_ARGS");
	}
	return {
		containerId: args.id || cnitoolContainerId(netns),
		netns,
		ifName: args.ifname || process.env.CNI_IFNAME || "eth0",
		args: cniArgs,
		capabilityArgs,
	};
}

async function cniFor(cfg: Config): Promise<Cni> {
	const { Cni } = await import("../cni");
	return new Cni({ pluginDirs: cfg.cniPluginDirs, cacheDir: cfg.cniCacheDir });
}

const add = command({
	meta: { name: "add", description: "Add the container in NETNS to NETWORK; prints the result" },
	args: attachmentArgs,
	async run({ args }) {
		const cfg = await getConfig();
		const list = await loadList(cfg, args.network);
		const rt = await runtimeConf(args);
		const result = await (await cniFor(cfg)).addNetworkList(list, rt);
		const { resultToVersion } = await import("../cni");
		printJson(resultToVersion(result, list.cniVersion));
	},
});

const check = command({
	meta: { name: "check", description: "Check the container's attachment to NETWORK" },
	args: attachmentArgs,
	async run({ args }) {
		const cfg = await getConfig();
		const list = await loadList(cfg, args.network);
		await (await cniFor(cfg)).checkNetworkList(list, await runtimeConf(args));
	},
});

const del = command({
	meta: {
		name: "del",
		description: "Remove the container from NETWORK (uses the cached config when the file is gone)",
	},
	args: attachmentArgs,
	async run({ args }) {
		const cfg = await getConfig();
		const { findNetwork } = await import("../cni");
		const { NotFoundError } = await import("../errors");
		let list: NetworkConfigList | undefined;
		try {
			list = findNetwork(configDir(cfg), args.network);
		} catch (e) {
			if (!(e instanceof NotFoundError)) throw e;
		}
		await (await cniFor(cfg)).delNetworkList(list, await runtimeConf(args), args.network);
	},
});

const status = command({
	meta: { name: "status", description: "Ask NETWORK's plugins whether they are ready (CNI 1.1)" },
	args: listArgs,
	async run({ args }) {
		const cfg = await getConfig();
		await (await cniFor(cfg)).statusNetworkList(await loadList(cfg, args.network));
	},
});

const gc = command({
	meta: {
		name: "gc",
		description: "Delete every cached attachment of NETWORK, then GC its plugins (CNI 1.1)",
	},
	args: listArgs,
	async run({ args }) {
		const cfg = await getConfig();
		await (await cniFor(cfg)).gcNetworkList(await loadList(cfg, args.network));
	},
});

export default command({
	meta: { name: "cni", description: "Run CNI networks directly (a drop-in for cnitool)" },
	subCommands: { add, check, del, status, gc },
});
