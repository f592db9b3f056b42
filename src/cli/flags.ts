// The network flags `setup` and `hook inject` share: their declarations, and the raw strings
// RawSetupSchema wants from the parsed values.

export const NETWORK_FLAGS = {
	name: { type: "string", description: "container name (default: the ID)" },
	network: {
		type: "string",
		repeat: true,
		description:
			"bridge|none|host|slirp4netns[:opts]|pasta[:opts]|ns:PATH|container:ID|NAME[,NAME] (repeatable)",
	},
	ip: { type: "string", description: "static IP on the first network" },
	mac: { type: "string", description: "static MAC on the first network" },
	publish: {
		type: "string",
		alias: "p",
		repeat: true,
		description: "[[HOSTIP:][HOSTPORT]:]PORT[/PROTO] (repeatable)",
	},
	alias: { type: "string", repeat: true, description: "network alias (repeatable)" },
} as const;

export function networkFlags(args: {
	name?: string;
	network: string[];
	ip?: string;
	mac?: string;
	publish: string[];
	alias: string[];
}): {
	name?: string;
	networks: string[];
	ip?: string;
	mac?: string;
	publish: string[];
	aliases: string[];
} {
	return {
		name: args.name,
		networks: args.network,
		ip: args.ip,
		mac: args.mac,
		publish: args.publish,
		aliases: args.alias,
	};
}
