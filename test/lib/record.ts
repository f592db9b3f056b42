// A valid container record for unit tests, with the fields a test cares about overridden.
import type { Container } from "../../src/state/schema";

export function record(overrides: Partial<Container> = {}): Container {
	return {
		id: "c1",
		name: "c1",
		status: "ready",
		owner: null,
		op: null,
		rev: 0,
		netns: { path: "/run/netns/cni-1", owned: true },
		mode: { mode: "none" },
		ports: [],
		portsNetwork: null,
		networks: [],
		aliases: {},
		interfaces: {},
		results: {},
		backends: {},
		helpers: [],
		createdAt: "",
		updatedAt: "",
		...overrides,
	};
}
