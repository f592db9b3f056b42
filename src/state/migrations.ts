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
];
