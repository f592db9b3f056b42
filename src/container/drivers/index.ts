// The one place that picks how a network is attached: each attachment records its backend, and
// the same backend always detaches it, whatever the configuration says now.
import type { Backend } from "../../state/schema";
import { cniBackend } from "./cni";
import { nativeBackend } from "./native";
import type { NetworkBackend } from "./types";

export type { DetachOptions, ModeAccepts, ModeDriver, NetworkBackend, Pin } from "./types";

const BACKENDS: Record<Backend, () => NetworkBackend> = {
	cni: () => cniBackend,
	native: () => nativeBackend,
};

export function backendFor(kind: Backend): NetworkBackend {
	return BACKENDS[kind]();
}
