import { listPlugins, pluginVersions } from "../cni/plugins";
import { detectIptables, kernelRelease, legacyFilterLoaded } from "../host/facts";
import { writeOut } from "../io";
import { detectPasta } from "../pasta/detect";
import { detectSlirp } from "../slirp/features";
import { VERSION } from "../version";
import { command } from "./command";
import { getConfig, outputFormat } from "./context";

export default command({
	meta: { name: "info", description: "Show paths, CNI plugins, slirp4netns, pasta and host facts" },
	async run() {
		const cfg = await getConfig();
		const [plugins, slirp4netns, pasta, iptables] = await Promise.all([
			Promise.all(listPlugins(cfg.cniPluginDirs).map((p) => pluginVersions(p.path))),
			detectSlirp(),
			detectPasta(),
			detectIptables(),
		]);
		const info = {
			version: VERSION,
			rootless: cfg.rootless,
			networkBackend: cfg.networkBackend,
			paths: {
				root: cfg.root,
				runRoot: cfg.runRoot,
				netnsDir: cfg.netnsDir,
				cniConfigDir: cfg.cniConfigDir,
				cniCacheDir: cfg.cniCacheDir,
				cniPluginDirs: cfg.cniPluginDirs,
				networkConfigDir: cfg.networkConfigDir,
			},
			cni: { plugins },
			slirp4netns,
			pasta,
			rootlessNetwork: cfg.rootlessNetwork,
			rootlessNetns: cfg.rootless
				? (await import("../rootless/netns")).rootlessNetnsInfo(cfg)
				: null,
			kernel: kernelRelease(),
			iptables: iptables && { ...iptables, legacyFilterLoaded: legacyFilterLoaded() },
		};
		if ((await outputFormat()) === "json") {
			writeOut(`${JSON.stringify(info, null, 2)}\n`);
			return;
		}
		const lines = [
			`version:        ${info.version}`,
			`rootless:       ${info.rootless}`,
			`network backend: ${info.networkBackend}`,
			`kernel:         ${info.kernel}`,
			`iptables:       ${iptables ? `${iptables.version} (${iptables.backend}) ${iptables.path}` : "not found"}`,
			...(info.iptables?.legacyFilterLoaded
				? [
						"  legacy filter table loaded: its FORWARD chain is outside nftables (a DROP policy there drops forwarded container traffic)",
					]
				: []),
			`slirp4netns:    ${slirp4netns ? `${slirp4netns.version} ${slirp4netns.path}` : "not found"}`,
			...(slirp4netns ? [`  features:     ${slirp4netns.features.join(" ")}`] : []),
			`pasta:          ${pasta ? `${pasta.version} ${pasta.path}` : "not found"}`,
			...(pasta?.package ? [`  package:      ${pasta.package}`] : []),
			`rootless network: ${info.rootlessNetwork}`,
			...(info.rootlessNetns
				? [
						`rootless netns: ${info.rootlessNetns.netns} (cidr ${info.rootlessNetns.cidr})`,
						`  holder:       pid ${info.rootlessNetns.holder.pid}${info.rootlessNetns.holder.running ? "" : " (dead)"}`,
						`  slirp4netns:  ${info.rootlessNetns.slirp4netns ? `pid ${info.rootlessNetns.slirp4netns.pid}${info.rootlessNetns.slirp4netns.running ? "" : " (dead)"}` : "not started"}`,
					]
				: []),
			"paths:",
			...Object.entries(info.paths).map(
				([k, v]) => `  ${`${k}:`.padEnd(14)}${Array.isArray(v) ? v.join(":") : v}`,
			),
			`cni plugins (${plugins.length}):`,
			...plugins.map(
				(p) => `  ${p.name.padEnd(12)}${p.versions.join(",") || p.error || ""}  ${p.path}`,
			),
		];
		writeOut(`${lines.join("\n")}\n`);
	},
});
