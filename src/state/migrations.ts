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
	// The host ports every container publishes, one row per mapping, kept in step with the record
	// by the store: a setup's port check reads these rows instead of every record's JSON. Filled
	// from the records already stored.
	`CREATE TABLE host_ports (
		container_id TEXT NOT NULL,
		protocol TEXT NOT NULL,
		host_port INTEGER NOT NULL
	);
	CREATE INDEX host_ports_container ON host_ports (container_id);
	INSERT INTO host_ports (container_id, protocol, host_port)
		SELECT c.id, json_extract(p.value, '$.protocol'), json_extract(p.value, '$.hostPort')
		FROM containers c, json_each(c.doc, '$.ports') p
		WHERE json_valid(c.doc)
			AND json_extract(p.value, '$.protocol') IS NOT NULL
			AND json_extract(p.value, '$.hostPort') IS NOT NULL
		ORDER BY c.id;`,
	// Each container's networks with the backend that attached them (NULL: none recorded, which
	// means cni), kept in step like host_ports: the native backend's bridge check finds the cni
	// containers without parsing every record.
	`CREATE TABLE attachments (
		container_id TEXT NOT NULL,
		network TEXT NOT NULL,
		backend TEXT
	);
	CREATE INDEX attachments_container ON attachments (container_id);
	INSERT INTO attachments (container_id, network, backend)
		SELECT c.id, n.value,
			(SELECT b.value FROM json_each(c.doc, '$.backends') b WHERE b.key = n.value)
		FROM containers c, json_each(c.doc, '$.networks') n
		WHERE json_valid(c.doc)
		ORDER BY c.id;`,
];
