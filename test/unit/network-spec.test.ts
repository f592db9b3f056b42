import { expect, test } from "bun:test";
import { parseNetworkSpecs } from "../../src/container/network-spec";

const p = (v: string[], rootless = false) =>
	parseNetworkSpecs(v, "ctrnet", rootless, "slirp4netns");

test("defaults: the default network as root, slirp4netns rootless", () => {
	expect(p([])).toEqual({ mode: "bridge", networks: ["ctrnet"] });
	expect(p([], true)).toEqual({ mode: "slirp4netns", options: [] });
	expect(p(["private"])).toEqual({ mode: "bridge", networks: ["ctrnet"] });
	expect(p(["default"], true)).toEqual({ mode: "slirp4netns", options: [] });
});

test("modes", () => {
	expect(p(["none"])).toEqual({ mode: "none" });
	expect(p(["host"])).toEqual({ mode: "host" });
	expect(p(["ns:/run/netns/x"])).toEqual({ mode: "ns", path: "/run/netns/x" });
	expect(p(["container:abc"])).toEqual({ mode: "container", id: "abc" });
	expect(p(["bridge"])).toEqual({ mode: "bridge", networks: ["ctrnet"] });
});

test("slirp4netns options: commas separate options, not networks", () => {
	expect(p(["slirp4netns:port_handler=slirp4netns,mtu=9000"])).toEqual({
		mode: "slirp4netns",
		options: ["port_handler=slirp4netns", "mtu=9000"],
	});
	expect(p(["slirp4netns"])).toEqual({ mode: "slirp4netns", options: [] });
});

test("CNI networks: commas and repeats, sorted, deduplicated", () => {
	expect(p(["b,a", "c", "a"])).toEqual({ mode: "bridge", networks: ["a", "b", "c"] });
	expect(p(["bridge,z"])).toEqual({ mode: "bridge", networks: ["ctrnet", "z"] });
});

test("malformed", () => {
	expect(() => p(["none", "a"])).toThrow(/cannot be combined/);
	expect(() => p(["a,host"])).toThrow(/cannot be combined/);
	expect(() => p(["a,,b"])).toThrow(/empty network name/);
	expect(() => p(["ns:relative"])).toThrow(/absolute path/);
	expect(() => p(["container:../x"])).toThrow(/invalid container ID/);
	expect(() => p(["bad/name"])).toThrow(/invalid network name/);
});
