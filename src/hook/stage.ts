// The OCI stages ctrnet runs at. Kept apart from the lifecycle so that `hook config` loads nothing
// of the container code.
import { UsageError } from "../errors";
import type { OciState } from "./state";

export const SETUP_STAGES = ["createRuntime", "prestart"] as const;
export const STAGES = [...SETUP_STAGES, "poststop"] as const;
export type Stage = (typeof STAGES)[number];

/**
 * `ctrnet hook auto`: the stage from the state's status, for a hooks.d file that lists several
 * stages with one command (the runtime does not pass the stage name). runc 1.1 sends `creating`
 * to createRuntime and prestart hooks (runc before 1.0 sent `created` to prestart); runc and
 * podman send `stopped` to poststop. `running` (poststart) is refused: nothing to do there.
 */
export function stageFromStatus(status: OciState["status"]): Stage {
	if (status === "creating" || status === "created") return "createRuntime";
	if (status === "stopped") return "poststop";
	throw new UsageError(
		`hook auto: status ${JSON.stringify(status)} is no stage ctrnet handles (creating/created = setup, stopped = teardown)`,
	);
}
