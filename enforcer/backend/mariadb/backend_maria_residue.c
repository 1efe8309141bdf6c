/*
 * backend_maria_residue.c - what a disposal leaves in a MariaDB server's
 * files, stated as levels (engines.md section 3, docs/disposal.md
 * "MariaDB"), and the work that reaches them after the last batch:
 *   R0 logical: committed; the keys answer no query (every run reaches it).
 *   R1 tablespaces: each changed table rebuilt (OPTIMIZE TABLE: a new .ibd,
 *      the old one unlinked), which leaves none of the delete-marked or
 *      purged records InnoDB keeps in its pages.
 *   R2 logs on this node: the binary log rotated and every earlier file
 *      purged (FLUSH BINARY LOGS, PURGE BINARY LOGS TO the new one), and the
 *      redo log replaced by resizing it (SET GLOBAL innodb_log_file_size,
 *      MariaDB 10.9+: a new ib_logfile0 starting at the current checkpoint,
 *      twice so the size is as before).
 * The level reached per table, and what held a higher one back (a
 * compressed row format, the system tablespace, a missing privilege, a
 * connected replica), is one warning line each, which the run records in
 * its completion. Never a bare "clean".
 *
 * Invariants:
 *  - Nothing here runs inside a transaction (OPTIMIZE commits implicitly);
 *    it runs on the writing session, which holds the run lock.
 *  - A level that is blocked is never claimed; finalise then returns 1 and
 *    the clean-up stays owed for the next run.
 *  - Server settings are read, never changed, except the redo log's size,
 *    which is set back to its value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "backend_maria.h"
#include "lethe/error.h"

int lethe_maria_note_changed(lethe_maria *be, const char *table)
{
	lethe_value v[1] = { { .type = LETHE_VALUE_TEXT, .s = table, .len = strlen(table) } };
	lethe_maria_result *r = NULL;
	int rc = 0;

	if (!lethe_strvec_contains(&be->changed, table) &&
	    (rc = lethe_strvec_push(&be->changed, table)) < 0)
		return rc;
	/* rows of dependents change with it: cascade, set null, set default */
	if ((rc = lethe_maria_exec(&r, be, "read the foreign keys",
				   "WITH RECURSIVE d(t) AS (SELECT CAST(? AS CHAR(64)) UNION SELECT "
				   "rc.table_name FROM information_schema.referential_constraints rc "
				   "JOIN d ON d.t = rc.referenced_table_name WHERE rc.constraint_schema = "
				   "DATABASE() AND rc.delete_rule IN ('CASCADE', 'SET NULL', 'SET DEFAULT')) "
				   "SELECT t FROM d", 1, v)) < 0)
		return rc;
	for (size_t i = 0; i < r->nrows && rc == 0; i++)
		if (!lethe_strvec_contains(&be->changed, r->cells[i * r->ncols]))
			rc = lethe_strvec_push(&be->changed, r->cells[i * r->ncols]);
	lethe_maria_result_free(r);
	return rc;
}

/* The user tables (when this session changed none: clean-up owed by an
 * earlier run, whose tables are not known any more). */
static int all_tables(lethe_maria *be)
{
	lethe_maria_result *r = NULL;
	int rc;

	if ((rc = lethe_maria_exec(&r, be, "list the tables", "SELECT table_name FROM "
				   "information_schema.tables WHERE table_schema = DATABASE() AND "
				   "table_type = 'BASE TABLE' AND table_name NOT LIKE 'lethe\\_%' "
				   "ORDER BY 1", 0, NULL)) < 0)
		return rc;
	for (size_t i = 0; i < r->nrows && rc == 0; i++)
		rc = lethe_strvec_push(&be->changed, r->cells[i]);
	lethe_maria_result_free(r);
	return rc;
}

static int report(lethe_warnings *w, lethe_maria *be, int level, const char *blocked)
{
	int rc = 0;

	for (size_t i = 0; i < be->changed.n && rc == 0; i++)
		rc = lethe_warnings_add(w, "residue of '%s' in '%s': level R%d reached%s%s",
					be->changed.v[i], be->label, level, blocked && *blocked ? "; " : "",
					blocked && *blocked ? blocked : "");
	return rc;
}

/* A blocked level: reported at the level below, clean-up stays owed (1). */
static int blocked(lethe_warnings *w, lethe_maria *be, int level, const char *why)
{
	int rc = report(w, be, level, why);

	return rc < 0 ? rc : 1;
}

/* What keeps a rebuild from leaving clean files: a table in the system
 * tablespace (innodb_file_per_table off when it was made: its old pages
 * stay in ibdata1) or in a compressed format (a byte scan cannot verify it).
 * "" when none. */
int lethe_maria_rebuild_blockers(lethe_strbuf *out, lethe_maria *be, const char *table)
{
	lethe_value v[1] = { { .type = LETHE_VALUE_TEXT, .s = table, .len = strlen(table) } };
	lethe_maria_result *r = NULL;
	int rc;

	rc = lethe_maria_exec(&r, be, "read the table's format",
			      "SELECT coalesce(t.row_format, ''), coalesce(t.create_options, ''), "
			      "coalesce((SELECT s.space FROM information_schema.innodb_sys_tables s "
			      "WHERE s.name = CONCAT(DATABASE(), '/', t.table_name)), -1), "
			      "@@innodb_file_per_table FROM information_schema.tables t WHERE "
			      "t.table_schema = DATABASE() AND t.table_name = ?", 1, v);
	if (rc < 0)
		return rc;
	if (r->nrows) {
		const char *fmt = r->cells[0], *opts = r->cells[1], *space = r->cells[2],
			   *fpt = r->cells[3];

		if (!strcasecmp(fmt, "Compressed") || strstr(opts, "PAGE_COMPRESSED=") ||
		    strstr(opts, "page_compressed="))
			lethe_strbuf_addf(out, "%s'%s' is compressed (ROW_FORMAT=COMPRESSED or "
					  "PAGE_COMPRESSED: its bytes cannot be verified)",
					  out->len ? ", " : "", table);
		if (space && !strcmp(space, "0"))
			lethe_strbuf_addf(out, "%s'%s' lives in the system tablespace (ibdata1 keeps "
					  "its old pages)", out->len ? ", " : "", table);
		else if (fpt && !strcmp(fpt, "0"))
			lethe_strbuf_addf(out, "%sinnodb_file_per_table is OFF (a rebuild of '%s' "
					  "writes into ibdata1)", out->len ? ", " : "", table);
	}
	lethe_maria_result_free(r);
	return 0;
}

/* OPTIMIZE TABLE on InnoDB: "recreate + analyze"; an error row fails. */
static int rebuild(lethe_maria *be, const char *table, char *why, size_t size)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_maria_result *r = NULL;
	int rc;

	lethe_strbuf_adds(&s, "OPTIMIZE TABLE ");
	lethe_maria_ident(&s, table);
	rc = lethe_maria_exec(&r, be, "rebuild a table", lethe_strbuf_str(&s), 0, NULL);
	lethe_strbuf_release(&s);
	if (rc < 0) {
		snprintf(why, size, "%s", lethe_error_last());
		return rc;
	}
	for (size_t i = 0; i < r->nrows && r->ncols >= 4; i++)
		if (r->cells[i * r->ncols + 2] && !strcasecmp(r->cells[i * r->ncols + 2], "error")) {
			snprintf(why, size, "%s", r->cells[i * r->ncols + 3] ? r->cells[i * r->ncols + 3]
								       : "error");
			rc = LETHE_EDATA;
		}
	lethe_maria_result_free(r);
	return rc;
}

/* The binary log rotated and every earlier file purged; "" in why when
 * done. MariaDB keeps a file until its transactions are durable in InnoDB
 * (the binlog checkpoint, a background step): PURGE then leaves it in
 * place without an error, so the files left are counted and the purge
 * tried again for up to PURGE_WAIT_MS. */
#define PURGE_WAIT_MS 10000

static int purge_binlog(lethe_strbuf *why, lethe_maria *be)
{
	lethe_maria_result *cur = NULL, *all = NULL;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	int rc, waited = 0;

	if ((rc = lethe_maria_exec(NULL, be, "rotate the binary log", "FLUSH BINARY LOGS", 0,
				   NULL)) < 0 ||
	    (rc = lethe_maria_exec(&cur, be, "read the binary log", "SHOW MASTER STATUS", 0,
				   NULL)) < 0 || !cur->nrows || !cur->cells[0]) {
		lethe_strbuf_addf(why, "%sthe binary log could not be rotated: %s",
				  why->len ? ", " : "", rc < 0 ? lethe_error_last() : "no current file");
		lethe_maria_result_free(cur);
		return 0;
	}
	/* PURGE takes no parameter: the file name is the server's own */
	lethe_strbuf_adds(&s, "PURGE BINARY LOGS TO '");
	for (const char *p = cur->cells[0]; *p; p++)
		if (*p != '\'' && *p != '\\')
			lethe_strbuf_addch(&s, *p);
	lethe_strbuf_adds(&s, "'");
	for (;;) {
		lethe_maria_result_free(all);
		all = NULL;
		if ((rc = lethe_maria_exec(NULL, be, "purge the binary log", lethe_strbuf_str(&s), 0,
					   NULL)) < 0 ||
		    (rc = lethe_maria_exec(&all, be, "list the binary log", "SHOW BINARY LOGS", 0,
					   NULL)) < 0) {
			lethe_strbuf_addf(why, "%sthe binary log could not be purged: %s",
					  why->len ? ", " : "", lethe_error_last());
			rc = 0;
			break;
		}
		if (all->nrows <= 1)
			break;
		if (waited >= PURGE_WAIT_MS) {
			lethe_strbuf_addf(why, "%sbinary log file '%s' (written before the disposal) "
					  "is still kept by the server after %d s", why->len ? ", " : "",
					  all->cells[0] ?
					  all->cells[0] : "?", PURGE_WAIT_MS / 1000);
			break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 100 * 1000 * 1000 }, NULL);
		waited += 100;
	}
	lethe_strbuf_release(&s);
	lethe_maria_result_free(cur);
	lethe_maria_result_free(all);
	return rc;
}

/* R2: rotate and purge the binary log, replace the redo log. "" in why
 * when done. */
static int logs(lethe_strbuf *why, lethe_maria *be)
{
	lethe_maria_result *r = NULL;
	char buf[512];
	int rc;

	rc = lethe_maria_exec(&r, be, "read the log settings",
			      "SELECT @@log_bin, @@innodb_log_file_size, (SELECT count(*) FROM "
			      "information_schema.processlist WHERE command LIKE 'Binlog Dump%')",
			      0, NULL);
	if (rc < 0)
		return rc;
	/* the redo log first (its checkpoint also lets the binary log's files
	 * go): resized away and back, each resize a fresh file */
	{
		long long size = r->cells[1] ? atoll(r->cells[1]) : 0;
		lethe_value v[1] = { { .type = LETHE_VALUE_INTEGER, .i = size + (1 << 20) } };

		rc = lethe_maria_exec(NULL, be, "replace the redo log",
				      "SET GLOBAL innodb_log_file_size = ?", 1, v);
		if (rc == 0) {
			v[0].i = size;
			rc = lethe_maria_exec(NULL, be, "replace the redo log",
					      "SET GLOBAL innodb_log_file_size = ?", 1, v);
		}
		if (rc < 0) {
			snprintf(buf, sizeof(buf), "%s", lethe_error_last());
			lethe_strbuf_addf(why, "%sthe redo log keeps pre-images until it wraps (%s)",
					  why->len ? ", " : "", buf);
			rc = 0;
		}
	}
	if (r->cells[0] && strcmp(r->cells[0], "0")) {
		if (r->cells[2] && strcmp(r->cells[2], "0")) {
			lethe_strbuf_addf(why, "%s%s replica(s) read the binary log (it is not "
					  "purged under them)", why->len ? ", " : "", r->cells[2]);
			goto out;
		}
		rc = purge_binlog(why, be);
	}
out:
	lethe_maria_result_free(r);
	return rc;
}

int lethe_maria_finalise(lethe_backend *base, lethe_warnings *warnings, unsigned flags)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_strbuf why = LETHE_STRBUF_INIT, msg = LETHE_STRBUF_INIT;
	char buf[512];
	int rc, want = flags & LETHE_FINALISE_NO_VACUUM ? 0 : flags & LETHE_FINALISE_NO_WAL ? 1 : 2;

	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "finalise inside a transaction");
	if (be->changed.n == 0 && (rc = all_tables(be)) < 0)
		return rc;
	if (want == 0) {
		rc = report(warnings, be, 0, "R1 and R2 not wanted (residue: R0): disposed bytes stay in "
			    "the tablespaces (delete-marked, then purged but not wiped), the redo log "
			    "and the binary log until the server overwrites them");
		return rc < 0 ? rc : 0;
	}
	/* R1: rebuild each changed table */
	for (size_t i = 0; i < be->changed.n; i++)
		if ((rc = lethe_maria_rebuild_blockers(&why, be, be->changed.v[i])) < 0)
			goto out;
	if (why.len) {
		lethe_strbuf_addf(&msg, "R1 blocked: %s (clean-up stays owed)", lethe_strbuf_str(&why));
		rc = blocked(warnings, be, 0, lethe_strbuf_str(&msg));
		goto out;
	}
	/* a rebuild waits for the table's metadata lock, and every new query
	 * of the table queues behind it: waited for 10 s at most */
	if ((rc = lethe_maria_exec(NULL, be, "bound the metadata lock wait",
				   "SET SESSION lock_wait_timeout = 10", 0, NULL)) < 0)
		goto out;
	for (size_t i = 0; i < be->changed.n; i++)
		if ((rc = rebuild(be, be->changed.v[i], buf, sizeof(buf))) < 0) {
			lethe_strbuf_addf(&msg, "R1 blocked: %s%s (clean-up stays owed)", buf,
					  rc == LETHE_ENOPERM ? " (missing privilege: the maintenance "
					  "account needs ALTER and INSERT on the table)" : "");
			rc = blocked(warnings, be, 0, lethe_strbuf_str(&msg));
			goto out;
		}
	if (want == 1) {
		rc = report(warnings, be, 1, "R2 not wanted (residue: R1): the redo log and the binary "
			    "log may hold pre-images until they are overwritten or purged");
		rc = rc < 0 ? rc : 0;
		goto out;
	}
	if ((rc = logs(&why, be)) < 0)
		goto out;
	if (why.len) {
		lethe_strbuf_addf(&msg, "R2 blocked: %s", lethe_strbuf_str(&why));
		rc = blocked(warnings, be, 1, lethe_strbuf_str(&msg));
		goto out;
	}
	rc = report(warnings, be, 2, "not claimed: binary logs already copied elsewhere, replicas, "
		    "backups, the undo tablespaces' freed pages, server logs");
	rc = rc < 0 ? rc : 0;
out:
	lethe_strbuf_release(&why);
	lethe_strbuf_release(&msg);
	return rc;
}

/* The server's settings as one row: see residue_check. */
static const char settings_sql[] =
	"SELECT @@innodb_immediate_scrub_data_uncompressed, @@log_bin, @@binlog_format, "
	"@@binlog_row_image, @@binlog_expire_logs_seconds, @@general_log, @@slow_query_log, "
	"@@long_query_time, @@version, (SELECT count(*) FROM information_schema.processlist "
	"WHERE command LIKE 'Binlog Dump%')";

int lethe_maria_residue_check(lethe_backend *base, const char *const *tables, size_t ntables,
			      unsigned flags, lethe_warnings *w)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_strbuf why = LETHE_STRBUF_INIT;
	lethe_maria_result *r = NULL;
	const char *const *c;
	int rc, want = flags & LETHE_FINALISE_NO_VACUUM ? 0 : flags & LETHE_FINALISE_NO_WAL ? 1 : 2;

	if ((rc = lethe_maria_exec(&r, be, "read the server's settings", settings_sql, 0, NULL)) < 0)
		return rc;
	c = (const char *const *)r->cells;
	/* values first: a log that records them defeats every level */
	if (c[5] && !strcmp(c[5], "1"))
		rc = lethe_warnings_add(w, "'%s': general_log is ON: MariaDB writes every statement "
					"with its parameter values into it, the disposed keys and "
					"subjects included; turn it off for Lethe's account", be->label);
	if (rc == 0 && c[6] && !strcmp(c[6], "1") && c[7] && atof(c[7]) < 10)
		rc = lethe_warnings_add(w, "'%s': slow_query_log is ON with long_query_time %s s: "
					"statements slower than that are logged with their parameter "
					"values", be->label, c[7]);
	if (rc == 0 && c[0] && !strcmp(c[0], "0"))
		rc = lethe_warnings_add(w, "'%s': innodb_immediate_scrub_data_uncompressed is OFF: "
					"purged rows keep their bytes in the tablespace pages%s",
					be->label, want ? " until the rebuild after each run (R1)"
					: " (residue: R0 leaves them there)");
	if (rc == 0 && c[1] && strcmp(c[1], "0") && c[3] && !strcmp(c[3], "FULL") && c[4] &&
	    !strcmp(c[4], "0"))
		rc = lethe_warnings_add(w, "'%s': the binary log (binlog_format %s, binlog_row_image "
					"FULL) keeps every disposed row's before-image and never expires "
					"(binlog_expire_logs_seconds 0)%s", be->label, c[2] ? c[2] : "?",
					want == 2 ? "; each run purges it (R2)" :
					": set residue: R2, or an expiry");
	if (rc == 0 && want == 2 && c[9] && strcmp(c[9], "0"))
		rc = lethe_warnings_add(w, "'%s': R2 is out of reach: %s replica(s) read the binary "
					"log, which is not purged under them", be->label, c[9]);
	if (rc == 0 && want == 2 && c[8] && (atoi(c[8]) < 10 || (atoi(c[8]) == 10 &&
					      atoi(strchr(c[8], '.') ? strchr(c[8], '.') + 1 : "0") < 9)))
		rc = lethe_warnings_add(w, "'%s': R2 is out of reach: server %s cannot replace its redo "
					"log (MariaDB 10.9 or later resizes it); it keeps pre-images "
					"until it wraps", be->label, c[8]);
	lethe_maria_result_free(r);
	for (size_t i = 0; i < ntables && rc == 0 && want >= 1; i++) {
		size_t j;

		for (j = 0; j < i && strcmp(tables[j], tables[i]); j++)
			;
		if (j < i)
			continue;
		lethe_strbuf_reset(&why);
		if ((rc = lethe_maria_rebuild_blockers(&why, be, tables[i])) == 0 && why.len)
			rc = lethe_warnings_add(w, "'%s': R1 is out of reach: %s", be->label,
						lethe_strbuf_str(&why));
	}
	lethe_strbuf_release(&why);
	return rc;
}
