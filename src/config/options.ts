// The global options of DESIGN 3: each has a flag and an environment variable. Accepted anywhere on
// the command line. This file only describes them; resolve.ts turns them into a Config.

export const GLOBAL_OPTIONS = {
	root: { flag: "--root", env: "CTRNET_ROOT", help: "state directory (sqlite)" },
	runRoot: {
		flag: "--run-root",
		env: "CTRNET_RUN_ROOT",
		help: "runtime files: sockets, pids, logs",
	},
	netnsDir: { flag: "--netns-dir", env: "CTRNET_NETNS_DIR", help: "directory of named netns" },
	cniConfigDir: { flag: "--cni-config-dir", env: "CTRNET_CNI_CONFIG_DIR", help: "CNI configs" },
	cniPluginDir: {
		flag: "--cni-plugin-dir",
		env: "CNI_PATH",
		help: "CNI plugin dirs, ':'-separated",
	},
	cniCacheDir: { flag: "--cni-cache-dir", env: "CTRNET_CNI_CACHE_DIR", help: "CNI result cache" },
	networkConfigDir: {
		flag: "--network-config-dir",
		env: "CTRNET_NETWORK_CONFIG_DIR",
		help: "native networks (podman 4's network JSON files)",
	},
	defaultNetwork: {
		flag: "--default-network",
		env: "CTRNET_DEFAULT_NETWORK",
		help: "default network",
	},
	defaultSubnet: { flag: "--default-subnet", env: "CTRNET_DEFAULT_SUBNET", help: "its subnet" },
	networkBackend: {
		flag: "--network-backend",
		env: "CTRNET_NETWORK_BACKEND",
		help: "cni|native: how new attachments are made",
	},
	logLevel: { flag: "--log-level", env: "CTRNET_LOG_LEVEL", help: "debug|info|warn|error" },
	format: { flag: "--format", env: "CTRNET_FORMAT", help: "table|json for listings" },
} as const;

export const OUTPUT_FORMATS = ["table", "json"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export type GlobalKey = keyof typeof GLOBAL_OPTIONS;
export type GlobalFlags = Partial<Record<GlobalKey, string>>;

const BY_FLAG = new Map<string, GlobalKey>(
	Object.entries(GLOBAL_OPTIONS).map(([key, o]) => [o.flag, key as GlobalKey] as const),
);

/**
 * Takes the global options out of argv wherever they stand (`--root X` or `--root=X`) and returns
 * them with the remaining arguments. Stops at `--`. Pure; throws a message for a missing value.
 */
export function extractGlobalFlags(argv: readonly string[]): {
	flags: GlobalFlags;
	rest: string[];
} {
	const flags: GlobalFlags = {};
	const rest: string[] = [];
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i] as string;
		if (arg === "--") {
			rest.push(...argv.slice(i));
			break;
		}
		const eq = arg.indexOf("=");
		const name = eq > 0 ? arg.slice(0, eq) : arg;
		const key = BY_FLAG.get(name);
		if (!key) {
			rest.push(arg);
			continue;
		}
		let value: string | undefined;
		if (eq > 0) value = arg.slice(eq + 1);
		else {
			value = argv[i + 1];
			if (value === undefined || value.startsWith("--")) {
				throw new Error(`flag needs an argument: ${name}`);
			}
			i++;
		}
		flags[key] = value;
	}
	return { flags, rest };
}
