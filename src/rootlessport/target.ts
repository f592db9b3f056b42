// Where the forwarder dials: the container's address. Fixed for the forwarder's life, except
// under podman's rootless CNI, where a reload switches it (pump.c holds it then, shared with the
// TCP splice path); `gen` changes with every switch, so a data path can notice one cheaply.

export interface Target {
	ip(): string;
	gen(): number;
}

export function fixedTarget(ip: string): Target {
	return { ip: () => ip, gen: () => 0 };
}
