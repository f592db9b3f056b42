// Placeholder until the forwarder lands (issue: rootless networking). It validates nothing yet and
// refuses to run, so a caller never mistakes it for a working forwarder.
import { writeOut } from "../io";
export async function forward(_config: unknown): Promise<number> {
	writeOut("rootlessport: the port forwarder is not available in this build\n");
	return 1;
}
