// What every container operation works with: the config, the state store and the CNI runtime.
import { Cni } from "../cni";
import type { Config } from "../config/schema";
import { Store } from "../state/store";

export interface Runtime {
	config: Config;
	store: Store;
	cni: Cni;
}

export function openRuntime(config: Config): Runtime {
	return {
		config,
		store: Store.open(config.root),
		cni: new Cni({ pluginDirs: config.cniPluginDirs, cacheDir: config.cniCacheDir }),
	};
}
