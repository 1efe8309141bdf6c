/*
 * backend_pg_own.c - Lethe's own tables on PostgreSQL, all in schema
 * `lethe` (created by `lethe init --database` or by the first write):
 * schema_version, lethe_done, lethe_runs, lethe_run_digests,
 * lethe_cleanup_owed, lethe_evidence_head, lethe_suppression, lethe_holds,
 * lethe_requests. Also a data subject's rows (access).
 *
 * Invariants:
 *  - The tables mean what their SQLite namesakes mean (backend_sqlite_*.c);
 *    a hold's subject is kept as text with its lethe_value type beside it,
 *    so it reads back as the value that was placed.
 *  - Reads on a register without schema lethe find nothing (a READONLY
 *    backend never creates it).
 *  - schema_version holds one row; a newer version than this build knows is
 *    refused (migrations only go forward).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_pg.h"
#include "digest_bin.h"
#include "lethe/error.h"

static const char create_sql[] =
	"CREATE SCHEMA IF NOT EXISTS lethe;"
	"CREATE TABLE IF NOT EXISTS lethe.schema_version (version int NOT NULL);"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_done (rule text NOT NULL, key text NOT NULL, "
	"PRIMARY KEY (rule, key));"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_runs (run_id text NOT NULL, rule text NOT NULL, "
	"disposed bigint NOT NULL, batches bigint NOT NULL, PRIMARY KEY (run_id, rule));"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_run_digests (rule text NOT NULL, digest text NOT NULL);"
	"CREATE INDEX IF NOT EXISTS lethe_run_digests_rule ON lethe.lethe_run_digests (rule);"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_cleanup_owed (id int PRIMARY KEY CHECK (id = 1), "
	"since text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_evidence_head (repository text PRIMARY KEY, "
	"seq bigint NOT NULL, commit_id text NOT NULL, written_at text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_suppression (token text PRIMARY KEY, "
	"added_at text NOT NULL);"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_holds (id bigserial PRIMARY KEY, subject text, "
	"subject_type int, rule text, where_sql text, until text, created_at text NOT NULL, "
	"released_at text, reason text, release_reason text, placed_by text, released_by text);"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_requests (id bigserial PRIMARY KEY, kind text NOT NULL, "
	"subject_digest text NOT NULL, received text NOT NULL, deadline text NOT NULL, "
	"answered_at text, extended_until text, extension_reason text);"
	"CREATE TABLE IF NOT EXISTS lethe.lethe_erasures_open (subject text NOT NULL, "
	"subject_type int NOT NULL, erasure bigint NOT NULL, contact text, since text NOT NULL, "
	"PRIMARY KEY (subject, subject_type));"
	"INSERT INTO lethe.schema_version SELECT 1 WHERE NOT EXISTS "
	"(SELECT 1 FROM lethe.schema_version);";

int lethe_pg_has_own(lethe_pg *be, const char *name)
{
	const char *p[1] = { name };
	PGresult *res = NULL;
	int found;

	if (lethe_pg_exec(&res, be, "read the schema", "SELECT 1 FROM pg_class c JOIN pg_namespace n "
			  "ON n.oid = c.relnamespace WHERE n.nspname = 'lethe' AND c.relname = $1",
			  1, p) < 0)
		return 0;
	found = PQntuples(res) > 0;
	PQclear(res);
	return found;
}

int lethe_pg_own_schema(lethe_pg *be)
{
	PGresult *res = NULL;
	int rc, version;

	/* simple query protocol: several statements, one implicit transaction
	 * unless ours is open */
	res = PQexec(be->conn, create_sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		char why[512];

		rc = lethe_error_set(lethe_pg_code(res), "cannot create schema lethe in '%s': %s",
				     be->label, lethe_pg_why(why, sizeof(why), be, res));
		PQclear(res);
		return rc;
	}
	PQclear(res);
	res = NULL;
	if ((rc = lethe_pg_exec(&res, be, "read lethe.schema_version",
				"SELECT max(version) FROM lethe.schema_version", 0, NULL)) < 0)
		return rc;
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (version > LETHE_PG_SCHEMA_VERSION)
		return lethe_error_set(LETHE_EDATA, "'%s': schema lethe is at version %d, newer than "
				       "this lethe knows (%d): upgrade lethe", be->label, version,
				       LETHE_PG_SCHEMA_VERSION);
	be->own_schema = 1;
	return 0;
}

/* Own transaction unless one is open: begin, or 0 with *mine 0. */
static int own_begin(lethe_pg *be, int *mine)
{
	int rc;

	*mine = 0;
	if (be->in_txn)
		return 0;
	if ((rc = lethe_pg_begin(&be->base)) == 0)
		*mine = 1;
	return rc;
}

static int own_end(lethe_pg *be, int mine, int rc)
{
	if (!mine)
		return rc;
	if (rc < 0) {
		lethe_pg_rollback(&be->base);
		return rc;
	}
	return lethe_pg_commit(&be->base);
}

/* --- run markers ----------------------------------------------------------------- */

int lethe_pg_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		  const unsigned char *digests, size_t ndigests)
{
	lethe_pg *be = (lethe_pg *)base;
	char n[32];
	const char *p[3] = { run_id, rule, n };
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "mark outside a transaction");
	snprintf(n, sizeof(n), "%lld", (long long)disposed);
	rc = lethe_pg_exec(NULL, be, "write the run marker",
			   "INSERT INTO lethe.lethe_runs (run_id, rule, disposed, batches) VALUES "
			   "($1, $2, $3, 1) ON CONFLICT (run_id, rule) DO UPDATE SET disposed = "
			   "lethe_runs.disposed + excluded.disposed, batches = lethe_runs.batches + 1",
			   3, p);
	if (rc == 0 && ndigests) {
		/* one statement per batch: the digests as one text array of
		 * hex digits (nothing in them to quote) */
		lethe_strbuf arr = LETHE_STRBUF_INIT;
		const char *d[2] = { rule, NULL };
		char hex[LETHE_DIGEST_SIZE];

		lethe_strbuf_addch(&arr, '{');
		for (size_t i = 0; i < ndigests; i++) {
			lethe_digest_to_hex(hex, digests + i * LETHE_DIGEST_BIN);
			if (i)
				lethe_strbuf_addch(&arr, ',');
			lethe_strbuf_adds(&arr, hex);
		}
		lethe_strbuf_addch(&arr, '}');
		d[1] = lethe_strbuf_str(&arr);
		rc = lethe_pg_exec(NULL, be, "write the run's digests", "INSERT INTO lethe.lethe_run_digests "
				   "(rule, digest) SELECT $1, unnest($2::text[])", 2, d);
		lethe_strbuf_release(&arr);
	}
	return rc;
}

int lethe_pg_marker(int *found, lethe_backend *base, const char *run_id,
		    int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx)
{
	lethe_pg *be = (lethe_pg *)base;
	const char *p[1] = { run_id };
	PGresult *res = NULL;
	int rc;

	*found = 0;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_pg_exec(&res, be, "read the run marker", "SELECT rule, disposed FROM "
				"lethe.lethe_runs WHERE run_id = $1 ORDER BY rule COLLATE \"C\"", 1, p)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++)
		if (cb)
			rc = cb(ctx, PQgetvalue(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10));
	if (rc == 0)
		*found = PQntuples(res) > 0;
	PQclear(res);
	return rc;
}

/* How many digests one FETCH reads: a run's rule may have disposed of
 * millions of rows, and a single result would hold all their digests. */
#define DIGESTS_PER_FETCH 10000

int lethe_pg_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
			    int (*cb)(void *ctx, const char *digest), void *ctx)
{
	lethe_pg *be = (lethe_pg *)base;
	const char *p[1] = { rule };
	PGresult *res = NULL;
	char sql[160], name[32];
	int rc, n;

	(void)run_id; /* one run's digests at a time, as on SQLite */
	if (!be->own_schema)
		return 0;
	/* a cursor, read a page at a time (WITH HOLD: also outside a
	 * transaction); the name is never reused, as for the pages of due rows */
	snprintf(name, sizeof(name), "lethe_digests%u", ++be->page_seq);
	snprintf(sql, sizeof(sql), "DECLARE %s NO SCROLL CURSOR WITH HOLD FOR SELECT digest FROM "
		 "lethe.lethe_run_digests WHERE rule = $1 ORDER BY digest COLLATE \"C\"", name);
	if ((rc = lethe_pg_exec(NULL, be, "read the run's digests", sql, 1, p)) < 0)
		return rc;
	snprintf(sql, sizeof(sql), "FETCH %d FROM %s", DIGESTS_PER_FETCH, name);
	do {
		if ((rc = lethe_pg_exec(&res, be, "read the run's digests", sql, 0, NULL)) < 0)
			break;
		n = PQntuples(res);
		for (int i = 0; i < n && rc == 0; i++)
			rc = cb(ctx, PQgetvalue(res, i, 0));
		PQclear(res);
	} while (rc == 0 && n == DIGESTS_PER_FETCH);
	snprintf(sql, sizeof(sql), "CLOSE %s", name);
	/* after a failed FETCH the transaction may be aborted: the caller's
	 * error stands, and the server drops the cursor with it */
	PQclear(PQexec(be->conn, sql));
	return rc;
}

int lethe_pg_marker_clear(lethe_backend *base, const char *run_id)
{
	lethe_pg *be = (lethe_pg *)base;
	const char *p[1] = { run_id };
	int rc, mine;

	if (!be->own_schema)
		return 0;
	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_pg_exec(NULL, be, "clear the run marker", "DELETE FROM lethe.lethe_run_digests",
			   0, NULL);
	if (rc == 0)
		rc = lethe_pg_exec(NULL, be, "clear the run marker", "DELETE FROM lethe.lethe_runs "
				   "WHERE $1 = '*' OR run_id = $1", 1, p);
	return own_end(be, mine, rc);
}

/* --- clean-up owed ------------------------------------------------------------------- */

int lethe_pg_cleanup_owe(lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;

	return lethe_pg_exec(NULL, be, "record that clean-up is owed",
			     "INSERT INTO lethe.lethe_cleanup_owed (id, since) VALUES (1, "
			     "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')) "
			     "ON CONFLICT (id) DO NOTHING", 0, NULL);
}

int lethe_pg_cleanup_owed(char **since, lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;
	PGresult *res = NULL;
	int rc;

	*since = NULL;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_pg_exec(&res, be, "read whether clean-up is owed",
				"SELECT since FROM lethe.lethe_cleanup_owed", 0, NULL)) < 0)
		return rc;
	if (PQntuples(res) && !(*since = strdup(PQgetvalue(res, 0, 0))))
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	PQclear(res);
	return rc;
}

int lethe_pg_cleanup_done(lethe_backend *base)
{
	lethe_pg *be = (lethe_pg *)base;
	int rc, mine;

	if (!be->own_schema)
		return 0;
	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_pg_exec(NULL, be, "record that clean-up is done",
			   "DELETE FROM lethe.lethe_cleanup_owed", 0, NULL);
	return own_end(be, mine, rc);
}

/* --- the evidence head ---------------------------------------------------------------- */

int lethe_pg_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *base,
			   const char *repository)
{
	lethe_pg *be = (lethe_pg *)base;
	const char *p[1] = { repository };
	PGresult *res = NULL;
	int rc;

	*found = 0;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_pg_exec(&res, be, "read the evidence head", "SELECT seq, commit_id FROM "
				"lethe.lethe_evidence_head WHERE repository = $1", 1, p)) < 0)
		return rc;
	if (PQntuples(res)) {
		const char *c = PQgetvalue(res, 0, 1);

		if (strlen(c) != 40) {
			PQclear(res);
			return lethe_error_set(LETHE_EDATA, "'%s': lethe.lethe_evidence_head has no "
					       "valid commit id", be->label);
		}
		*seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		memcpy(commit, c, 41);
		*found = 1;
	}
	PQclear(res);
	return 0;
}

int lethe_pg_evidence_head_set(lethe_backend *base, const char *repository, int64_t seq,
			       const char *commit, const char *at)
{
	lethe_pg *be = (lethe_pg *)base;
	char n[32];
	const char *p[4] = { repository, n, commit, at };
	int rc, mine;

	snprintf(n, sizeof(n), "%lld", (long long)seq);
	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_pg_exec(NULL, be, "remember the evidence head",
			   "INSERT INTO lethe.lethe_evidence_head (repository, seq, commit_id, written_at) "
			   "VALUES ($1, $2, $3, $4) ON CONFLICT (repository) DO UPDATE SET seq = "
			   "excluded.seq, commit_id = excluded.commit_id, written_at = excluded.written_at",
			   4, p);
	return own_end(be, mine, rc);
}

/* --- a data subject's rows, the suppression list ------------------------------------------ */

int lethe_pg_rows(lethe_backend *base, const char *table, const char *where,
		  const lethe_value *subject,
		  int (*cb)(void *ctx, size_t ncols, const char *const *names,
			    const lethe_value *values), void *ctx)
{
	static const char *const pnames[] = { "lethe_subject" };
	lethe_pg *be = (lethe_pg *)base;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	const char **names = NULL;
	lethe_value *values = NULL;
	unsigned char **scratch = NULL;
	PGresult *res = NULL;
	char *sql = NULL;
	int rc, n = 0, np;

	lethe_strbuf_adds(&s, "SELECT * FROM ");
	lethe_pg_ident(&s, table);
	if (where) {
		lethe_strbuf_adds(&s, " WHERE (\n");
		lethe_strbuf_adds(&s, where);
		lethe_strbuf_adds(&s, "\n)");
	}
	lethe_strbuf_adds(&s, " ORDER BY 1");
	rc = lethe_pg_number_params(&sql, lethe_strbuf_str(&s), pnames, 1);
	lethe_strbuf_release(&s);
	if (rc < 0)
		return rc;
	np = subject && strstr(sql, "$1") ? 1 : 0;
	rc = lethe_pg_exec_values(&res, be, "read rows", sql, np, subject);
	free(sql);
	if (rc < 0)
		return rc;
	n = PQnfields(res);
	names = calloc((size_t)n + 1, sizeof(*names));
	values = calloc((size_t)n + 1, sizeof(*values));
	scratch = calloc((size_t)n + 1, sizeof(*scratch));
	if (!names || !values || !scratch) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++)
		names[i] = PQfname(res, i);
	for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
		for (int i = 0; i < n; i++)
			lethe_pg_value(&values[i], res, r, i, &scratch[i]);
		rc = cb(ctx, (size_t)n, names, values);
	}
out:
	for (int i = 0; scratch && i < n; i++)
		free(scratch[i]);
	free(scratch);
	free(names);
	free(values);
	PQclear(res);
	return rc;
}

int lethe_pg_suppress(lethe_backend *base, const char *const *tokens, size_t n,
		      const char *added_at)
{
	lethe_pg *be = (lethe_pg *)base;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *p[2] = { tokens[i], added_at };

		rc = lethe_pg_exec(NULL, be, "add to the suppression list",
				   "INSERT INTO lethe.lethe_suppression (token, added_at) VALUES ($1, $2) "
				   "ON CONFLICT DO NOTHING", 2, p);
	}
	return rc;
}

int lethe_pg_suppressed(int *found, lethe_backend *base, const char *token)
{
	lethe_pg *be = (lethe_pg *)base;
	const char *p[1] = { token };
	PGresult *res = NULL;
	int rc;

	*found = 0;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_pg_exec(&res, be, "read the suppression list", "SELECT 1 FROM "
				"lethe.lethe_suppression WHERE token = $1", 1, p)) < 0)
		return rc;
	*found = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

/* --- legal holds ------------------------------------------------------------------------ */

int lethe_pg_hold_add(int64_t *id, lethe_backend *base, const lethe_hold *h)
{
	lethe_pg *be = (lethe_pg *)base;
	char buf[40], type[8], *heap = NULL;
	const char *p[8];
	PGresult *res = NULL;
	int rc;

	snprintf(type, sizeof(type), "%d", (int)h->subject.type);
	p[0] = lethe_pg_param(&h->subject, buf, sizeof(buf), &heap);
	p[1] = h->subject.type == LETHE_VALUE_NULL ? NULL : type;
	p[2] = h->rule;
	p[3] = h->where;
	p[4] = h->until;
	p[5] = h->created_at;
	p[6] = h->reason;
	p[7] = h->placed_by;
	/* A subject's hold takes the subject's lock, which a disposal of that
	 * subject's rows in another transaction also takes (engines.md s. 2). */
	rc = lethe_pg_exec(&res, be, "add a hold",
			   "INSERT INTO lethe.lethe_holds (subject, subject_type, rule, where_sql, until, "
			   "created_at, reason, placed_by) VALUES ($1, $2::int, $3, $4, $5, $6, $7, $8) "
			   "RETURNING id", 8, p);
	free(heap);
	if (rc < 0)
		return rc;
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int lethe_pg_hold_release(lethe_backend *base, int64_t id, const char *released_at,
			  const char *reason, const char *released_by)
{
	lethe_pg *be = (lethe_pg *)base;
	char n[32];
	const char *p[4] = { n, released_at, reason, released_by };
	PGresult *res = NULL;
	int rc, changed;

	snprintf(n, sizeof(n), "%lld", (long long)id);
	if ((rc = lethe_pg_exec(&res, be, "release a hold", "UPDATE lethe.lethe_holds SET released_at "
				"= $2, release_reason = $3, released_by = $4 WHERE id = $1 AND released_at "
				"IS NULL", 4, p)) < 0)
		return rc;
	changed = atoi(PQcmdTuples(res));
	PQclear(res);
	return changed ? 0 : lethe_error_set(LETHE_ENOTFOUND, "no hold %lld in force", (long long)id);
}

static const char *opt(const PGresult *res, int r, int c)
{
	return PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
}

int lethe_pg_holds(lethe_backend *base, int (*cb)(void *ctx, const lethe_hold *h), void *ctx)
{
	lethe_pg *be = (lethe_pg *)base;
	PGresult *res = NULL;
	int rc;

	if (!be->own_schema)
		return 0;
	if ((rc = lethe_pg_exec(&res, be, "read the holds", "SELECT id, subject, subject_type, rule, "
				"where_sql, until, created_at, released_at, reason, release_reason, placed_by, "
				"released_by FROM "
				"lethe.lethe_holds ORDER BY id", 0, NULL)) < 0)
		return rc;
	for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
		lethe_hold h = { .id = strtoll(PQgetvalue(res, r, 0), NULL, 10) };
		const char *sv = opt(res, r, 1);
		int type = opt(res, r, 2) ? atoi(PQgetvalue(res, r, 2)) : LETHE_VALUE_NULL;

		lethe_value_from_typed_text(&h.subject, sv, type);
		h.rule = opt(res, r, 3);
		h.where = opt(res, r, 4);
		h.until = opt(res, r, 5);
		h.created_at = opt(res, r, 6);
		h.released_at = opt(res, r, 7);
		h.reason = opt(res, r, 8);
		h.release_reason = opt(res, r, 9);
		h.placed_by = opt(res, r, 10);
		h.released_by = opt(res, r, 11);
		rc = cb(ctx, &h);
	}
	PQclear(res);
	return rc;
}

/* --- requests ------------------------------------------------------------------------------ */

int lethe_pg_request_put(int64_t *id, lethe_backend *base, const lethe_request *r)
{
	lethe_pg *be = (lethe_pg *)base;
	char n[32];
	const char *p[8] = { n, r->kind, r->subject, r->received, r->deadline, r->answered,
			     r->extended_until, r->extension_reason };
	PGresult *res = NULL;
	int rc;

	snprintf(n, sizeof(n), "%lld", (long long)r->id);
	if (r->id == 0) {
		rc = lethe_pg_exec(&res, be, "record a request", "INSERT INTO lethe.lethe_requests "
				   "(kind, subject_digest, received, deadline, answered_at, extended_until, "
				   "extension_reason) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
				   7, p + 1);
		if (rc == 0) {
			*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
			PQclear(res);
		}
		return rc;
	}
	{
		const char *u[4] = { n, r->answered, r->extended_until, r->extension_reason };

		rc = lethe_pg_exec(&res, be, "update a request", "UPDATE lethe.lethe_requests SET "
				   "answered_at = coalesce($2, answered_at), extended_until = coalesce($3, "
				   "extended_until), extension_reason = coalesce($4, extension_reason) "
				   "WHERE id = $1", 4, u);
	}
	if (rc < 0)
		return rc;
	rc = atoi(PQcmdTuples(res));
	PQclear(res);
	if (!rc)
		return lethe_error_set(LETHE_ENOTFOUND, "no request %lld", (long long)r->id);
	*id = r->id;
	return 0;
}

int lethe_pg_requests(lethe_backend *base, int (*cb)(void *ctx, const lethe_request *r),
		      void *ctx)
{
	lethe_pg *be = (lethe_pg *)base;
	PGresult *res = NULL;
	int rc;

	if (!be->own_schema)
		return 0;
	if ((rc = lethe_pg_exec(&res, be, "read the requests", "SELECT id, kind, subject_digest, "
				"received, deadline, answered_at, extended_until, extension_reason FROM "
				"lethe.lethe_requests ORDER BY received, id", 0, NULL)) < 0)
		return rc;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		lethe_request q = { .id = strtoll(PQgetvalue(res, i, 0), NULL, 10),
				    .kind = opt(res, i, 1), .subject = opt(res, i, 2),
				    .received = opt(res, i, 3), .deadline = opt(res, i, 4),
				    .answered = opt(res, i, 5), .extended_until = opt(res, i, 6),
				    .extension_reason = opt(res, i, 7) };

		rc = cb(ctx, &q);
	}
	PQclear(res);
	return rc;
}
