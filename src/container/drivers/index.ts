// The one place that picks how a network is attached: each attachment records its backend, and
// the same backend always detaches it, whatever the configuration says now.
import type { Backend } from "../../state/schema";
import type { NetworkBackend } from "./types";

export type { DetachOptions, ModeDriver, NetworkBackend, Pin } from "./types";

// Each backend's modules load only when a network of its kind is attached or detached: a
// slirp4netns, pasta or none container loads neither.
const BACKENDS: Record<Backend, () => Promise<NetworkBackend>> = {
	cni: async () => (await import("./cni")).cniBackend,
	native: async () => (await import("./native")).nativeBackend,
};

export function backendFor(kind: Backend): Promise<NetworkBackend> {
	return BACKENDS[kind]();
}
