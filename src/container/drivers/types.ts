// The driver seam: how a container's network mode is brought up, and how one network is attached
// and detached. The lifecycle (setup, teardown, reload, connect, disconnect, gc) is written once
// against these interfaces; index.ts is the one place that picks an implementation.

import type { Backend, Container } from "../../state/schema";
import type { Change } from "../change";
import type { SetupRequest } from "../request";
import type { Runtime } from "../runtime";

/** A fixed address for an attachment: --ip/--mac at setup, the old ones at reload. */
export interface Pin {
	ip?: string;
	mac?: string;
}

/** Attaches containers to networks of one kind (CNI conflists, native network definitions). */
export interface NetworkBackend {
	readonly kind: Backend;
	/**
	 * Refuses (NotFoundError, UsageError) a network this backend cannot attach, before anything
	 * changes; writes the default network on first use.
	 */
	prepare(rt: Runtime, network: string): Promise<void>;
	/**
	 * Attaches `c` (its interface name already chosen in c.interfaces) and returns the result to
	 * store: a CNI result document, of any version. A failure leaves nothing of this attachment.
	 */
	attach(rt: Runtime, c: Container, network: string, pin: Pin): Promise<unknown>;
	/**
	 * Detaches; idempotent, and works when the container's namespace is already gone.
	 * `netnsGoing`: the caller removes the namespace right after (the kernel may take the
	 * container's end with it, sparing the wait a link deletion costs).
	 */
	detach(rt: Runtime, c: Container, network: string, opts?: DetachOptions): Promise<void>;
}

export interface DetachOptions {
	netnsGoing?: boolean;
}

/** One network mode (none, host, ns, container, slirp4netns, bridge networks, …). */
export interface ModeDriver {
	/** connect / disconnect / reload manage this mode's networks. */
	readonly hasNetworks: boolean;
	/** Every refusal that needs the host (a missing binary, a bad option), before it changes. */
	plan(rt: Runtime, req: SetupRequest): Promise<unknown>;
	/**
	 * Brings the mode up once the container's namespace exists, recording each step through the
	 * change (so that a failure or a kill can be undone from the record).
	 */
	up(ch: Change, plan: unknown): Promise<void>;
	/**
	 * Sets the mode up again in place (reload), keeping addresses; absent when there is nothing to
	 * redo. Recorded as a reload operation: gc runs it again when the process died.
	 */
	reload?(ch: Change): Promise<void>;
	/** The network the ports ride on changed (connect/disconnect): published ports follow. */
	portsMoved?(ch: Change): Promise<void>;
}
