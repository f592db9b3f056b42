// host-local IPAM inside ctrnet's state database (DESIGN 10): a lease is a row, and every
// allocation is one IMMEDIATE transaction, so any number of ctrnet processes can allocate on one
// network at once with sqlite's write lock as the only lock. Inside an outer transaction (a setup
// recording its container in the same commit) the allocation becomes a savepoint of it.
import type { Database } from "bun:sqlite";
import { ConflictError, UsageError } from "../errors";
import { formatAddress } from "../ip/cidr";
import { ipamDriver, type NetworkDef } from "../netconf/schema";
import { canonicalIp } from "../netconf/validate";
import { writeTransaction } from "../state/write-gate";
import {
	addressKey,
	addressValue,
	checkStaticAddress,
	inSubnet,
	keyValue,
	type Pool,
	pickAddress,
	poolOf,
} from "./range";

export interface Lease {
	network: string;
	/** The subnet of the network the address belongs to ("10.89.0.0/24"). */
	subnet: string;
	address: string;
	containerId: string;
	/** What the address is for, e.g. the container's interface name. */
	attachment: string;
	/** ISO 8601. */
	created: string;
}

export interface AllocateRequest {
	containerId: string;
	attachment: string;
	/** Requested addresses (--ip): each inside one of the network's subnets, one per subnet at most. */
	staticIps?: readonly string[];
}

interface LeaseRow {
	network: string;
	subnet: string;
	address: string;
	container_id: string;
	attachment: string;
	created: string;
}

const COLUMNS = "network, subnet, address, container_id, attachment, created";
// By network, then subnet (text order; names and canonical CIDRs are ASCII), then address:
// address_key is fixed-width hex, one width per subnet (its family), so its text order is the
// address order, where that of `address` would put .10 before .2.
const ORDER = "ORDER BY network, subnet, address_key";

function toLease(r: LeaseRow): Lease {
	return {
		network: r.network,
		subnet: r.subnet,
		address: r.address,
		containerId: r.container_id,
		attachment: r.attachment,
		created: r.created,
	};
}

/** Each static IP matched to the index of the pool (the network's subnet entry) holding it. */
function matchStatics(
	network: NetworkDef,
	pools: readonly Pool[],
	ips: readonly string[],
): Map<number, string> {
	const bySubnet = new Map<number, string>();
	for (const raw of ips) {
		const ip = canonicalIp(raw, "static ip");
		const i = pools.findIndex((p) => inSubnet(p, ip));
		const pool = pools[i];
		if (!pool) {
			throw new UsageError(
				`requested static ip ${ip} not in any subnet on network ${network.name}`,
			);
		}
		const other = bySubnet.get(i);
		if (other !== undefined) {
			throw new UsageError(
				`static ips ${other} and ${ip} are both in subnet ${pool.text} of network ${network.name}`,
			);
		}
		checkStaticAddress(pool, ip, network.name);
		bySubnet.set(i, ip);
	}
	return bySubnet;
}

/**
 * Leases one address per subnet of `network` to the container, in the network's subnet order
 * (dual stack: one IPv4 and one IPv6): the requested static IP where one falls in that subnet,
 * otherwise the next free address after the subnet's last automatic choice. Nothing for a
 * network without IPAM (driver none, or no subnets). All or nothing, in one transaction.
 * Refuses: a static IP outside the subnets or on the network/broadcast/gateway address (usage),
 * a static IP leased to another container (conflict naming it), an exhausted range (conflict),
 * a container that already holds addresses on this network (conflict).
 */
export function allocate(db: Database, network: NetworkDef, req: AllocateRequest): Lease[] {
	const driver = ipamDriver(network);
	if (driver === "none" || network.subnets.length === 0) return [];
	if (driver !== "host-local") {
		throw new UsageError(`unsupported ipam driver ${JSON.stringify(driver)}`);
	}
	const pools = network.subnets.map(poolOf);
	const statics = matchStatics(network, pools, req.staticIps ?? []);
	const name = network.name;

	return writeTransaction(db, (): Lease[] => {
		const held = db
			.query("SELECT address FROM ipam_leases WHERE network = ? AND container_id = ?")
			.all(name, req.containerId) as { address: string }[];
		if (held.length > 0) {
			throw new ConflictError(
				`container ${req.containerId} already has addresses on network ${name}: ${held.map((h) => h.address).join(", ")}`,
			);
		}
		const holderOf = db.query(
			"SELECT container_id FROM ipam_leases WHERE network = ? AND address = ?",
		);
		const leasedFrom = db.query(
			`SELECT address_key FROM ipam_leases
				 WHERE network = ? AND subnet = ? AND address_key >= ? ORDER BY address_key`,
		);
		const cursorOf = db.query(
			"SELECT last_address FROM ipam_cursors WHERE network = ? AND subnet = ?",
		);
		const setCursor = db.query(
			`INSERT INTO ipam_cursors (network, subnet, last_address) VALUES (?, ?, ?)
				 ON CONFLICT (network, subnet) DO UPDATE SET last_address = excluded.last_address`,
		);
		const insert = db.query(
			`INSERT INTO ipam_leases (${COLUMNS}, address_key) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		);
		const created = new Date().toISOString();

		return pools.map((pool, i) => {
			let address = statics.get(i);
			if (address !== undefined) {
				const holder = holderOf.get(name, address) as { container_id: string } | null;
				if (holder) {
					throw new ConflictError(
						`requested ip address ${address} is already allocated to container ID ${holder.container_id}`,
					);
				}
			} else {
				const index = {
					*from(v: bigint) {
						const rows = leasedFrom.iterate(name, pool.text, addressKey(pool.subnet, v));
						for (const r of rows as Iterable<{ address_key: string }>)
							yield keyValue(r.address_key);
					},
				};
				const cursor = cursorOf.get(name, pool.text) as { last_address: string } | null;
				const last = cursor ? addressValue(cursor.last_address) : undefined;
				address = formatAddress(pool.subnet.family, pickAddress(pool, index, last, name));
				setCursor.run(name, pool.text, address);
			}
			const key = addressKey(pool.subnet, addressValue(address));
			insert.run(name, pool.text, address, req.containerId, req.attachment, created, key);
			return {
				network: name,
				subnet: pool.text,
				address,
				containerId: req.containerId,
				attachment: req.attachment,
				created,
			};
		});
	});
}

function deleting(db: Database, where: string, args: string[]): Lease[] {
	return writeTransaction(db, () => {
		const rows = db
			.query(`SELECT ${COLUMNS} FROM ipam_leases WHERE ${where} ${ORDER}`)
			.all(...args) as LeaseRow[];
		db.query(`DELETE FROM ipam_leases WHERE ${where}`).run(...args);
		return rows.map(toLease);
	});
}

/** Releases the container's addresses on one network; returns what was released (maybe none). */
export function release(db: Database, containerId: string, network: string): Lease[] {
	return deleting(db, "container_id = ? AND network = ?", [containerId, network]);
}

/** Releases every address the container holds, on every network. */
export function releaseAll(db: Database, containerId: string): Lease[] {
	return deleting(db, "container_id = ?", [containerId]);
}

/** Forgets a network entirely (its leases and its round-robin cursors): for `network rm`. */
export function forgetNetwork(db: Database, network: string): Lease[] {
	return writeTransaction(db, () => {
		const released = deleting(db, "network = ?", [network]);
		db.query("DELETE FROM ipam_cursors WHERE network = ?").run(network);
		return released;
	});
}

/** Leases, optionally of one network and/or one container, by network, subnet and address. */
export function listLeases(
	db: Database,
	filter: { network?: string; containerId?: string } = {},
): Lease[] {
	const where: string[] = [];
	const args: string[] = [];
	if (filter.network !== undefined) {
		where.push("network = ?");
		args.push(filter.network);
	}
	if (filter.containerId !== undefined) {
		where.push("container_id = ?");
		args.push(filter.containerId);
	}
	const sql = `SELECT ${COLUMNS} FROM ipam_leases${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ${ORDER}`;
	return (db.query(sql).all(...args) as LeaseRow[]).map(toLease);
}
