// podman's rootlessport config (JSON on stdin), validated and normalised. Pure: no I/O here.
//
// The Go struct has no json tags, so the keys are the Go field names (`NetNSPath`, `ExitFD`, …).
// Mappings come in two shapes and both are accepted, so podman v2 and podman 4 could both drive
// this forwarder:
//   podman v2 (ocicni):   {hostPort, containerPort, protocol, hostIP}
//   podman 4 (types):     {host_ip, container_port, host_port, range, protocol}
//                         `range` = consecutive ports, `protocol` may be "tcp,udp".
//
// zod/mini, not zod: the forwarder is a long-lived process with a memory budget, and the full
// zod API (plus node:net) weighs on its RSS (scripts/bench/rootlessport.sh reports it).
import * as z from "zod/mini";
import { ipFamily, parseIp } from "../ip/address";

/** One port to forward, after range and protocol-list expansion. */
export interface Forward {
	proto: "tcp" | "udp";
	/** Never "": podman's "" (every address) becomes 0.0.0.0, as rootlesskit's exposePorts does. */
	hostIP: string;
	hostPort: number;
	containerPort: number;
}

export interface RootlessportConfig {
	forwards: Forward[];
	netnsPath: string;
	/** null: ctrnet's extension `ExitFD: -1`, run until SIGTERM (see launch.ts). */
	exitFd: number | null;
	readyFd: number;
	tmpDir: string;
	childIP: string;
	containerId: string;
	/**
	 * podman 4's rootless CNI: serve the reload socket `TmpDir/rp/<ContainerID>`, through which
	 * podman (or ctrnet) switches the container's address for new connections.
	 */
	rootlessCNI: boolean;
}

/** slirp4netns' guest address, podman v3.0's hard-coded ChildIP; used when ChildIP is empty. */
export const DEFAULT_CHILD_IP = "10.0.2.100";

const port = z.int().check(z.minimum(0), z.maximum(65535));
const str = (d: string) => z._default(z.string(), d);
const int = (d: number) => z._default(z.int(), d);

const V2Mapping = z.object({
	hostPort: port,
	containerPort: port,
	protocol: str("tcp"),
	hostIP: str(""),
});

const V4Mapping = z.object({
	host_port: port,
	container_port: port,
	protocol: str("tcp"),
	host_ip: str(""),
	range: z._default(port, 1),
});

// Go zero values: a missing key is 0 / "" and podman's own checks report it, so everything is
// optional here and the checks below produce podman's messages.
const RawConfig = z.object({
	Mappings: z.nullish(z.array(z.union([V4Mapping, V2Mapping]))),
	NetNSPath: str(""),
	ExitFD: int(0),
	ReadyFD: int(0),
	TmpDir: str(""),
	ChildIP: str(""),
	ContainerID: str(""),
	RootlessCNI: z._default(z.boolean(), false),
});

/** DESIGN 8's ID rule: the reload socket is named after the container, inside TmpDir/rp. */
const ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,252}$/;

/**
 * Loopback or unspecified (0.0.0.0, ::, and their IPv4-mapped forms): dialling either would reach
 * the container's own localhost. Services bound there must stay private (CVE-2021-20199), and the
 * container must see a network peer.
 */
export function isLocalOnly(ip: string): boolean {
	let b = parseIp(ip);
	if (b.length === 16) {
		const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
		if (!mapped) return b.subarray(0, 15).every((x) => x === 0) && (b[15] as number) <= 1;
		b = b.subarray(12);
	}
	return b[0] === 127 || b.every((x) => x === 0);
}

/** A config problem, worded for the one line the forwarder prints on stdout. */
export class ConfigError extends Error {
	override name = "ConfigError";
}

type RawMapping = z.output<typeof V2Mapping> | z.output<typeof V4Mapping>;

function expand(m: RawMapping): Forward[] {
	const v4 = "container_port" in m;
	const hostPort = v4 ? m.host_port : m.hostPort;
	const containerPort = v4 ? m.container_port : m.containerPort;
	const hostIP = (v4 ? m.host_ip : m.hostIP) || "0.0.0.0";
	const count = v4 ? Math.max(m.range, 1) : 1;
	if (ipFamily(hostIP) === undefined)
		throw new ConfigError(`invalid host IP ${JSON.stringify(hostIP)}`);
	const out: Forward[] = [];
	for (const raw of m.protocol.split(",")) {
		const proto = raw.trim().toLowerCase();
		if (proto !== "tcp" && proto !== "udp") {
			throw new ConfigError(`unsupported protocol ${JSON.stringify(raw)}`);
		}
		for (let i = 0; i < count; i++) {
			const hp = hostPort + i;
			const cp = containerPort + i;
			if (hostPort < 1 || hp > 65535) throw new ConfigError(`invalid host port ${hp}`);
			if (containerPort < 1 || cp > 65535) throw new ConfigError(`invalid container port ${cp}`);
			out.push({ proto, hostIP, hostPort: hp, containerPort: cp });
		}
	}
	return out;
}

/** rootlesskit refuses two ports on the same proto + address + port ("conflict with ID n"). */
function checkConflicts(forwards: Forward[]): void {
	const seen = new Map<string, number>();
	forwards.forEach((f, i) => {
		const key = `${f.proto}/${f.hostIP}/${f.hostPort}`;
		const prev = seen.get(key);
		if (prev !== undefined) {
			throw new ConfigError(
				`conflicting port mappings for host port ${f.hostPort} (protocol ${f.proto}): conflict with ID ${prev + 1}`,
			);
		}
		seen.set(key, i);
	});
}

function zodLine(err: z.core.$ZodError): string {
	return err.issues
		.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
		.join("; ");
}

/** Parses the JSON value podman writes on stdin; throws ConfigError with podman's wording. */
export function parseConfig(input: unknown): RootlessportConfig {
	const parsed = RawConfig.safeParse(input);
	if (!parsed.success) throw new ConfigError(`invalid config: ${zodLine(parsed.error)}`);
	const c = parsed.data;
	// podman's order and messages. ExitFD -1 is ctrnet's extension: no exit pipe.
	if (c.NetNSPath === "") throw new ConfigError("missing NetNSPath");
	if (c.ExitFD === 0 || c.ExitFD < -1) throw new ConfigError("missing ExitFD");
	if (c.ReadyFD <= 0) throw new ConfigError("missing ReadyFD");
	const childIP = c.ChildIP || DEFAULT_CHILD_IP;
	if (ipFamily(childIP) === undefined)
		throw new ConfigError(`invalid ChildIP ${JSON.stringify(childIP)}`);
	if (isLocalOnly(childIP)) throw new ConfigError(`ChildIP ${childIP} is a loopback address`);
	if (c.RootlessCNI) {
		// podman would make the socket dir relative to its cwd, or a path from the ID: refuse.
		if (c.TmpDir === "") throw new ConfigError("missing TmpDir");
		if (!ID.test(c.ContainerID)) {
			throw new ConfigError(`invalid ContainerID ${JSON.stringify(c.ContainerID)}`);
		}
	}
	const forwards = (c.Mappings ?? []).flatMap(expand);
	checkConflicts(forwards);
	return {
		forwards,
		netnsPath: c.NetNSPath,
		exitFd: c.ExitFD === -1 ? null : c.ExitFD,
		readyFd: c.ReadyFD,
		tmpDir: c.TmpDir,
		childIP,
		containerId: c.ContainerID,
		rootlessCNI: c.RootlessCNI,
	};
}
