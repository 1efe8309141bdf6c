/*
 * backend_pg_residue.c - what a disposal leaves in a PostgreSQL server's
 * files, stated as levels (engines.md section 3, docs/disposal.md
 * "PostgreSQL"), and the work that reaches them after the last batch:
 *   R0 logical: committed; the keys answer no query (every run reaches it).
 *   R1 relation files: each changed table rewritten (VACUUM FULL: heap,
 *      TOAST, indexes) once no snapshot older than the disposal remains,
 *      statistics re-sampled (ANALYZE) and pg_statistic rewritten, then a
 *      CHECKPOINT, after which the old files are unlinked.
 *   R2 WAL on this node: pg_switch_wal() and CHECKPOINT, (segments + 1)
 *      times, so no segment, live or recycled, holds a pre-image.
 * The level reached per table, and why a higher one was blocked (a snapshot
 * held by a pid, a replication slot, wal_compression, a missing privilege),
 * is one warning line each, which the run records in its completion. Never
 * a bare "clean".
 *
 * Invariants:
 *  - Nothing here runs inside a transaction (VACUUM cannot); it runs on the
 *    writing session, which holds the run lock.
 *  - A level that is blocked is never claimed; finalise then returns 1 and
 *    the clean-up stays owed for the next run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_pg.h"
#include "lethe/error.h"

int lethe_pg_note_changed(lethe_pg *be, const char *table)
{
	const char *p[1] = { table };
	PGresult *res = NULL;
	int rc = 0;

	if (!lethe_strvec_contains(&be->changed, table) &&
	    (rc = lethe_strvec_push(&be->changed, table)) < 0)
		return rc;
	/* rows of dependents change with it: cascade, set null, set default */
	if ((rc = lethe_pg_exec(&res, be, "read the foreign keys",
				"WITH RECURSIVE d(t) AS (SELECT $1::name UNION SELECT cc.relname FROM "
				"pg_constraint c JOIN pg_class cc ON cc.oid = c.conrelid JOIN pg_class pc ON "
				"pc.oid = c.confrelid JOIN d ON d.t = pc.relname WHERE c.contype = 'f' AND "
				"c.confdeltype IN ('c', 'n', 'd')) SELECT t FROM d", 1, p)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		if (!lethe_strvec_contains(&be->changed, PQgetvalue(res, i, 0)))
			rc = lethe_strvec_push(&be->changed, PQgetvalue(res, i, 0));
	PQclear(res);
	return rc;
}

/* Run one utility statement outside a transaction; the server's reason in
 * why (and its code returned) on failure. */
static int utility(lethe_pg *be, const char *sql, char *why, size_t size)
{
	PGresult *res = PQexec(be->conn, sql);
	int rc = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		lethe_pg_why(why, size, be, res);
		rc = st && !strcmp(st, "42501") ? LETHE_ENOPERM : lethe_pg_code(res);
	}
	PQclear(res);
	return rc;
}

/* What keeps a rewrite from being clean: snapshots that may still see the
 * disposed rows, replication slots, prepared transactions. "" when none. */
static int horizon_blockers(lethe_strbuf *out, lethe_pg *be)
{
	PGresult *res = NULL;
	int rc;

	rc = lethe_pg_exec(&res, be, "read the snapshot horizon",
			   "SELECT 'a snapshot held by server process pid ' || pid FROM pg_stat_activity "
			   "WHERE pid <> pg_backend_pid() AND backend_xmin IS NOT NULL UNION ALL "
			   "SELECT 'replication slot ' || quote_literal(slot_name) FROM pg_replication_slots "
			   "WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL UNION ALL "
			   "SELECT 'prepared transaction ' || quote_literal(gid) FROM pg_prepared_xacts "
			   "ORDER BY 1", 0, NULL);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res); i++)
		lethe_strbuf_addf(out, "%s%s", i ? ", " : "", PQgetvalue(res, i, 0));
	PQclear(res);
	return 0;
}

/* The user tables (when this session changed none: clean-up owed by an
 * earlier run, whose tables are not known any more). */
static int all_tables(lethe_pg *be)
{
	PGresult *res = NULL;
	int rc;

	if ((rc = lethe_pg_exec(&res, be, "list the tables", "SELECT c.relname FROM pg_class c JOIN "
				"pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') AND "
				"n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'lethe' ORDER BY 1",
				0, NULL)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		rc = lethe_strvec_push(&be->changed, PQgetvalue(res, i, 0));
	PQclear(res);
	return rc;
}

/* R2's preconditions: "" when WAL can be cycled clean, else why not. */
static int wal_blockers(lethe_strbuf *out, lethe_pg *be, int *segments)
{
	PGresult *res = NULL;
	int rc;

	rc = lethe_pg_exec(&res, be, "read the WAL settings",
			   "SELECT current_setting('wal_compression'), "
			   "(SELECT count(*) FROM pg_replication_slots), "
			   "current_setting('wal_keep_size'), "
			   "(SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$')", 0, NULL);
	if (rc == LETHE_ENOPERM) {
		lethe_strbuf_adds(out, "missing privilege to list pg_wal (pg_monitor)");
		return 0;
	}
	if (rc < 0)
		return rc;
	if (strcmp(PQgetvalue(res, 0, 0), "off"))
		lethe_strbuf_adds(out, "wal_compression is on (compressed images cannot be verified)");
	if (strcmp(PQgetvalue(res, 0, 1), "0"))
		lethe_strbuf_addf(out, "%s%s replication slot(s) keep old segments", out->len ? ", " : "",
				  PQgetvalue(res, 0, 1));
	if (strcmp(PQgetvalue(res, 0, 2), "0"))
		lethe_strbuf_addf(out, "%swal_keep_size is %s", out->len ? ", " : "", PQgetvalue(res, 0, 2));
	*segments = atoi(PQgetvalue(res, 0, 3));
	PQclear(res);
	return 0;
}

static int report(lethe_warnings *w, lethe_pg *be, int level, const char *blocked)
{
	int rc = 0;

	for (size_t i = 0; i < be->changed.n && rc == 0; i++)
		rc = lethe_warnings_add(w, "residue of '%s' in '%s': level R%d reached%s%s", be->changed.v[i],
					be->label, level, blocked && *blocked ? "; " : "",
					blocked && *blocked ? blocked : "");
	return rc;
}

int lethe_pg_finalise(lethe_backend *base, lethe_warnings *warnings, unsigned flags)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_strbuf why = LETHE_STRBUF_INIT, sql = LETHE_STRBUF_INIT;
	char msg[512];
	int rc, segments = 0, want = flags & LETHE_FINALISE_NO_VACUUM ? 0 : flags & LETHE_FINALISE_NO_WAL ? 1 : 2;

	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "finalise inside a transaction");
	if (be->changed.n == 0 && (rc = all_tables(be)) < 0)
		return rc;
	if (want == 0) {
		rc = report(warnings, be, 0, "R1 and R2 not wanted (residue: R0): disposed bytes stay in "
			    "relation files and WAL until the server rewrites them");
		return rc < 0 ? rc : 0;
	}
	/* R1: no snapshot may still see the disposed rows, or the rewrite
	 * copies them into the new files */
	if ((rc = horizon_blockers(&why, be)) < 0)
		goto out;
	if (why.len) {
		lethe_strbuf_reset(&sql);
		lethe_strbuf_addf(&sql, "R1 blocked: %s (clean-up stays owed)", lethe_strbuf_str(&why));
		rc = report(warnings, be, 0, lethe_strbuf_str(&sql));
		rc = rc < 0 ? rc : 1;
		goto out;
	}
	for (size_t i = 0; i < be->changed.n; i++) {
		lethe_strbuf_reset(&sql);
		lethe_strbuf_adds(&sql, "VACUUM (FULL, ANALYZE) ");
		lethe_pg_ident(&sql, be->changed.v[i]);
		if ((rc = utility(be, lethe_strbuf_str(&sql), msg, sizeof(msg))) < 0) {
			lethe_strbuf_reset(&why);
			lethe_strbuf_addf(&why, "R1 blocked: rewriting '%s' failed: %s%s (clean-up stays owed)",
					  be->changed.v[i], msg, rc == LETHE_ENOPERM ?
					  " (missing privilege: the maintenance role must own the table)" : "");
			rc = report(warnings, be, 0, lethe_strbuf_str(&why));
			rc = rc < 0 ? rc : 1;
			goto out;
		}
	}
	/* earlier statistics rows (sampled disposed values) are dead tuples of
	 * pg_statistic until it too is rewritten */
	if ((rc = utility(be, "VACUUM FULL pg_catalog.pg_statistic", msg, sizeof(msg))) < 0 ||
	    (rc = utility(be, "CHECKPOINT", msg, sizeof(msg))) < 0) {
		lethe_strbuf_reset(&why);
		lethe_strbuf_addf(&why, "R1 blocked: %s%s (clean-up stays owed)", msg,
				  rc == LETHE_ENOPERM ? " (missing privilege: pg_statistic and CHECKPOINT "
				  "need a superuser or pg_checkpoint)" : "");
		rc = report(warnings, be, 0, lethe_strbuf_str(&why));
		rc = rc < 0 ? rc : 1;
		goto out;
	}
	if (want == 1) {
		rc = report(warnings, be, 1, "R2 not wanted (residue: R1): pg_wal may hold pre-images "
			    "until its segments are reused");
		rc = rc < 0 ? rc : 0;
		goto out;
	}
	/* R2: every segment, live or recycled, replaced */
	lethe_strbuf_reset(&why);
	if ((rc = wal_blockers(&why, be, &segments)) < 0)
		goto out;
	if (why.len) {
		lethe_strbuf_reset(&sql);
		lethe_strbuf_addf(&sql, "R2 blocked: %s", lethe_strbuf_str(&why));
		rc = report(warnings, be, 1, lethe_strbuf_str(&sql));
		rc = rc < 0 ? rc : 1;
		goto out;
	}
	for (int i = 0; i <= segments; i++)
		if ((rc = utility(be, "SELECT pg_switch_wal()", msg, sizeof(msg))) < 0 ||
		    (rc = utility(be, "CHECKPOINT", msg, sizeof(msg))) < 0) {
			lethe_strbuf_reset(&why);
			lethe_strbuf_addf(&why, "R2 blocked: cycling WAL failed: %s%s", msg,
					  rc == LETHE_ENOPERM ? " (missing privilege: pg_switch_wal)" : "");
			rc = report(warnings, be, 1, lethe_strbuf_str(&why));
			rc = rc < 0 ? rc : 1;
			goto out;
		}
	rc = report(warnings, be, 2, "not claimed: WAL archives, backups, replicas, server logs");
	rc = rc < 0 ? rc : 0;
out:
	lethe_strbuf_release(&why);
	lethe_strbuf_release(&sql);
	return rc;
}
