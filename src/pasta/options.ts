// `--network pasta:OPT,OPT,…`: pasta's own command-line options, comma-separated (podman's
// grammar: every comma starts a new argument, so `pasta:-t,8080` is `-t 8080`). Pure.
//
// Like podman, ctrnet does not validate pasta's options: pasta does, and its own message reaches
// the user. What is read here is what podman reads to decide its defaults (which of -t/-u/-T/-U
// were given, --dns-forward, --map-gw, debug), plus what ctrnet must refuse before anything
// starts: the options ctrnet sets itself, and port forwards that collide with --publish.
import type { PortRequest, Protocol } from "../ports/schema";

/** A bad option: nothing was started. */
export class PastaOptionError extends Error {
	override name = "PastaOptionError";
}

export interface PastaOptions {
	/** The user's options in their order, without podman's own `--map-gw`. */
	args: string[];
	/** `--map-gw` given: ctrnet leaves out `--no-map-gw` (podman's pseudo-option). */
	mapGw: boolean;
	/** Specs given to -t/--tcp-ports and -u/--udp-ports (empty: the option was not given). */
	tcp: string[];
	udp: string[];
	/** -T/--tcp-ns and -U/--udp-ns given. */
	tcpNs: boolean;
	udpNs: boolean;
	/** --dns-forward addresses given. */
	dnsForward: string[];
	/** -d/--debug/--trace given: pasta refuses them together with --quiet. */
	debug: boolean;
	/** --runas given: ctrnet does not add its own as root. */
	runas: boolean;
}

/** Set by ctrnet for every pasta it starts; a second value would break what ctrnet relies on. */
const RESERVED: Record<string, string> = {
	"--netns": "ctrnet gives pasta the container's namespace",
	"--userns": "ctrnet gives pasta the container's namespace",
	"--netns-only": "ctrnet gives pasta the container's namespace",
	"-P": "ctrnet reads pasta's pid from its own file",
	"--pid": "ctrnet reads pasta's pid from its own file",
	"-f": "pasta must go to the background once it is ready",
	"--foreground": "pasta must go to the background once it is ready",
	"-h": "it makes pasta exit instead of starting",
	"--help": "it makes pasta exit instead of starting",
	"--version": "it makes pasta exit instead of starting",
};

const q = (s: string) => JSON.stringify(s);

/** `--name=value` → ["--name", "value"]; anything else → [token, undefined]. */
function splitLong(token: string): [string, string | undefined] {
	const eq = token.indexOf("=");
	return token.startsWith("--") && eq > 2
		? [token.slice(0, eq), token.slice(eq + 1)]
		: [token, undefined];
}

const PORT_FLAGS: Record<string, "tcp" | "udp" | "tcpNs" | "udpNs"> = {
	"-t": "tcp",
	"--tcp-ports": "tcp",
	"-u": "udp",
	"--udp-ports": "udp",
	"-T": "tcpNs",
	"--tcp-ns": "tcpNs",
	"-U": "udpNs",
	"--udp-ns": "udpNs",
};

/** Reads the options (already split on ","), refusing the ones ctrnet sets itself. */
export function parsePastaOptions(raw: readonly string[]): PastaOptions {
	const o: PastaOptions = {
		args: [],
		mapGw: false,
		tcp: [],
		udp: [],
		tcpNs: false,
		udpNs: false,
		dnsForward: [],
		debug: false,
		runas: false,
	};
	for (let i = 0; i < raw.length; i++) {
		const token = raw[i] as string;
		if (token === "--map-gw") {
			o.mapGw = true;
			continue;
		}
		o.args.push(token);
		const [name, inline] = splitLong(token);
		const why = RESERVED[name];
		if (why) throw new PastaOptionError(`pasta option ${q(name)} cannot be given: ${why}`);
		const value = () => inline ?? raw[i + 1];
		const port = PORT_FLAGS[name];
		if (port === "tcp" || port === "udp") {
			o[port].push(value() ?? "");
		} else if (port) o[port] = true;
		else if (name === "--dns-forward") {
			const addr = value();
			if (addr !== undefined) o.dnsForward.push(addr);
		} else if (name === "-d" || name === "--debug" || name === "--trace") o.debug = true;
		else if (name === "--runas") o.runas = true;
	}
	return o;
}

interface SpecRange {
	first: number;
	last: number;
}

/**
 * The host ports one -t/-u value forwards: pasta's `[ADDR[%IF]/]FIRST[-LAST][:TARGET[-END]]`
 * (exclusions `~N` forward nothing by themselves). "mode" for none/auto/all; undefined for
 * what pasta will judge itself.
 */
export function specHostPorts(spec: string): SpecRange | "mode" | "none" | undefined {
	if (spec === "none" || spec === "auto" || spec === "all") return "mode";
	const m = /^(?:.*\/)?(~?)(\d{1,5})(?:-(\d{1,5}))?(?::\d{1,5}(?:-\d{1,5})?)?$/.exec(spec);
	if (!m) return undefined;
	if (m[1]) return "none";
	const first = Number(m[2]);
	return { first, last: m[3] === undefined ? first : Number(m[3]) };
}

/**
 * Refuses pasta port options that collide with --publish: a mode (none/auto/all) for a protocol
 * that has published ports, or a host port both publish and pasta's option forward (pasta would
 * stop with "Overlapping port specifier", which does not say where the second one came from).
 * Host ports still 0 (chosen later) are checked again once chosen.
 */
export function checkPublishConflicts(o: PastaOptions, ports: readonly PortRequest[]): void {
	for (const [protocol, flag, specs] of [
		["tcp", "-t", o.tcp],
		["udp", "-u", o.udp],
	] as [Protocol, string, string[]][]) {
		const published = ports.filter((p) => p.protocol === protocol);
		if (published.length === 0) continue;
		for (const spec of specs) {
			const r = specHostPorts(spec);
			if (r === "mode") {
				throw new PastaOptionError(
					`--publish forwards ${protocol} ports, which the pasta option "${flag} ${spec}" contradicts: drop one of them`,
				);
			}
			if (r === undefined || r === "none") continue;
			for (const p of published) {
				if (p.hostPort === 0) continue;
				const last = p.hostPort + p.count - 1;
				const lo = Math.max(p.hostPort, r.first);
				if (lo <= Math.min(last, r.last)) {
					throw new PastaOptionError(
						`host port ${lo}/${protocol} is published with --publish and forwarded by the pasta option "${flag} ${spec}" too: give it once`,
					);
				}
			}
		}
	}
}
