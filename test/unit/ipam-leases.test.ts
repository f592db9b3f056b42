// IPAM leases in the real state database (a temp dir): dual stack, static IPs, conflicts naming
// the holder, exhaustion, release, and the round robin kept across processes in the cursor table.
// Many processes at once: test/integration/ipam-concurrency.test.ts.
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { allocate, forgetNetwork, listLeases, release, releaseAll } from "../../src/ipam/leases";
import type { NetworkDef } from "../../src/netconf/schema";
import { toNetworkDef } from "../../src/netconf/validate";
import { Store } from "../../src/state/store";

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(() => {
	for (const s of stores.splice(0)) s.close();
	for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function open(dir?: string): { store: Store; dir: string } {
	const d = dir ?? mkdtempSync(`${tmpdir()}/tnc-ipam-`);
	if (!dir) dirs.push(d);
	const store = Store.open(`${d}/state`);
	stores.push(store);
	return { store, dir: d };
}

const network = (
	name: string,
	subnets: unknown[],
	over: Record<string, unknown> = {},
): NetworkDef =>
	toNetworkDef({
		name,
		id: "b".repeat(64),
		driver: "bridge",
		network_interface: "tncbr0",
		subnets,
		ipam_options: { driver: "host-local" },
		...over,
	});

const DUAL = network("tnc-dual", [
	{ subnet: "10.236.10.0/24", gateway: "10.236.10.1" },
	{ subnet: "fd36:10::/64", gateway: "fd36:10::1" },
]);
const TINY = network("tnc-tiny", [{ subnet: "10.236.11.0/29", gateway: "10.236.11.1" }]);

const addrs = (leases: { address: string }[]) => leases.map((l) => l.address);

test("dual stack: one IPv4 and one IPv6 per container, in subnet order, never the gateway", () => {
	const db = open().store.db;
	const a = allocate(db, DUAL, { containerId: "ctr-a", attachment: "eth0" });
	expect(a).toEqual([
		{
			network: "tnc-dual",
			subnet: "10.236.10.0/24",
			address: "10.236.10.2",
			containerId: "ctr-a",
			attachment: "eth0",
			created: expect.any(String),
		},
		expect.objectContaining({ subnet: "fd36:10::/64", address: "fd36:10::2" }),
	]);
	expect(addrs(allocate(db, DUAL, { containerId: "ctr-b", attachment: "eth0" }))).toEqual([
		"10.236.10.3",
		"fd36:10::3",
	]);
	expect(addrs(listLeases(db, { network: "tnc-dual" }))).toEqual([
		"10.236.10.2",
		"10.236.10.3",
		"fd36:10::2",
		"fd36:10::3",
	]);
});

test("static IPs: used as asked; the other subnet still gets a free address; conflicts name the holder", () => {
	const db = open().store.db;
	const s = allocate(db, DUAL, {
		containerId: "ctr-s",
		attachment: "eth0",
		staticIps: ["fd36:10:0:0::99"],
	});
	expect(addrs(s)).toEqual(["10.236.10.2", "fd36:10::99"]);
	expect(() =>
		allocate(db, DUAL, { containerId: "ctr-t", attachment: "eth0", staticIps: ["fd36:10::99"] }),
	).toThrow("requested ip address fd36:10::99 is already allocated to container ID ctr-s");
	expect(() =>
		allocate(db, DUAL, { containerId: "ctr-t", attachment: "eth0", staticIps: ["10.236.99.2"] }),
	).toThrow("requested static ip 10.236.99.2 not in any subnet on network tnc-dual");
	expect(() =>
		allocate(db, DUAL, {
			containerId: "ctr-t",
			attachment: "eth0",
			staticIps: ["10.236.10.7", "10.236.10.8"],
		}),
	).toThrow(
		"static ips 10.236.10.7 and 10.236.10.8 are both in subnet 10.236.10.0/24 of network tnc-dual",
	);
	expect(() =>
		allocate(db, DUAL, { containerId: "ctr-t", attachment: "eth0", staticIps: ["10.236.10.1"] }),
	).toThrow("requested static ip 10.236.10.1 is the gateway of network tnc-dual");
	expect(() =>
		allocate(db, DUAL, { containerId: "ctr-t", attachment: "eth0", staticIps: ["nope"] }),
	).toThrow('invalid static ip "nope"');
	// a failed allocation leaves nothing behind: all or nothing
	expect(listLeases(db, { containerId: "ctr-t" })).toEqual([]);
	// one container attaches once per network
	expect(() => allocate(db, DUAL, { containerId: "ctr-s", attachment: "eth1" })).toThrow(
		"container ctr-s already has addresses on network tnc-dual: 10.236.10.2, fd36:10::99",
	);
});

test("exhausted: a clear error, and nothing half-leased on the other subnets", () => {
	const db = open().store.db;
	for (let i = 0; i < 5; i++) allocate(db, TINY, { containerId: `ctr-${i}`, attachment: "eth0" });
	expect(addrs(listLeases(db, { network: "tnc-tiny" }))).toEqual([
		"10.236.11.2",
		"10.236.11.3",
		"10.236.11.4",
		"10.236.11.5",
		"10.236.11.6",
	]);
	expect(() => allocate(db, TINY, { containerId: "ctr-x", attachment: "eth0" })).toThrow(
		"failed to find free IP in range: 10.236.11.1 - 10.236.11.6 (subnet 10.236.11.0/29 of network tnc-tiny is exhausted)",
	);
	expect(listLeases(db, { containerId: "ctr-x" })).toEqual([]);
	// the IPv6 subnet comes first and has room: its lease is rolled back with the failure
	const lopsided = network("tnc-tiny", [
		{ subnet: "fd36:11::/64", gateway: "fd36:11::1" },
		{ subnet: "10.236.11.0/29", gateway: "10.236.11.1" },
	]);
	expect(() => allocate(db, lopsided, { containerId: "ctr-y", attachment: "eth0" })).toThrow(
		/exhausted/,
	);
	expect(listLeases(db, { containerId: "ctr-y" })).toEqual([]);
});

test("release by container and network, release all, forget a network; round robin goes on", () => {
	const { store, dir } = open();
	const db = store.db;
	allocate(db, TINY, { containerId: "ctr-a", attachment: "eth0" }); // .2
	allocate(db, DUAL, { containerId: "ctr-a", attachment: "eth1" });
	allocate(db, TINY, { containerId: "ctr-b", attachment: "eth0" }); // .3
	expect(addrs(release(db, "ctr-a", "tnc-tiny"))).toEqual(["10.236.11.2"]);
	expect(release(db, "ctr-a", "tnc-tiny")).toEqual([]);
	// the released .2 is not reused at once: the next choice follows the last one (.3)
	expect(addrs(allocate(db, TINY, { containerId: "ctr-c", attachment: "eth0" }))).toEqual([
		"10.236.11.4",
	]);
	// another process sees the same cursor
	const other = open(dir).store.db;
	expect(addrs(allocate(other, TINY, { containerId: "ctr-d", attachment: "eth0" }))).toEqual([
		"10.236.11.5",
	]);
	expect(addrs(allocate(other, TINY, { containerId: "ctr-e", attachment: "eth0" }))).toEqual([
		"10.236.11.6",
	]);
	// wraps to the free .2
	expect(addrs(allocate(db, TINY, { containerId: "ctr-f", attachment: "eth0" }))).toEqual([
		"10.236.11.2",
	]);
	expect(addrs(releaseAll(db, "ctr-a"))).toEqual(["10.236.10.2", "fd36:10::2"]);
	expect(listLeases(db, { containerId: "ctr-a" })).toEqual([]);
	expect(forgetNetwork(db, "tnc-tiny")).toHaveLength(5);
	expect(listLeases(db)).toEqual([]);
	// a forgotten network starts from its range's start again
	expect(addrs(allocate(db, TINY, { containerId: "ctr-g", attachment: "eth0" }))).toEqual([
		"10.236.11.2",
	]);
});

test("no IPAM: driver none or no subnets leases nothing; dhcp is refused", () => {
	const db = open().store.db;
	const none = network("tnc-none", [], { ipam_options: { driver: "none" } });
	expect(allocate(db, none, { containerId: "ctr-a", attachment: "eth0" })).toEqual([]);
	const dhcp = { ...TINY, ipam_options: { driver: "dhcp" } };
	expect(() => allocate(db, dhcp, { containerId: "ctr-a", attachment: "eth0" })).toThrow(
		'unsupported ipam driver "dhcp"',
	);
	expect(listLeases(db)).toEqual([]);
});

test("an allocation inside an outer transaction commits or rolls back with it", () => {
	const { store } = open();
	const db = store.db;
	expect(() =>
		store.tx(() => {
			allocate(db, TINY, { containerId: "ctr-a", attachment: "eth0" });
			throw new Error("setup failed after the lease");
		}),
	).toThrow("setup failed after the lease");
	expect(listLeases(db)).toEqual([]);
	store.tx(() => allocate(db, TINY, { containerId: "ctr-a", attachment: "eth0" }));
	expect(addrs(listLeases(db))).toEqual(["10.236.11.2"]);
});
