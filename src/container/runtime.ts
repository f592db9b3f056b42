// What every container operation works with: the config, the state store and the CNI runtime.
import { Cni } from "../cni";
import type { Config } from "../config/schema";
import { ensureOwnedDir } from "../files/dirs";
import { Store } from "../state/store";

export interface Runtime {
	config: Config;
	store: Store;
	cni: Cni;
}

export function openRuntime(config: Config): Runtime {
	// Before any file is written there: a dir someone else controls is refused (files/dirs.ts).
	const euid = process.geteuid?.() ?? 0;
	ensureOwnedDir(config.root, 0o700, euid);
	ensureOwnedDir(config.runRoot, 0o700, euid);
	return {
		config,
		store: Store.open(config.root),
		cni: new Cni({ pluginDirs: config.cniPluginDirs, cacheDir: config.cniCacheDir }),
	};
}
