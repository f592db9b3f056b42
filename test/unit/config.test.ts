import { describe, expect, test } from "bun:test";
import { extractGlobalFlags } from "../../src/config/options";
import { DEFAULT_PLUGIN_DIRS, resolveConfig } from "../../src/config/resolve";
import { UsageError } from "../../src/errors";

const rootId = { euid: 0, uid: 0, home: "/root" };
const userId = { euid: 1000, uid: 1000, home: "/home/u" };

describe("resolveConfig", () => {
	test("root defaults follow DESIGN 3", () => {
		const c = resolveConfig({}, {}, rootId);
		expect(c).toEqual({
			rootless: false,
			root: "/var/lib/ctrnet",
			runRoot: "/run/ctrnet",
			netnsDir: "/run/netns",
			cniConfigDir: "/etc/cni/net.d",
			cniPluginDirs: DEFAULT_PLUGIN_DIRS,
			cniCacheDir: "/var/lib/cni",
			networkConfigDir: "/etc/containers/networks",
			defaultNetwork: "ctrnet",
			defaultSubnet: "10.90.0.0/16",
			networkBackend: "cni",
			logLevel: "warn",
			format: "table",
		});
	});

	test("rootless defaults use XDG dirs, or home and /tmp fallbacks", () => {
		const bare = resolveConfig({}, {}, userId);
		expect(bare.rootless).toBe(true);
		expect(bare.root).toBe("/home/u/.local/share/ctrnet");
		expect(bare.runRoot).toBe("/tmp/ctrnet-1000/ctrnet");
		expect(bare.netnsDir).toBe("/tmp/ctrnet-1000/ctrnet/netns");
		expect(bare.cniConfigDir).toBe("/home/u/.config/cni/net.d");
		expect(bare.cniCacheDir).toBe("/home/u/.local/share/ctrnet/cni");

		const xdg = resolveConfig(
			{},
			{ XDG_DATA_HOME: "/d", XDG_RUNTIME_DIR: "/run/user/1000", XDG_CONFIG_HOME: "/c" },
			userId,
		);
		expect(xdg.root).toBe("/d/ctrnet");
		expect(xdg.runRoot).toBe("/run/user/1000/ctrnet");
		expect(xdg.netnsDir).toBe("/run/user/1000/ctrnet/netns");
		expect(xdg.cniConfigDir).toBe("/c/cni/net.d");
	});

	test("a flag beats its environment variable, which beats the default", () => {
		const env = { CTRNET_ROOT: "/from-env", CNI_PATH: "/a:/b", CTRNET_LOG_LEVEL: "info" };
		expect(resolveConfig({}, env, rootId).root).toBe("/from-env");
		expect(resolveConfig({ root: "/from-flag" }, env, rootId).root).toBe("/from-flag");
		expect(resolveConfig({}, env, rootId).cniPluginDirs).toEqual(["/a", "/b"]);
		expect(resolveConfig({ cniPluginDir: "/x" }, env, rootId).cniPluginDirs).toEqual(["/x"]);
		expect(resolveConfig({}, env, rootId).logLevel).toBe("info");
		expect(resolveConfig({ logLevel: "debug" }, env, rootId).logLevel).toBe("debug");
	});

	test("rootless cache dir follows --root", () => {
		expect(resolveConfig({ root: "/r" }, {}, userId).cniCacheDir).toBe("/r/cni");
	});

	test("bad values are a UsageError naming flag and variable", () => {
		expect(() => resolveConfig({ logLevel: "loud" }, {}, rootId)).toThrow(UsageError);
		expect(() => resolveConfig({ logLevel: "loud" }, {}, rootId)).toThrow(
			/--log-level \(CTRNET_LOG_LEVEL\) "loud"/,
		);
		expect(() => resolveConfig({ root: "relative" }, {}, rootId)).toThrow(/--root .*absolute/);
		expect(() => resolveConfig({}, { CNI_PATH: "/ok:rel" }, rootId)).toThrow(/--cni-plugin-dir/);
		expect(() => resolveConfig({ format: "yaml" }, {}, rootId)).toThrow(/--format/);
		expect(() => resolveConfig({ root: "/a/../b" }, {}, rootId)).toThrow(/'\.\.'/);
	});
});

describe("extractGlobalFlags", () => {
	test("takes global options from anywhere, in both spellings", () => {
		const r = extractGlobalFlags([
			"--root",
			"/r",
			"netns",
			"ls",
			"--format=json",
			"--log-level",
			"debug",
		]);
		expect(r.flags).toEqual({ root: "/r", format: "json", logLevel: "debug" });
		expect(r.rest).toEqual(["netns", "ls"]);
	});
	test("leaves everything after -- alone", () => {
		const r = extractGlobalFlags(["x", "--", "--root", "/r"]);
		expect(r.flags).toEqual({});
		expect(r.rest).toEqual(["x", "--", "--root", "/r"]);
	});
	test("a missing value is an error", () => {
		expect(() => extractGlobalFlags(["version", "--root"])).toThrow(
			"flag needs an argument: --root",
		);
		expect(() => extractGlobalFlags(["--root", "--format", "json"])).toThrow(/--root/);
	});
});
