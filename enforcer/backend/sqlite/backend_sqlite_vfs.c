/*
 * backend_sqlite_vfs.c - SQLite's default VFS with a rollback journal's
 * appends gathered into runs (the contract is in backend_sqlite_vfs.h).
 *
 * Invariants:
 *  - A file is a DATABASE (a main database), a JOURNAL (its rollback journal)
 *    or PLAIN (anything else, passed through). A journal and its database
 *    point at each other (db, journal) or at nobody: linked when the journal
 *    opens, unlinked when either closes. A journal's run is its database's
 *    buf exactly while they are linked; an unlinked journal is passed
 *    through.
 *  - run[0..len) are the bytes SQLite wrote at off..off+len-1 and the file
 *    does not have yet; len is 0 whenever failed is set or run is NULL.
 *  - failed, once set, stays set until the journal closes: nothing more is
 *    written to the journal and it is never synced again.
 *  - buf is wiped whenever its journal is unlinked, so between transactions
 *    it holds no pre-image.
 * A pager uses its database and journal from one thread at a time, so a
 * linked pair needs no lock.
 */
#define _DEFAULT_SOURCE /* explicit_bzero */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include "backend_sqlite_vfs.h"

typedef struct vfs_file vfs_file;
struct vfs_file {
	sqlite3_file base;      /* first: what SQLite holds */
	sqlite3_file *real;     /* the default VFS's file, in the same allocation */
	enum { PLAIN, DATABASE, JOURNAL } kind;
	vfs_file *db;           /* JOURNAL: its database, while both are open */
	vfs_file *journal;      /* DATABASE: its journal, while both are open */
	unsigned char *buf;     /* DATABASE: the buffer its journals gather in */
	unsigned char *run;     /* JOURNAL: its database's buf while linked, else NULL */
	int len;                /* JOURNAL: run[0..len) are bytes for off.. */
	sqlite3_int64 off;
	int failed;             /* JOURNAL: the code of a run that could not be written */
	int syncs;              /* DATABASE: PRAGMA synchronous was set to FULL or EXTRA */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs lethe_vfs;
static const char *registered;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define REAL(f) (((vfs_file *)(f))->real)
#define METHODS(f) (REAL(f)->pMethods)

/* The journal whose run goes first: a journal's own, a database's journal's. */
static vfs_file *journal_of(vfs_file *f)
{
	return f->kind == JOURNAL ? f : f->kind == DATABASE ? f->journal : NULL;
}

/* Write a journal's run (f may be NULL); a journal whose run failed answers
 * with that failure. */
static int settle(vfs_file *f)
{
	int rc;

	if (!f || f->failed)
		return f ? f->failed : SQLITE_OK;
	if (!f->len)
		return SQLITE_OK;
	rc = METHODS(f)->xWrite(f->real, f->run, f->len, f->off);
	f->len = 0;
	if (rc != SQLITE_OK)
		f->failed = rc;
	return rc;
}

/* The same, for what only reads the journal's file or ends its transaction
 * (reading, sizing, truncating the journal; syncing, truncating, unlocking
 * the database): after a failed run nothing more reaches the journal, so
 * what its file holds is all there is and they go ahead. That is how SQLite
 * rolls back at once, as with the default VFS. */
static int settle_for_reading(vfs_file *f)
{
	return f && !f->failed ? settle(f) : SQLITE_OK;
}

/* Unlink a journal from its database: its run written, the buffer wiped (it
 * held pre-images), the journal passed through from then on. */
static int unlink_journal(vfs_file *j)
{
	int rc = settle(j);

	if (j->db) {
		explicit_bzero(j->run, LETHE_JOURNAL_RUN);
		j->db->journal = NULL;
	}
	j->db = NULL;
	j->run = NULL;
	return rc;
}

static int file_close(sqlite3_file *p)
{
	vfs_file *f = (vfs_file *)p;
	int rc = SQLITE_OK, rc2;

	if (f->kind == JOURNAL)
		rc = unlink_journal(f);
	if (f->kind == DATABASE) {
		/* SQLite closes a journal before its database; in case not */
		if (f->journal)
			(void)unlink_journal(f->journal);
		free(f->buf);
		f->buf = NULL;
	}
	rc2 = METHODS(f)->xClose(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int file_read(sqlite3_file *p, void *buf, int n, sqlite3_int64 off)
{
	vfs_file *f = (vfs_file *)p;
	int rc = settle_for_reading(f->kind == JOURNAL ? f : NULL);

	return rc != SQLITE_OK ? rc : METHODS(f)->xRead(f->real, buf, n, off);
}

static int file_write(sqlite3_file *p, const void *buf, int n, sqlite3_int64 off)
{
	vfs_file *f = (vfs_file *)p;
	int rc;

	if (f->kind == DATABASE && f->journal && !f->syncs) {
		/* SQLite syncing its journal before it writes a page the journal
		 * must undo, the run holds only other pages' records (and after
		 * a failed run the sync is refused); without those syncs the run
		 * goes first, and after a failed run nothing is written. */
		if ((rc = settle(f->journal)) != SQLITE_OK)
			return rc;
	}
	if (f->kind != JOURNAL)
		return METHODS(f)->xWrite(f->real, buf, n, off);
	if (f->failed)
		return f->failed;
	if (f->len && off == f->off + f->len && n <= LETHE_JOURNAL_RUN - f->len) {
		memcpy(f->run + f->len, buf, (size_t)n);
		f->len += n;
		return SQLITE_OK;
	}
	if ((rc = settle(f)) != SQLITE_OK)
		return rc;
	if (!f->run || n <= 0 || n > LETHE_JOURNAL_RUN)
		return METHODS(f)->xWrite(f->real, buf, n, off);
	memcpy(f->run, buf, (size_t)n);
	f->off = off;
	f->len = n;
	return SQLITE_OK;
}

static int file_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	int rc = settle_for_reading(journal_of((vfs_file *)p));

	return rc != SQLITE_OK ? rc : METHODS(p)->xTruncate(REAL(p), size);
}

static int file_sync(sqlite3_file *p, int flags)
{
	vfs_file *f = (vfs_file *)p;
	int rc = f->kind == JOURNAL ? settle(f) : settle_for_reading(f->journal);

	return rc != SQLITE_OK ? rc : METHODS(p)->xSync(REAL(p), flags);
}

static int file_size(sqlite3_file *p, sqlite3_int64 *size)
{
	vfs_file *f = (vfs_file *)p;
	int rc = settle_for_reading(f->kind == JOURNAL ? f : NULL);

	return rc != SQLITE_OK ? rc : METHODS(f)->xFileSize(f->real, size);
}

static int file_lock(sqlite3_file *p, int level)
{
	return METHODS(p)->xLock(REAL(p), level);
}

/* A database unlocks whatever its journal's run does: no page reaches the
 * database before the journal records that undo it are in the journal's
 * file, and a lock kept would stop every other connection. */
static int file_unlock(sqlite3_file *p, int level)
{
	(void)settle_for_reading(journal_of((vfs_file *)p));
	return METHODS(p)->xUnlock(REAL(p), level);
}

static int file_check_reserved(sqlite3_file *p, int *out)
{
	return METHODS(p)->xCheckReservedLock(REAL(p), out);
}

/* PRAGMA synchronous on a database: whether its new value is FULL or EXTRA
 * (SQLite hands every PRAGMA to the file first, see SQLITE_FCNTL_PRAGMA);
 * whether it is queried or set to anything else, it counts as not syncing. */
static void note_pragma(vfs_file *f, char **args)
{
	static const char *const syncing[] = { "2", "3", "full", "extra" };

	if (!args[1] || sqlite3_stricmp(args[1], "synchronous") != 0 || !args[2])
		return;
	f->syncs = 0;
	for (size_t i = 0; i < sizeof(syncing) / sizeof(syncing[0]); i++)
		if (sqlite3_stricmp(args[2], syncing[i]) == 0)
			f->syncs = 1;
}

static int file_control(sqlite3_file *p, int op, void *arg)
{
	vfs_file *f = (vfs_file *)p;

	/* No file control reads a journal's bytes; SQLite ignores the result
	 * of some, so none may be where a failed run surfaces. */
	if (op == SQLITE_FCNTL_PRAGMA && f->kind == DATABASE)
		note_pragma(f, arg);
	return METHODS(f)->xFileControl(f->real, op, arg);
}

static int file_sector_size(sqlite3_file *p)
{
	return METHODS(p)->xSectorSize(REAL(p));
}

/* A device that keeps writes in order (SEQUENTIAL) or appends safely would
 * let SQLite skip the journal syncs the runs wait for: never claimed. */
static int file_device(sqlite3_file *p)
{
	return METHODS(p)->xDeviceCharacteristics(REAL(p)) &
	       ~(SQLITE_IOCAP_SEQUENTIAL | SQLITE_IOCAP_SAFE_APPEND);
}

/* WAL and memory mapping: databases only, passed through. */
static int file_shm_map(sqlite3_file *p, int page, int size, int extend, void volatile **out)
{
	if (METHODS(p)->iVersion < 2)
		return SQLITE_IOERR_SHMMAP;
	return METHODS(p)->xShmMap(REAL(p), page, size, extend, out);
}

static int file_shm_lock(sqlite3_file *p, int offset, int n, int flags)
{
	if (METHODS(p)->iVersion < 2)
		return SQLITE_IOERR_SHMLOCK;
	return METHODS(p)->xShmLock(REAL(p), offset, n, flags);
}

static void file_shm_barrier(sqlite3_file *p)
{
	if (METHODS(p)->iVersion >= 2)
		METHODS(p)->xShmBarrier(REAL(p));
}

static int file_shm_unmap(sqlite3_file *p, int delete_flag)
{
	if (METHODS(p)->iVersion < 2)
		return SQLITE_OK;
	return METHODS(p)->xShmUnmap(REAL(p), delete_flag);
}

static int file_fetch(sqlite3_file *p, sqlite3_int64 off, int n, void **out)
{
	if (METHODS(p)->iVersion < 3) {
		*out = NULL;
		return SQLITE_OK;
	}
	return METHODS(p)->xFetch(REAL(p), off, n, out);
}

static int file_unfetch(sqlite3_file *p, sqlite3_int64 off, void *page)
{
	if (METHODS(p)->iVersion < 3)
		return SQLITE_OK;
	return METHODS(p)->xUnfetch(REAL(p), off, page);
}

static const sqlite3_io_methods file_methods = {
	3, file_close, file_read, file_write, file_truncate, file_sync, file_size, file_lock,
	file_unlock, file_check_reserved, file_control, file_sector_size, file_device,
	file_shm_map, file_shm_lock, file_shm_barrier, file_shm_unmap, file_fetch, file_unfetch,
};

static int vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags, int *out_flags)
{
	vfs_file *f = (vfs_file *)p;
	sqlite3_file *db;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK || !f->real->pMethods) {
		/* SQLite closes nothing whose pMethods is NULL; the default VFS has
		 * closed what it opened */
		p->pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	p->pMethods = &file_methods;
	if (flags & SQLITE_OPEN_MAIN_DB)
		f->kind = DATABASE;
	if (!(flags & SQLITE_OPEN_MAIN_JOURNAL))
		return SQLITE_OK;
	f->kind = JOURNAL;
	/* Gathered only when tied to its database, whose writes may have to wait
	 * for it; otherwise passed through. The buffer is the database's, made
	 * once: a journal lives for one transaction. */
	db = name ? sqlite3_database_file_object(name) : NULL;
	if (db && db->pMethods == &file_methods && ((vfs_file *)db)->kind == DATABASE &&
	    !((vfs_file *)db)->journal) {
		vfs_file *d = (vfs_file *)db;

		if (!d->buf)
			d->buf = malloc(LETHE_JOURNAL_RUN);
		if (d->buf) {
			f->db = d;
			f->run = d->buf;
			d->journal = f;
		}
	}
	return SQLITE_OK;
}

/* The rest of the VFS is the default's, called as the default. */
static int vfs_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	(void)v;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int vfs_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *vfs_dl_open(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void vfs_dl_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	real_vfs->xDlError(real_vfs, n, out);
}

static void (*vfs_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void vfs_dl_close(sqlite3_vfs *v, void *h)
{
	(void)v;
	real_vfs->xDlClose(real_vfs, h);
}

static int vfs_randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int vfs_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return real_vfs->xSleep(real_vfs, us);
}

static int vfs_current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int vfs_last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int vfs_current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static int vfs_set_syscall(sqlite3_vfs *v, const char *name, sqlite3_syscall_ptr ptr)
{
	(void)v;
	return real_vfs->xSetSystemCall(real_vfs, name, ptr);
}

static sqlite3_syscall_ptr vfs_get_syscall(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return real_vfs->xGetSystemCall(real_vfs, name);
}

static const char *vfs_next_syscall(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return real_vfs->xNextSystemCall(real_vfs, name);
}

static void register_vfs(void)
{
	sqlite3_vfs *real = sqlite3_vfs_find(NULL);

	if (!real || real->szOsFile <= 0)
		return;
	real_vfs = real;
	lethe_vfs = (sqlite3_vfs){
		.iVersion = real->iVersion < 3 ? real->iVersion : 3,
		.szOsFile = (int)sizeof(vfs_file) + real->szOsFile,
		.mxPathname = real->mxPathname,
		.zName = "lethe",
		.xOpen = vfs_open,
		.xDelete = vfs_delete,
		.xAccess = vfs_access,
		.xFullPathname = vfs_full_pathname,
		.xDlOpen = real->xDlOpen ? vfs_dl_open : NULL,
		.xDlError = real->xDlError ? vfs_dl_error : NULL,
		.xDlSym = real->xDlSym ? vfs_dl_sym : NULL,
		.xDlClose = real->xDlClose ? vfs_dl_close : NULL,
		.xRandomness = vfs_randomness,
		.xSleep = vfs_sleep,
		.xCurrentTime = vfs_current_time,
		.xGetLastError = vfs_last_error,
	};
	if (real->iVersion >= 2 && real->xCurrentTimeInt64)
		lethe_vfs.xCurrentTimeInt64 = vfs_current_time64;
	if (real->iVersion >= 3 && real->xSetSystemCall) {
		lethe_vfs.xSetSystemCall = vfs_set_syscall;
		lethe_vfs.xGetSystemCall = vfs_get_syscall;
		lethe_vfs.xNextSystemCall = vfs_next_syscall;
	}
	if (sqlite3_vfs_register(&lethe_vfs, 0) == SQLITE_OK)
		registered = lethe_vfs.zName;
}

const char *lethe_sqlite_vfs(void)
{
	pthread_once(&once, register_vfs);
	return registered;
}
