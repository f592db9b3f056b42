// The native backend's firewall (DESIGN 10): nftables through libnftables, one table that ctrnet
// owns, and per network / per container nothing but set and map elements. The netavark front
// end's default is the other driver behind the same Firewall interface: netavark's iptables
// layout (iptables/driver.ts).
export { applyTransaction, type Firewall, hostFirewall, NftError, openFirewall } from "./apply";
export {
	addCommands,
	type Element,
	networkElements,
	networkTeardownCommands,
	portElements,
	removeCommands,
	setupCommands,
	teardownCommands,
} from "./elements";
export {
	baseCommands,
	FORWARD_MARK,
	HOST_FORWARD_COMMENT,
	type HostForwardChain,
	removeBaseCommands,
	TABLE,
	wipeCommands,
} from "./ruleset";
export { type FwNetwork, FwNetworkSchema, type FwPort, FwPortSchema } from "./types";
