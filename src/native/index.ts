// The native backend's data plane (DESIGN 10): bridge and macvlan networking through rtnetlink,
// no process started. Plain typed inputs in, CNI-model results out; ctrnet's container records
// are the caller's business.
//
//   const a = attachBridge({ net, netnsPath, ifname: "eth0", addresses: ["10.89.0.5/24"], lockDir });
//   …
//   detachBridge({ net, ifname: "eth0", hostVeth: a.hostVeth });
//   removeBridgeIfUnused(net, { lockDir });

export type { RemoveBridgeOptions } from "./bridge";
export { type BridgeLink, bridgeName, ensureBridge, removeBridgeIfUnused } from "./bridge";
export { type LockMode, lockNetwork, lockPath, type NetworkLock } from "./lock";
export {
	type AttachMacvlanRequest,
	attachMacvlan,
	type DetachMacvlanRequest,
	detachMacvlan,
	type MacvlanAttachment,
} from "./macvlan";
export { hostVethName } from "./names";
export { type InterfacePlan, networkOptions, planInterface } from "./plan";
export { setNativeTrace } from "./trace";
export type { NativeNetwork, NativeSubnet } from "./types";
export { NativeNetworkSchema } from "./types";
export {
	type AttachBridgeRequest,
	attachBridge,
	type BridgeAttachment,
	type DetachBridgeRequest,
	detachBridge,
} from "./veth";
