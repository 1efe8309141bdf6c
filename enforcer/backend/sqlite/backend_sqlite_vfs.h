/*
 * backend_sqlite_vfs.h - internal: the VFS the SQLite backend opens registers
 * with: SQLite's default VFS, except that a rollback journal's appends are
 * gathered in memory and written to the file in runs.
 *
 * Why: SQLite journals a page in three writes (its number, its bytes, a
 * checksum), each a system call into the file system. A full-policy run at
 * 100,000 customers made some 770,000 of them, about a second of the run's
 * CPU time; gathered, the run's writes fell from 1.17 million to 0.40 million
 * (docs/performance.md).
 *
 * Contract (what makes it exactly as safe as the default VFS):
 *  - Only the rollback journal of a main database (SQLITE_OPEN_MAIN_JOURNAL)
 *    whose database file was opened through this VFS is gathered. The
 *    database, its WAL, statement journals and temporary files go straight
 *    to the default VFS.
 *  - The buffer holds one run: bytes SQLite wrote at consecutive offsets that
 *    are not yet in the file. A write that does not extend the run, or would
 *    grow it past LETHE_JOURNAL_RUN bytes, writes the run first.
 *  - The run is written before anything else is done to the journal (read,
 *    size, truncate, sync, close; file controls read no journal bytes) and
 *    before its database file is synced, truncated or unlocked.
 *  - A write of the database waits for the run too, unless the connection has
 *    set PRAGMA synchronous to FULL or EXTRA (the backend does on every
 *    connection; the VFS sees it through SQLITE_FCNTL_PRAGMA). SQLite then
 *    syncs the journal, and so writes the run, before it writes any page
 *    the journal must undo: the run only ever holds records of pages the
 *    database file has not changed. The VFS never claims
 *    SQLITE_IOCAP_SEQUENTIAL or SQLITE_IOCAP_SAFE_APPEND, which would let
 *    SQLite skip those syncs.
 *  - So a process killed at any instant leaves the files as the default VFS
 *    can leave them: waiting, in a state it passes through (journal bytes
 *    reach the file later, never after a change of the database that
 *    follows them); syncing, in the state a power cut at that instant can
 *    leave (journal bytes not yet synced lost), which synchronous FULL is
 *    there to survive. SQLite's hot-journal rollback repairs either.
 *  - A run that cannot be written (a full disk) fails the operation that
 *    wrote it. From then on, until SQLite closes the journal, every write
 *    and sync of the journal fails with the same code (SQLite believes the
 *    lost bytes written: a later success would let it write the database
 *    pages they undo), and so does every write of a database that waits for
 *    the run. Reading the journal and writing the database on a syncing
 *    connection go ahead: SQLite rolls back from what the journal's file
 *    holds, as it does with the default VFS, and the pages whose records
 *    were lost were never written.
 *  - The buffer holds the pre-images of the pages being changed, as SQLite's
 *    page cache does; it is wiped when the journal is closed.
 *
 * Process-wide state: the VFS object SQLite keeps a pointer to, filled and
 * registered once (pthread_once), never changed after.
 */
#ifndef LETHE_BACKEND_SQLITE_VFS_H
#define LETHE_BACKEND_SQLITE_VFS_H

/* SQLite's unix VFS writes at most 128 KiB - 1 bytes in one call: a run fits. */
#define LETHE_JOURNAL_RUN (124 * 1024)

/* The name to pass to sqlite3_open_v2() (registered on the first call, not
 * as the default VFS), or NULL when it could not be registered: the default
 * VFS is then used, slower and as safe. Call it after any sqlite3_config():
 * it initialises SQLite. */
const char *lethe_sqlite_vfs(void);

#endif
