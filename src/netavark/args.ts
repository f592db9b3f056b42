// netavark 1.4's command line (its clap definition in src/main.rs), parsed. Pure.
//
//   netavark [-f FILE] [-c DIR] [-r BOOL] [-a PATH] setup NETNS
//   netavark [-f FILE] [-c DIR] [-r BOOL] [-a PATH] teardown NETNS
//   netavark [-c DIR] [-r BOOL] [-a PATH] update NETWORK --network-dns-servers IP...
//   netavark version | -V | --version | -h | --help
//
// Options take their value as `--opt VALUE`, `--opt=VALUE`, `-o VALUE` or `-oVALUE`, before the
// subcommand (podman writes `--config DIR --rootless=false --aardvark-binary=PATH setup NS`).

/** netavark's default for --config when podman gives none (the aardvark files go under it). */
export const DEFAULT_CONFIG_DIR = "/tmp";

export interface GlobalOptions {
	file?: string;
	config: string;
	rootless: boolean;
	/** --aardvark-binary as given; undefined = find it (Debian's path, PATH). */
	aardvarkBinary?: string;
}

export type Invocation =
	| { kind: "setup" | "teardown"; netns: string; global: GlobalOptions }
	| { kind: "update"; network: string; dnsServers: string[]; global: GlobalOptions }
	| { kind: "version" }
	| { kind: "print-version" }
	| { kind: "help"; text: string };

/** A command line clap would refuse: the message goes to stderr, exit code 2 (clap's). */
export class ArgsError extends Error {
	override name = "ArgsError";
}

export const USAGE = `netavark (ctrnet's implementation of netavark 1.4's protocol)

USAGE:
    netavark [OPTIONS] <SUBCOMMAND>

OPTIONS:
    -a, --aardvark-binary <AARDVARK_BINARY>    Path to the aardvark-dns binary
    -c, --config <CONFIG>                      config directory for aardvark, usually path to a tmpfs
    -f, --file <FILE>                          Instead of reading from STDIN, read the configuration to be applied from the given file
    -h, --help                                 Print help information
    -r, --rootless <ROOTLESS>                  Tells if current netavark invocation is for rootless container
    -V, --version                              Print version information

SUBCOMMANDS:
    setup       Configures the given network namespace with the given configuration
    teardown    Undo any configuration applied via setup command
    update      Updates network dns servers for an already configured network
    version     Display info about netavark
    help        Print this message
`;

const LONG: Record<string, keyof Omit<GlobalOptions, "rootless"> | "rootless"> = {
	"--file": "file",
	"--config": "config",
	"--rootless": "rootless",
	"--aardvark-binary": "aardvarkBinary",
};
const SHORT: Record<string, string> = {
	"-f": "--file",
	"-c": "--config",
	"-r": "--rootless",
	"-a": "--aardvark-binary",
};

function parseBool(text: string): boolean {
	if (text === "true") return true;
	if (text === "false") return false;
	throw new ArgsError(
		`Invalid value "${text}" for '--rootless <ROOTLESS>': provided string was not \`true\` or \`false\``,
	);
}

/** Splits `--opt=value` / `-ovalue`; returns the long option's name and an inline value. */
function optionOf(arg: string): { long: string; inline?: string } | undefined {
	if (arg.startsWith("--")) {
		const eq = arg.indexOf("=");
		const long = eq < 0 ? arg : arg.slice(0, eq);
		if (!(long in LONG)) return undefined;
		return eq < 0 ? { long } : { long, inline: arg.slice(eq + 1) };
	}
	const short = arg.slice(0, 2);
	const long = SHORT[short];
	if (!long) return undefined;
	const rest = arg.slice(2).replace(/^=/, "");
	return rest === "" ? { long } : { long, inline: rest };
}

function positional(rest: string[], what: string, sub: string): string {
	const value = rest.find((a) => !a.startsWith("-") || a === "-");
	if (value === undefined || value === "") {
		throw new ArgsError(
			`The following required arguments were not provided:\n    <${what}>\n\nUSAGE:\n    netavark ${sub} <${what}>`,
		);
	}
	const extra = rest.filter((a) => a !== value);
	if (extra.length > 0) throw new ArgsError(`Found argument '${extra[0]}' which wasn't expected`);
	return value;
}

function parseUpdate(rest: string[], global: GlobalOptions): Invocation {
	let network: string | undefined;
	const servers: string[] = [];
	let inServers = false;
	for (let i = 0; i < rest.length; i++) {
		const a = rest[i] as string;
		if (a === "--network-dns-servers") {
			inServers = true;
			const v = rest[i + 1];
			if (v === undefined || v.startsWith("-"))
				throw new ArgsError("'--network-dns-servers <NETWORK_DNS_SERVERS>' requires a value");
			continue;
		}
		if (a.startsWith("--network-dns-servers=")) {
			servers.push(a.slice("--network-dns-servers=".length));
			inServers = false;
			continue;
		}
		if (a.startsWith("-")) throw new ArgsError(`Found argument '${a}' which wasn't expected`);
		// clap: a multiple-value option keeps taking values until the next option.
		if (inServers) servers.push(a);
		else if (network === undefined) network = a;
		else throw new ArgsError(`Found argument '${a}' which wasn't expected`);
	}
	if (!network) {
		throw new ArgsError(
			"The following required arguments were not provided:\n    <NETWORK_NAME>\n\nUSAGE:\n    netavark update <NETWORK_NAME> --network-dns-servers <NETWORK_DNS_SERVERS>",
		);
	}
	if (servers.length === 0 || servers.some((s) => s === "")) {
		throw new ArgsError(
			"The following required arguments were not provided:\n    --network-dns-servers <NETWORK_DNS_SERVERS>",
		);
	}
	return { kind: "update", network, dnsServers: servers, global };
}

/** argv after the program name -> what to do; ArgsError for what clap refuses. */
export function parseArgs(argv: readonly string[]): Invocation {
	const global: GlobalOptions = { config: DEFAULT_CONFIG_DIR, rootless: false };
	let i = 0;
	for (; i < argv.length; i++) {
		const a = argv[i] as string;
		if (a === "-h" || a === "--help") return { kind: "help", text: USAGE };
		if (a === "-V" || a === "--version") return { kind: "print-version" };
		if (!a.startsWith("-") || a === "-") break;
		const opt = optionOf(a);
		if (!opt) throw new ArgsError(`Found argument '${a}' which wasn't expected, or isn't valid`);
		let value = opt.inline;
		if (value === undefined) {
			value = argv[++i];
			if (value === undefined)
				throw new ArgsError(
					`The argument '${opt.long} <VALUE>' requires a value but none was supplied`,
				);
		}
		const key = LONG[opt.long];
		if (key === "rootless") global.rootless = parseBool(value);
		else if (key) global[key] = value;
	}
	const sub = argv[i];
	const rest = argv.slice(i + 1);
	if (rest.includes("-h") || rest.includes("--help")) return { kind: "help", text: USAGE };
	switch (sub) {
		case undefined:
			throw new ArgsError(`netavark requires a subcommand but one was not provided\n\n${USAGE}`);
		case "setup":
		case "teardown":
			return { kind: sub, netns: positional(rest, "NETWORK_NAMESPACE_PATH", sub), global };
		case "update":
			return parseUpdate(rest, global);
		case "version":
			if (rest.length > 0) throw new ArgsError(`Found argument '${rest[0]}' which wasn't expected`);
			return { kind: "version" };
		case "help":
			return { kind: "help", text: USAGE };
		default:
			throw new ArgsError(`The subcommand '${sub}' wasn't recognized\n\n${USAGE}`);
	}
}
