// Flags > environment > defaults (root or rootless), validated once. Pure: the caller passes in the
// environment and identity, so every default can be unit-tested.
import { UsageError } from "../errors";
import { GLOBAL_OPTIONS, type GlobalFlags, type GlobalKey } from "./options";
import { type Config, ConfigSchema } from "./schema";

export const DEFAULT_PLUGIN_DIRS = [
	"/usr/libexec/cni",
	"/usr/lib/cni",
	"/usr/local/lib/cni",
	"/opt/cni/bin",
];

export interface Identity {
	euid: number;
	uid: number;
	home: string;
}

type Env = Record<string, string | undefined>;

/** The value of one option: its flag, else its environment variable, else undefined. */
function given(key: GlobalKey, flags: GlobalFlags, env: Env): string | undefined {
	const v = flags[key] ?? env[GLOBAL_OPTIONS[key].env];
	return v === "" ? undefined : v;
}

export function resolveConfig(flags: GlobalFlags, env: Env, id: Identity): Config {
	const rootless = id.euid !== 0;
	const get = (key: GlobalKey) => given(key, flags, env);
	const xdg = (name: string, fallback: string) => env[name] || fallback;

	const root =
		get("root") ??
		(rootless ? `${xdg("XDG_DATA_HOME", `${id.home}/.local/share`)}/ctrnet` : "/var/lib/ctrnet");
	const runRoot =
		get("runRoot") ??
		(rootless ? `${xdg("XDG_RUNTIME_DIR", `/tmp/ctrnet-${id.uid}`)}/ctrnet` : "/run/ctrnet");
	const raw = {
		rootless,
		root,
		runRoot,
		netnsDir: get("netnsDir") ?? (rootless ? `${runRoot}/netns` : "/run/netns"),
		cniConfigDir:
			get("cniConfigDir") ??
			(rootless ? `${xdg("XDG_CONFIG_HOME", `${id.home}/.config`)}/cni/net.d` : "/etc/cni/net.d"),
		cniPluginDirs: get("cniPluginDir")?.split(":").filter(Boolean) ?? DEFAULT_PLUGIN_DIRS,
		cniCacheDir: get("cniCacheDir") ?? (rootless ? `${root}/cni` : "/var/lib/cni"),
		networkConfigDir:
			get("networkConfigDir") ??
			(rootless
				? `${xdg("XDG_DATA_HOME", `${id.home}/.local/share`)}/containers/storage/networks`
				: "/etc/containers/networks"),
		defaultNetwork: get("defaultNetwork") ?? "ctrnet",
		defaultSubnet: get("defaultSubnet") ?? "10.90.0.0/16",
		networkBackend: get("networkBackend") ?? "cni",
		logLevel: get("logLevel") ?? "warn",
		format: get("format") ?? "table",
	};
	const parsed = ConfigSchema.safeParse(raw);
	if (!parsed.success) {
		const issue = parsed.error.issues[0];
		const key = String(issue?.path[0] ?? "");
		const opt =
			key === "cniPluginDirs" ? GLOBAL_OPTIONS.cniPluginDir : GLOBAL_OPTIONS[key as GlobalKey];
		const value =
			key === "cniPluginDirs" ? raw.cniPluginDirs.join(":") : raw[key as keyof typeof raw];
		throw new UsageError(
			`invalid ${opt ? `${opt.flag} (${opt.env})` : key} ${JSON.stringify(value)}: ${issue?.message}${opt ? ` (${opt.help})` : ""}`,
		);
	}
	return parsed.data;
}
