// The container runtime for commands that need it (state store + CNI), opened once per process.
import type { Runtime } from "../container/runtime";
import { getConfig } from "./context";

let rt: Runtime | undefined;

export async function runtime(): Promise<Runtime> {
	if (!rt) {
		const { openRuntime } = await import("../container/runtime");
		rt = openRuntime(await getConfig());
	}
	return rt;
}
