// The environment a hook entry carries. A runtime runs hooks with exactly the `env` of the entry
// (runc: an empty environment when it is missing), so ctrnet writes there:
// - PATH, with the sbin directories added: CNI plugins look for iptables and ip there;
// - every global option that was set for the `hook config`/`hook inject` call, by flag or by
//   environment variable, as its environment variable (CTRNET_ROOT, CNI_PATH, …), so the hook
//   uses the same state, CNI configs and netns dir as the call that wrote it; defaults stay
//   defaults, resolved when the hook runs;
// - `--env K=V` extras, last (they win).
import { GLOBAL_OPTIONS, type GlobalFlags, type GlobalKey } from "../config/options";
import { UsageError } from "../errors";

const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const ENV_ENTRY = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;
/** Output format means nothing to a hook. */
const CARRIED = (Object.keys(GLOBAL_OPTIONS) as GlobalKey[]).filter((k) => k !== "format");

export function hookPath(path: string | undefined): string {
	const dirs = new Set((path ?? "").split(":").filter(Boolean));
	for (const d of SYSTEM_PATH) dirs.add(d);
	return [...dirs].join(":");
}

/** Pure: the `env` list of a hook entry. */
export function hookEnv(
	flags: GlobalFlags,
	env: Record<string, string | undefined>,
	extra: string[],
): string[] {
	const out = new Map<string, string>([["PATH", hookPath(env.PATH)]]);
	for (const key of CARRIED) {
		const value = flags[key] ?? env[GLOBAL_OPTIONS[key].env];
		if (value) out.set(GLOBAL_OPTIONS[key].env, value);
	}
	for (const entry of extra) {
		const m = ENV_ENTRY.exec(entry);
		if (!m) throw new UsageError(`invalid --env ${JSON.stringify(entry)}: expected NAME=VALUE`);
		out.set(m[1] as string, m[2] as string);
	}
	return [...out].map(([k, v]) => `${k}=${v}`);
}
