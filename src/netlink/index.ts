// The netlink layer's public API. Everything takes an open socket as its first argument:
//
//   const nl = openNetlink("/run/netns/x");   // or openNetlink() for the current netns
//   try { createVeth(nl, "veth0", "eth0", { peerNetnsPath: p }); addAddress(nl, "veth0", "10.0.0.1/24"); }
//   finally { nl.close(); }                     // or: using nl = openNetlink(p);  or withNetlink(p, fn)
//
// Errors are NetlinkError: `netlink: <op>: <ERRNO NAME>: <kernel message>` (.errno, .code).
export * from "./address";
export * from "./codec";
export * from "./constants";
export * from "./error";
export * from "./host";
export * from "./link";
export * from "./route";
export * from "./socket";
export * from "./unwaited";
