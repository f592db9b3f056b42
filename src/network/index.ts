// Network definitions (`ctrnet network …`): podman-v2-style conflists in the CNI config dir.
//
//   createNetwork(config, req: CreateRequest) -> path          subnet choice, refusals (exit 125)
//   removeNetwork(config, name, {force, detach?})              conflist + bridge device
//   listNetworks(config) -> {networks, errors}                 (cni.loadNetworks on the config dir)
//   inspectNetwork(list) -> the conflist JSON
//   ensureDefaultNetwork(config) -> NetworkConfigList          written on first use
//   planNetwork(req, ctx) (pure)

export { bridgeConflist, conflistSubnets, conflistText, macvlanConflist } from "./conflist";
export {
	createNetwork,
	DEFAULT_BRIDGE,
	ensureDefaultNetwork,
	inspectNetwork,
	listNetworks,
	networkLockPath,
	type RemoveOptions,
	removeNetwork,
} from "./manage";
export { type CreateRequest, type PlanContext, pickBridgeName, planNetwork } from "./plan";
