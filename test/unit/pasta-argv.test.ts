// pasta's command line: podman 5.0's (containers/common 0.58.x createPastaArgs) for the same
// input, case by case, plus the three arguments ctrnet adds (--runas 0 as root, --pid, --userns).
import { describe, expect, test } from "bun:test";
import { buildPastaArgs, DNS_FORWARD_IPV4, portRanges } from "../../src/pasta/argv";
import { parsePastaOptions } from "../../src/pasta/options";
import type { PortMapping } from "../../src/ports/schema";

const D = DNS_FORWARD_IPV4;
const tcp = (hostPort: number, containerPort: number, hostIP = ""): PortMapping => ({
	hostIP,
	hostPort,
	containerPort,
	protocol: "tcp",
});
const udp = (hostPort: number, containerPort: number): PortMapping => ({
	...tcp(hostPort, containerPort),
	protocol: "udp",
});
/** ctrnet's argv without what ctrnet adds, i.e. what podman would run. */
function podmanArgs(user: string[], ports: PortMapping[] = []) {
	const { args, dnsForward } = buildPastaArgs({
		options: parsePastaOptions(user),
		ports,
		netnsPath: "netns123",
		pidFile: "/run/x/pasta.pid",
		root: false,
	});
	const i = args.indexOf("--pid");
	expect(args.slice(i, i + 2)).toEqual(["--pid", "/run/x/pasta.pid"]);
	return { args: [...args.slice(0, i), ...args.slice(i + 2)], dnsForward };
}
const tail = ["--no-map-gw", "--quiet", "--netns", "netns123"];

describe("podman 5.0's arguments", () => {
	const cases: [string, string[], PortMapping[], string[]][] = [
		[
			"defaults",
			[],
			[],
			["--config-net", "--dns-forward", D, "-t", "none", "-u", "none", "-T", "none", "-U", "none"],
		],
		[
			"a port",
			[],
			[tcp(80, 80)],
			["--config-net", "-t", "80-80:80-80", "--dns-forward", D, "-u", "none", "-T", "none"],
		],
		[
			"a range (one mapping per port in ctrnet, one range for pasta)",
			[],
			[tcp(80, 80), tcp(81, 81), tcp(82, 82)],
			["--config-net", "-t", "80-82:80-82", "--dns-forward", D, "-u", "none", "-T", "none"],
		],
		[
			"another container port",
			[],
			[tcp(80, 60)],
			["--config-net", "-t", "80-80:60-60", "--dns-forward", D, "-u", "none", "-T", "none"],
		],
		[
			"tcp and udp",
			[],
			[tcp(80, 60), udp(100, 100)],
			["--config-net", "-t", "80-80:60-60", "-u", "100-100:100-100", "--dns-forward", D, "-T"],
		],
		[
			"two tcp ports",
			[],
			[tcp(80, 60), tcp(100, 100)],
			["--config-net", "-t", "80-80:60-60", "-t", "100-100:100-100", "--dns-forward", D],
		],
		[
			"a host IP, v4 and v6",
			[],
			[tcp(8080, 80, "127.0.0.1"), tcp(8081, 81, "::1")],
			["--config-net", "-t", "127.0.0.1/8080-8080:80-80", "-t", "::1/8081-8081:81-81"],
		],
		[
			"-T option",
			["-T", "80"],
			[],
			["--config-net", "-T", "80", "--dns-forward", D, "-t", "none", "-u", "none", "-U", "none"],
		],
		[
			"--tcp-ns option",
			["--tcp-ns", "80"],
			[],
			["--config-net", "--tcp-ns", "80", "--dns-forward", D, "-t", "none", "-u", "none", "-U"],
		],
		[
			"user -t with another published port",
			["-t", "9090"],
			[tcp(80, 80)],
			["--config-net", "-t", "9090", "-t", "80-80:80-80", "--dns-forward", D, "-u", "none"],
		],
		[
			"options before ports",
			["-i", "eth0"],
			[tcp(80, 80)],
			["--config-net", "-i", "eth0", "-t", "80-80:80-80", "--dns-forward", D, "-u", "none"],
		],
	];
	for (const [name, user, ports, start] of cases) {
		test(name, () => {
			const { args, dnsForward } = podmanArgs(user, ports);
			expect(args.slice(0, start.length)).toEqual(start);
			expect(args.slice(-tail.length)).toEqual(tail);
			expect(dnsForward).toEqual([D]);
		});
	}

	test("the whole default line, exactly", () => {
		expect(podmanArgs([]).args).toEqual([
			"--config-net",
			"--dns-forward",
			D,
			"-t",
			"none",
			"-u",
			"none",
			"-T",
			"none",
			"-U",
			"none",
			...tail,
		]);
	});

	test("--map-gw is podman's: removed, and --no-map-gw left out", () => {
		for (const user of [["--map-gw"], ["--map-gw", "-T", "80"], ["--map-gw", "--map-gw"]]) {
			const { args } = podmanArgs(user);
			expect(args).not.toContain("--map-gw");
			expect(args).not.toContain("--no-map-gw");
			expect(args.slice(-3)).toEqual(["--quiet", "--netns", "netns123"]);
		}
	});

	test("--dns-forward given: none added, and those are the nameservers", () => {
		const one = podmanArgs(["--dns-forward", "192.168.255.255"]);
		expect(one.args.slice(0, 4)).toEqual([
			"--config-net",
			"--dns-forward",
			"192.168.255.255",
			"-t",
		]);
		expect(one.dnsForward).toEqual(["192.168.255.255"]);
		const two = podmanArgs(["--dns-forward", "192.168.255.255", "--dns-forward", "::1"]);
		expect(two.args.filter((a) => a === "--dns-forward").length).toBe(2);
		expect(two.dnsForward).toEqual(["192.168.255.255", "::1"]);
		expect(podmanArgs(["--dns-forward=10.1.1.1"]).dnsForward).toEqual(["10.1.1.1"]);
	});

	test("--debug leaves --quiet out (pasta refuses both; podman 5.2 does the same)", () => {
		for (const flag of ["-d", "--debug", "--trace"]) {
			expect(podmanArgs([flag]).args).not.toContain("--quiet");
		}
	});

	test("sctp cannot be forwarded (podman's message)", () => {
		expect(() => podmanArgs([], [{ ...tcp(80, 80), protocol: "sctp" }])).toThrow(
			"can't forward protocol: sctp",
		);
	});
});

describe("what ctrnet adds", () => {
	const base = { options: parsePastaOptions([]), ports: [], pidFile: "/r/p.pid" };
	test("as root: --runas 0 (pasta would drop to nobody and then fail to join the netns)", () => {
		const { args } = buildPastaArgs({ ...base, netnsPath: "/run/netns/x", root: true });
		expect(args.slice(-6)).toEqual([
			"--runas",
			"0",
			"--pid",
			"/r/p.pid",
			"--netns",
			"/run/netns/x",
		]);
		const own = buildPastaArgs({
			...base,
			options: parsePastaOptions(["--runas", "1000"]),
			netnsPath: "/n",
			root: true,
		});
		expect(own.args.filter((a) => a === "--runas").length).toBe(1);
	});
	test("rootless: --userns of the container before its --netns, no --runas", () => {
		const { args } = buildPastaArgs({
			...base,
			netnsPath: "/proc/7/ns/net",
			userns: "/proc/7/ns/user",
			root: false,
		});
		expect(args.slice(-6)).toEqual([
			"--pid",
			"/r/p.pid",
			"--userns",
			"/proc/7/ns/user",
			"--netns",
			"/proc/7/ns/net",
		]);
		expect(args).not.toContain("--runas");
	});
});

test("portRanges joins only what is consecutive on both sides, same protocol and address", () => {
	expect(
		portRanges([tcp(80, 80), tcp(81, 81), tcp(82, 90), udp(83, 91), tcp(84, 92, "127.0.0.1")]),
	).toEqual([
		{ ...tcp(80, 80), range: 2 },
		{ ...tcp(82, 90), range: 1 },
		{ ...udp(83, 91), range: 1 },
		{ ...tcp(84, 92, "127.0.0.1"), range: 1 },
	]);
});
