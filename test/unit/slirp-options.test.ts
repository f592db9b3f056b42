// slirp4netns options and argv, checked against podman v2/v3's setupSlirp4netns.
import { describe, expect, test } from "bun:test";
import { buildSlirpArgs } from "../../src/slirp/argv";
import { SLIRP_FEATURES, type SlirpFeature } from "../../src/slirp/features";
import {
	DEFAULT_MTU,
	parseSlirpOptions,
	slirpGuestIP,
	slirpHostAddr,
} from "../../src/slirp/options";

const ALL = [...SLIRP_FEATURES];
const without = (...f: SlirpFeature[]) => ALL.filter((x) => !f.includes(x));
const parse = (o: string[], features = ALL, ifaces: string[] = ["eth0"]) =>
	parseSlirpOptions(o, features, ifaces);

describe("parseSlirpOptions", () => {
	test("defaults", () => {
		expect(parse([])).toEqual({
			portHandler: "rootlesskit",
			allowHostLoopback: false,
			enableIPv6: false,
			mtu: DEFAULT_MTU,
		});
		expect(DEFAULT_MTU).toBe(65520);
	});

	test("every option", () => {
		expect(
			parse([
				"cidr=10.5.0.0/24",
				"port_handler=slirp4netns",
				"allow_host_loopback=true",
				"enable_ipv6=true",
				"outbound_addr=eth0",
				"outbound_addr6=fd00::1",
				"mtu=9000",
			]),
		).toEqual({
			cidr: "10.5.0.0/24",
			portHandler: "slirp4netns",
			allowHostLoopback: true,
			enableIPv6: true,
			outboundAddr: "eth0",
			outboundAddr6: "fd00::1",
			mtu: 9000,
		});
		expect(parse(["outbound_addr=192.168.1.5"]).outboundAddr).toBe("192.168.1.5");
		expect(parse(["port_handler=rootlesskit"]).portHandler).toBe("rootlesskit");
		expect(parse(["allow_host_loopback=false"]).allowHostLoopback).toBe(false);
		expect(parse(["mtu=68"]).mtu).toBe(68);
	});

	test("podman's error strings", () => {
		const cases: [string[], string, SlirpFeature[]?][] = [
			[["x"], 'unknown option for slirp4netns: "x"'],
			[["foo=bar"], 'unknown option for slirp4netns: "foo=bar"'],
			[[""], 'unknown option for slirp4netns: ""'],
			[["port_handler=invalid"], 'unknown port_handler for slirp4netns: "invalid"'],
			[["cidr=10.0.0.0"], 'invalid cidr "10.0.0.0"'],
			[["cidr=fd00::/64"], 'invalid cidr "fd00::/64"'],
			[["cidr=300.1.1.0/24"], 'invalid cidr "300.1.1.0/24"'],
			[["cidr=10.0.0.0/33"], 'invalid cidr "10.0.0.0/33"'],
			[["cidr=10.0.0.0/24"], "cidr not supported", without("--cidr")],
			[["allow_host_loopback=yes"], 'invalid value of allow_host_loopback for slirp4netns: "yes"'],
			[["enable_ipv6=1"], 'invalid value of enable_ipv6 for slirp4netns: "1"'],
			[["enable_ipv6=true"], "enable_ipv6 not supported", without("--enable-ipv6")],
			[["outbound_addr=nope0"], 'invalid outbound_addr "nope0"'],
			[["outbound_addr=fd00::1"], 'invalid outbound_addr "fd00::1"'],
			[["outbound_addr=eth0"], "outbound_addr not supported", without("--outbound-addr")],
			[["outbound_addr6=10.0.0.1"], 'invalid outbound_addr6: "10.0.0.1"'],
			[["outbound_addr6=fd00::1"], "enable_ipv6=true is required for outbound_addr6"],
			[
				["enable_ipv6=true", "outbound_addr6=fd00::1"],
				"outbound_addr6 not supported",
				without("--outbound-addr"),
			],
			[["mtu=67"], 'invalid mtu "67"'],
			[["mtu=abc"], 'invalid mtu "abc"'],
			[["mtu="], 'invalid mtu ""'],
			[["mtu=1.5e3"], 'invalid mtu "1.5e3"'],
		];
		for (const [opts, msg, features] of cases) {
			expect(() => parse(opts, features ?? ALL)).toThrow(msg);
		}
	});

	test("per-option errors come first, in the order given; feature checks after", () => {
		expect(() => parse(["cidr=10.0.0.0/24", "bogus"], without("--cidr"))).toThrow(
			'unknown option for slirp4netns: "bogus"',
		);
		expect(() => parse(["mtu=1", "port_handler=x"])).toThrow('invalid mtu "1"');
		expect(() =>
			parse(["cidr=10.0.0.0/24", "enable_ipv6=true"], without("--cidr", "--enable-ipv6")),
		).toThrow("cidr not supported");
	});

	test("guest and host addresses follow the cidr", () => {
		expect(slirpGuestIP()).toBe("10.0.2.100");
		expect(slirpGuestIP("10.5.0.0/24")).toBe("10.5.0.100");
		expect(slirpGuestIP("192.168.7.77/24")).toBe("192.168.7.100");
		expect(slirpGuestIP("172.16.0.0/16")).toBe("172.16.0.100");
		expect(slirpHostAddr("10.5.0.0/24", 2)).toBe("10.5.0.2");
		expect(slirpHostAddr(undefined, 3)).toBe("10.0.2.3");
	});
});

describe("buildSlirpArgs", () => {
	const path = { netnsPath: "/run/netns/x" };

	test("podman's defaults and order", () => {
		expect(
			buildSlirpArgs({ options: parse([]), features: ALL, exitFd: 3, readyFd: 4, target: path }),
		).toEqual([
			"--disable-host-loopback",
			"--mtu=65520",
			"--enable-sandbox",
			"--enable-seccomp",
			"-c",
			"-e",
			"3",
			"-r",
			"4",
			"--netns-type=path",
			"/run/netns/x",
			"tap0",
		]);
	});

	test("every option, API socket, PID form", () => {
		const options = parse([
			"cidr=10.5.0.0/24",
			"allow_host_loopback=true",
			"enable_ipv6=true",
			"outbound_addr=eth0",
			"outbound_addr6=fd00::1",
			"mtu=9000",
			"port_handler=slirp4netns",
		]);
		expect(
			buildSlirpArgs({
				options,
				features: ALL,
				apiSocket: "/tmp/c.net",
				exitFd: 3,
				readyFd: 4,
				target: { pid: 1234 },
			}),
		).toEqual([
			"--mtu=9000",
			"--enable-sandbox",
			"--enable-seccomp",
			"--cidr=10.5.0.0/24",
			"--enable-ipv6",
			"--outbound-addr=eth0",
			"--outbound-addr6=fd00::1",
			"--api-socket",
			"/tmp/c.net",
			"-c",
			"-e",
			"3",
			"-r",
			"4",
			"1234",
			"tap0",
		]);
	});

	test("only supported flags; no -e without an exit pipe", () => {
		expect(
			buildSlirpArgs({
				options: parse([]),
				features: ["--mtu"],
				readyFd: 4,
				target: path,
			}),
		).toEqual(["--mtu=65520", "-c", "-r", "4", "--netns-type=path", "/run/netns/x", "tap0"]);
	});
});
