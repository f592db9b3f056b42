// Network namespaces: create (iproute2-compatible), pin a process's, remove, list, inspect, and
// run synchronous code inside one.

export * from "../../ffi/netns";
export * from "./create";
export * from "./dir";
export * from "./host";
export * from "./inspect";
export * from "./list";
export * from "./mountinfo";
export * from "./names";
export * from "./pin";
export * from "./remove";
