// rootlessport's stdin config (both of podman's mapping shapes) and its error lines.
import { describe, expect, test } from "bun:test";
import { ConfigError, isLocalOnly, parseConfig } from "../../src/rootlessport/config";
import { joinHostPort, listenErrorLine } from "../../src/rootlessport/listen-error";

const base = {
	NetNSPath: "/run/netns/x",
	ExitFD: 3,
	ReadyFD: 4,
	TmpDir: "/tmp",
	ChildIP: "10.0.2.100",
};

describe("parseConfig", () => {
	test("podman v2 mappings", () => {
		const c = parseConfig({
			...base,
			ContainerID: "abc",
			Mappings: [
				{ hostPort: 8080, containerPort: 80, protocol: "tcp", hostIP: "" },
				{ hostPort: 5353, containerPort: 53, protocol: "udp", hostIP: "127.0.0.1" },
			],
		});
		expect(c.forwards).toEqual([
			{ proto: "tcp", hostIP: "0.0.0.0", hostPort: 8080, containerPort: 80 },
			{ proto: "udp", hostIP: "127.0.0.1", hostPort: 5353, containerPort: 53 },
		]);
		expect(c).toMatchObject({
			netnsPath: "/run/netns/x",
			exitFd: 3,
			readyFd: 4,
			tmpDir: "/tmp",
			childIP: "10.0.2.100",
			containerId: "abc",
		});
	});

	test("podman 4 mappings: range expands to consecutive ports, protocol lists split", () => {
		const c = parseConfig({
			...base,
			Mappings: [
				{ host_ip: "::1", container_port: 80, host_port: 8080, range: 3, protocol: "tcp,udp" },
				{ host_ip: "", container_port: 22, host_port: 2222, range: 0, protocol: "tcp" },
			],
		});
		expect(
			c.forwards.map((f) => `${f.proto} ${f.hostIP} ${f.hostPort}>${f.containerPort}`),
		).toEqual([
			"tcp ::1 8080>80",
			"tcp ::1 8081>81",
			"tcp ::1 8082>82",
			"udp ::1 8080>80",
			"udp ::1 8081>81",
			"udp ::1 8082>82",
			"tcp 0.0.0.0 2222>22",
		]);
	});

	test("podman's validation messages, in podman's order", () => {
		expect(() => parseConfig({})).toThrow("missing NetNSPath");
		expect(() => parseConfig({ NetNSPath: "/x" })).toThrow("missing ExitFD");
		expect(() => parseConfig({ NetNSPath: "/x", ExitFD: 3 })).toThrow("missing ReadyFD");
		expect(() => parseConfig({ NetNSPath: "/x", ExitFD: -2, ReadyFD: 4 })).toThrow(
			"missing ExitFD",
		);
		expect(() => parseConfig({ NetNSPath: "/x", ExitFD: 3, ReadyFD: 0 })).toThrow(
			"missing ReadyFD",
		);
	});

	test("ExitFD -1 (ctrnet's extension) means no exit pipe; missing Mappings are none", () => {
		const c = parseConfig({ ...base, ExitFD: -1, Mappings: null });
		expect(c.exitFd).toBeNull();
		expect(c.forwards).toEqual([]);
	});

	test("ChildIP: default 10.0.2.100, never loopback, must be an IP", () => {
		expect(parseConfig({ ...base, ChildIP: "" }).childIP).toBe("10.0.2.100");
		expect(parseConfig({ ...base, ChildIP: "fd00::100" }).childIP).toBe("fd00::100");
		expect(() => parseConfig({ ...base, ChildIP: "127.0.0.1" })).toThrow(/loopback/);
		expect(() => parseConfig({ ...base, ChildIP: "::1" })).toThrow(/loopback/);
		expect(() => parseConfig({ ...base, ChildIP: "localhost" })).toThrow(ConfigError);
		// Unspecified and IPv4-mapped forms reach the container's localhost too.
		for (const ip of ["0.0.0.0", "::", "::ffff:127.0.0.1", "::ffff:0.0.0.0", "127.1.2.3"]) {
			expect(() => parseConfig({ ...base, ChildIP: ip })).toThrow(/loopback/);
		}
		for (const ip of ["10.0.2.100", "::2", "fe80::1", "::ffff:10.0.0.1", "128.0.0.1"]) {
			expect(isLocalOnly(ip)).toBe(false);
		}
	});

	test("RootlessCNI: off by default; needs TmpDir and a ContainerID that can name a file", () => {
		expect(parseConfig(base).rootlessCNI).toBe(false);
		const cni = { ...base, RootlessCNI: true };
		expect(parseConfig({ ...cni, ContainerID: "a".repeat(64) }).rootlessCNI).toBe(true);
		expect(() => parseConfig({ ...cni, ContainerID: "a", TmpDir: "" })).toThrow("missing TmpDir");
		for (const id of ["", "..", "a/b", "-x", "x".repeat(254)]) {
			expect(() => parseConfig({ ...cni, ContainerID: id })).toThrow("invalid ContainerID");
		}
		expect(() => parseConfig({ ...cni, RootlessCNI: "yes" })).toThrow(ConfigError);
	});

	test("bad mappings", () => {
		const m = (x: object) => () => parseConfig({ ...base, Mappings: [x] });
		expect(m({ hostPort: 1, containerPort: 1, protocol: "sctp", hostIP: "" })).toThrow(
			'unsupported protocol "sctp"',
		);
		expect(m({ hostPort: 0, containerPort: 1, protocol: "tcp", hostIP: "" })).toThrow(
			"invalid host port 0",
		);
		expect(m({ host_port: 65535, container_port: 1, range: 2, protocol: "tcp" })).toThrow(
			"invalid host port 65536",
		);
		expect(m({ hostPort: 1, containerPort: 1, protocol: "tcp", hostIP: "x.y" })).toThrow(
			'invalid host IP "x.y"',
		);
		expect(m({ hostPort: "80", containerPort: 1 })).toThrow(ConfigError);
		expect(() =>
			parseConfig({
				...base,
				Mappings: [
					{ hostPort: 80, containerPort: 1, protocol: "tcp", hostIP: "" },
					{ hostPort: 80, containerPort: 2, protocol: "tcp", hostIP: "0.0.0.0" },
				],
			}),
		).toThrow("conflict with ID 1");
	});
});

describe("listen error lines (Go's wording)", () => {
	test("address in use, IPv6 in brackets", () => {
		expect(listenErrorLine("tcp", "0.0.0.0", 8080, "EADDRINUSE", 1024)).toBe(
			"listen tcp 0.0.0.0:8080: bind: address already in use",
		);
		expect(listenErrorLine("udp", "::1", 53, "EADDRINUSE", 1024)).toBe(
			"listen udp [::1]:53: bind: address already in use",
		);
		expect(joinHostPort("fd00::1", 1)).toBe("[fd00::1]:1");
	});

	test("privileged port: podman's advice with the sysctl's current value", () => {
		expect(listenErrorLine("tcp", "0.0.0.0", 80, "EACCES", 1024)).toBe(
			"cannot expose privileged port 80, you can add 'net.ipv4.ip_unprivileged_port_start=80' to /etc/sysctl.conf (currently 1024), or choose a larger port number (>= 1024): listen tcp 0.0.0.0:80: bind: permission denied",
		);
		expect(listenErrorLine("tcp", "0.0.0.0", 2000, "EACCES", 1024)).toBe(
			"listen tcp 0.0.0.0:2000: bind: permission denied",
		);
	});
});
