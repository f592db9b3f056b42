// Schema migrations, applied in order; PRAGMA user_version records how many ran.
export const MIGRATIONS: string[] = [
	`CREATE TABLE containers (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		doc TEXT NOT NULL
	);
	CREATE TABLE events (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		time TEXT NOT NULL,
		id TEXT NOT NULL,
		type TEXT NOT NULL,
		network TEXT
	);`,
	// IPAM (src/ipam): one row per leased address (address_key: the address as fixed-width hex,
	// which sorts in address order); the last automatic choice per subnet, for host-local's round
	// robin.
	`CREATE TABLE ipam_leases (
		network TEXT NOT NULL,
		subnet TEXT NOT NULL,
		address TEXT NOT NULL,
		address_key TEXT NOT NULL,
		container_id TEXT NOT NULL,
		attachment TEXT NOT NULL,
		created TEXT NOT NULL,
		PRIMARY KEY (network, address)
	) WITHOUT ROWID;
	CREATE INDEX ipam_leases_order ON ipam_leases (network, subnet, address_key);
	CREATE INDEX ipam_leases_container ON ipam_leases (container_id, network);
	CREATE TABLE ipam_cursors (
		network TEXT NOT NULL,
		subnet TEXT NOT NULL,
		last_address TEXT NOT NULL,
		PRIMARY KEY (network, subnet)
	) WITHOUT ROWID;`,
];
