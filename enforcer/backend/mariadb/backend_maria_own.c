/*
 * backend_maria_own.c - Lethe's own tables on MariaDB/MySQL, in the
 * register's database under the prefix lethe_ (a database of its own would
 * need rights on a second database, which a shop's hosting rarely grants):
 * lethe_schema_version, lethe_done, lethe_runs, lethe_run_digests,
 * lethe_cleanup_owed, lethe_evidence_head, lethe_suppression, lethe_holds,
 * lethe_requests. Also a data subject's rows (access).
 *
 * Invariants:
 *  - The tables mean what their PostgreSQL and SQLite namesakes mean
 *    (backend_pg_own.c); a hold's subject is kept as text with its
 *    lethe_value type beside it, so it reads back as the value placed.
 *  - They are InnoDB with a binary collation (utf8mb4_bin): a key or token
 *    matches byte for byte, whatever the server's default collation.
 *  - DDL commits implicitly on MariaDB: the tables are created before a
 *    transaction starts (lethe_maria_own_schema, from begin), never in one.
 *  - Reads on a register without the tables find nothing (a READONLY
 *    backend never creates them).
 *  - Every row of lethe_holds references the one row of lethe_hold_gate
 *    (column gate, DEFAULT 1, a foreign key): InnoDB's check of that key
 *    takes a shared lock on the gate row for every hold inserted, whether by
 *    `lethe hold` or by SQL of the site's own. A disposing batch locks the
 *    gate row for update first (backend_maria_write.c), so a hold placed in
 *    another transaction commits before the batch reads the holds, or waits
 *    until the batch has committed: no write skew between a hold and the
 *    disposal it stops (engines.md section 2; PostgreSQL locks its holds
 *    table in SHARE mode for the same end).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend_maria.h"
#include "digest_bin.h"
#include "lethe/error.h"

#define DIGESTS_PER_INSERT 1000
#define OWN_TABLE " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

static const char *const create_sql[] = {
	"CREATE TABLE IF NOT EXISTS lethe_schema_version (version INT NOT NULL PRIMARY KEY)" OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_done (rule VARCHAR(255) NOT NULL, \"key\" VARCHAR(500) "
	"NOT NULL, PRIMARY KEY (rule, \"key\"))" OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_runs (run_id VARCHAR(100) NOT NULL, rule VARCHAR(255) "
	"NOT NULL, disposed BIGINT NOT NULL, batches BIGINT NOT NULL, PRIMARY KEY (run_id, rule))"
	OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_run_digests (rule VARCHAR(255) NOT NULL, digest "
	"VARCHAR(128) NOT NULL, KEY lethe_run_digests_rule (rule))" OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_cleanup_owed (id INT NOT NULL PRIMARY KEY CHECK (id = 1), "
	"since VARCHAR(40) NOT NULL)" OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_evidence_head (repository VARCHAR(700) NOT NULL PRIMARY "
	"KEY, seq BIGINT NOT NULL, commit_id CHAR(40) NOT NULL, written_at VARCHAR(40) NOT NULL)"
	OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_suppression (token VARCHAR(255) NOT NULL PRIMARY KEY, "
	"added_at VARCHAR(40) NOT NULL)" OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_hold_gate (id INT NOT NULL PRIMARY KEY CHECK (id = 1))"
	OWN_TABLE,
	"INSERT IGNORE INTO lethe_hold_gate (id) VALUES (1)",
	"CREATE TABLE IF NOT EXISTS lethe_holds (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
	"subject TEXT, subject_type INT, rule VARCHAR(255), where_sql TEXT, until VARCHAR(40), "
	"created_at VARCHAR(40) NOT NULL, released_at VARCHAR(40), reason TEXT, release_reason TEXT, placed_by TEXT, released_by TEXT, "
	"gate INT NOT NULL DEFAULT 1, CONSTRAINT lethe_holds_gate FOREIGN KEY (gate) REFERENCES "
	"lethe_hold_gate (id))"
	OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_requests (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, "
	"kind VARCHAR(40) NOT NULL, subject_digest VARCHAR(255) NOT NULL, received VARCHAR(40) NOT "
	"NULL, deadline VARCHAR(40) NOT NULL, answered_at VARCHAR(40), extended_until VARCHAR(40), "
	"extension_reason TEXT)" OWN_TABLE,
	"CREATE TABLE IF NOT EXISTS lethe_erasures_open (subject VARCHAR(500) NOT NULL, subject_type "
	"INT NOT NULL, erasure BIGINT NOT NULL, contact VARCHAR(128), since VARCHAR(40) NOT NULL, "
	"PRIMARY KEY (subject, subject_type))" OWN_TABLE,
	NULL
};

static lethe_value text(const char *s)
{
	if (!s)
		return (lethe_value){ .type = LETHE_VALUE_NULL };
	return (lethe_value){ .type = LETHE_VALUE_TEXT, .s = s, .len = strlen(s) };
}

static lethe_value integer(int64_t i)
{
	return (lethe_value){ .type = LETHE_VALUE_INTEGER, .i = i };
}

static const char *cell(const lethe_maria_result *r, size_t row, size_t col)
{
	return r->cells[row * r->ncols + col];
}

int lethe_maria_has_own(lethe_maria *be)
{
	lethe_maria_result *r = NULL;
	int found;

	if (lethe_maria_exec(&r, be, "read the schema", "SELECT 1 FROM information_schema.tables "
			     "WHERE table_schema = DATABASE() AND table_name = 'lethe_requests'", 0,
			     NULL) < 0)
		return 0;
	found = r->nrows > 0;
	lethe_maria_result_free(r);
	return found;
}

/* lethe_holds made before the gate existed gets its column and key. */
static int hold_gate(lethe_maria *be)
{
	lethe_maria_result *r = NULL;
	int found, rc;

	if ((rc = lethe_maria_exec(&r, be, "read the schema", "SELECT 1 FROM information_schema.columns "
				   "WHERE table_schema = DATABASE() AND table_name = 'lethe_holds' AND "
				   "column_name = 'gate'", 0, NULL)) < 0)
		return rc;
	found = r->nrows > 0;
	lethe_maria_result_free(r);
	if (found)
		return 0;
	return lethe_maria_exec(NULL, be, "add the hold gate to lethe_holds",
				"ALTER TABLE lethe_holds ADD COLUMN gate INT NOT NULL DEFAULT 1, ADD "
				"CONSTRAINT lethe_holds_gate FOREIGN KEY (gate) REFERENCES lethe_hold_gate (id)",
				0, NULL);
}

int lethe_maria_own_schema(lethe_maria *be)
{
	lethe_value v[1] = { integer(LETHE_MARIA_SCHEMA_VERSION) };
	lethe_maria_result *r = NULL;
	int rc = 0, version;

	if (be->own_made)
		return 0;       /* made or upgraded earlier in this session */
	if (be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "Lethe's tables created inside a transaction");
	for (size_t i = 0; create_sql[i] && rc == 0; i++)
		rc = lethe_maria_exec(NULL, be, "create Lethe's tables", create_sql[i], 0, NULL);
	if (rc == 0)
		rc = hold_gate(be);
	if (rc == 0)
		rc = lethe_maria_exec(NULL, be, "record the schema version",
				      "INSERT INTO lethe_schema_version (version) SELECT ? FROM DUAL WHERE "
				      "NOT EXISTS (SELECT 1 FROM lethe_schema_version)", 1, v);
	if (rc == 0)
		rc = lethe_maria_exec(&r, be, "read lethe_schema_version",
				      "SELECT max(version) FROM lethe_schema_version", 0, NULL);
	if (rc < 0)
		return rc;
	version = r->nrows && cell(r, 0, 0) ? atoi(cell(r, 0, 0)) : 0;
	lethe_maria_result_free(r);
	if (version > LETHE_MARIA_SCHEMA_VERSION)
		return lethe_error_set(LETHE_EDATA, "'%s': Lethe's tables are at version %d, newer than "
				       "this lethe knows (%d): upgrade lethe", be->label, version,
				       LETHE_MARIA_SCHEMA_VERSION);
	be->own_schema = 1;
	be->own_made = 1;
	return 0;
}

/* Own transaction unless one is open: begin, or 0 with *mine 0. */
static int own_begin(lethe_maria *be, int *mine)
{
	int rc;

	*mine = 0;
	if (be->in_txn)
		return 0;
	if ((rc = lethe_maria_begin(&be->base)) == 0)
		*mine = 1;
	return rc;
}

static int own_end(lethe_maria *be, int mine, int rc)
{
	if (!mine)
		return rc;
	if (rc < 0) {
		lethe_maria_rollback(&be->base);
		return rc;
	}
	return lethe_maria_commit(&be->base);
}

/* --- run markers ----------------------------------------------------------------- */

int lethe_maria_mark(lethe_backend *base, const char *run_id, const char *rule, int64_t disposed,
		     const unsigned char *digests, size_t ndigests)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[3] = { text(run_id), text(rule), integer(disposed) };
	int rc;

	if (!be->in_txn)
		return lethe_error_set(LETHE_ESOFTWARE, "mark outside a transaction");
	rc = lethe_maria_exec(NULL, be, "write the run marker",
			      "INSERT INTO lethe_runs (run_id, rule, disposed, batches) VALUES (?, ?, ?, 1) "
			      "ON DUPLICATE KEY UPDATE disposed = disposed + VALUES(disposed), "
			      "batches = batches + 1", 3, v);
	/* (?, ?) per digest, DIGESTS_PER_INSERT at a time (a statement takes
	 * at most 65,535 parameters) */
	for (size_t from = 0; rc == 0 && from < ndigests; from += DIGESTS_PER_INSERT) {
		size_t n = ndigests - from < DIGESTS_PER_INSERT ? ndigests - from : DIGESTS_PER_INSERT;
		lethe_strbuf s = LETHE_STRBUF_INIT;
		lethe_value *d = calloc(2 * n, sizeof(*d));
		char (*hex)[LETHE_DIGEST_SIZE] = calloc(n, sizeof(*hex));

		if (!d || !hex) {
			free(d);
			free(hex);
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		lethe_strbuf_adds(&s, "INSERT INTO lethe_run_digests (rule, digest) VALUES ");
		for (size_t i = 0; i < n; i++) {
			lethe_strbuf_adds(&s, i ? ", (?, ?)" : "(?, ?)");
			lethe_digest_to_hex(hex[i], digests + (from + i) * LETHE_DIGEST_BIN);
			d[2 * i] = text(rule);
			d[2 * i + 1] = text(hex[i]);
		}
		rc = lethe_maria_exec(NULL, be, "write the run's digests", lethe_strbuf_str(&s),
				      2 * n, d);
		lethe_strbuf_release(&s);
		free(d);
		free(hex);
	}
	return rc;
}

int lethe_maria_marker(int *found, lethe_backend *base, const char *run_id,
		       int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[1] = { text(run_id) };
	lethe_maria_result *r = NULL;
	int rc;

	*found = 0;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_maria_exec(&r, be, "read the run marker", "SELECT rule, disposed FROM "
				   "lethe_runs WHERE run_id = ? ORDER BY rule", 1, v)) < 0)
		return rc;
	for (size_t i = 0; i < r->nrows && rc == 0; i++)
		if (cb)
			rc = cb(ctx, cell(r, i, 0), strtoll(cell(r, i, 1), NULL, 10));
	if (rc == 0)
		*found = r->nrows > 0;
	lethe_maria_result_free(r);
	return rc;
}

int lethe_maria_marker_digests(lethe_backend *base, const char *run_id, const char *rule,
			       int (*cb)(void *ctx, const char *digest), void *ctx)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[1] = { text(rule) };

	(void)run_id; /* one run's digests at a time, as on SQLite */
	if (!be->own_schema)
		return 0;
	/* streamed: a rule of a million rows has a million digests */
	return lethe_maria_each_text(be, "read the run's digests", "SELECT digest FROM "
				     "lethe_run_digests WHERE rule = ? ORDER BY digest", 1, v, cb, ctx);
}

int lethe_maria_marker_clear(lethe_backend *base, const char *run_id)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[2] = { text(run_id), text(run_id) };
	int rc, mine;

	if (!be->own_schema)
		return 0;
	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_maria_exec(NULL, be, "clear the run marker", "DELETE FROM lethe_run_digests", 0,
			      NULL);
	if (rc == 0)
		rc = lethe_maria_exec(NULL, be, "clear the run marker", "DELETE FROM lethe_runs "
				      "WHERE ? = '*' OR run_id = ?", 2, v);
	return own_end(be, mine, rc);
}

/* --- clean-up owed ------------------------------------------------------------------- */

int lethe_maria_cleanup_owe(lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;

	return lethe_maria_exec(NULL, be, "record that clean-up is owed",
				"INSERT INTO lethe_cleanup_owed (id, since) VALUES (1, "
				"DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')) "
				"ON DUPLICATE KEY UPDATE since = since", 0, NULL);
}

int lethe_maria_cleanup_owed(char **since, lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *r = NULL;
	int rc;

	*since = NULL;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_maria_exec(&r, be, "read whether clean-up is owed",
				   "SELECT since FROM lethe_cleanup_owed", 0, NULL)) < 0)
		return rc;
	if (r->nrows && !(*since = strdup(cell(r, 0, 0))))
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	lethe_maria_result_free(r);
	return rc;
}

int lethe_maria_cleanup_done(lethe_backend *base)
{
	lethe_maria *be = (lethe_maria *)base;
	int rc, mine;

	if (!be->own_schema)
		return 0;
	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_maria_exec(NULL, be, "record that clean-up is done",
			      "DELETE FROM lethe_cleanup_owed", 0, NULL);
	return own_end(be, mine, rc);
}

/* --- the evidence head ---------------------------------------------------------------- */

int lethe_maria_evidence_head(int *found, int64_t *seq, char commit[41], lethe_backend *base,
			      const char *repository)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[1] = { text(repository) };
	lethe_maria_result *r = NULL;
	int rc;

	*found = 0;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_maria_exec(&r, be, "read the evidence head", "SELECT seq, commit_id FROM "
				   "lethe_evidence_head WHERE repository = ?", 1, v)) < 0)
		return rc;
	if (r->nrows) {
		const char *c = cell(r, 0, 1);

		if (!c || strlen(c) != 40) {
			lethe_maria_result_free(r);
			return lethe_error_set(LETHE_EDATA, "'%s': lethe_evidence_head has no valid "
					       "commit id", be->label);
		}
		*seq = strtoll(cell(r, 0, 0), NULL, 10);
		memcpy(commit, c, 41);
		*found = 1;
	}
	lethe_maria_result_free(r);
	return 0;
}

int lethe_maria_evidence_head_set(lethe_backend *base, const char *repository, int64_t seq,
				  const char *commit, const char *at)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[4] = { text(repository), integer(seq), text(commit), text(at) };
	int rc, mine;

	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_maria_exec(NULL, be, "remember the evidence head",
			      "INSERT INTO lethe_evidence_head (repository, seq, commit_id, written_at) "
			      "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE seq = VALUES(seq), "
			      "commit_id = VALUES(commit_id), written_at = VALUES(written_at)", 4, v);
	return own_end(be, mine, rc);
}

/* --- a data subject's rows, the suppression list ------------------------------------------ */

int lethe_maria_rows(lethe_backend *base, const char *table, const char *where,
		     const lethe_value *subject,
		     int (*cb)(void *ctx, size_t ncols, const char *const *names,
			       const lethe_value *values), void *ctx)
{
	static const char *const pnames[] = { "lethe_subject" };
	lethe_maria *be = (lethe_maria *)base;
	lethe_strbuf s = LETHE_STRBUF_INIT;
	lethe_value none = { .type = LETHE_VALUE_NULL }, *params = NULL, *values = NULL;
	lethe_maria_result *r = NULL;
	size_t np = 0;
	char *sql = NULL;
	int rc;

	lethe_strbuf_adds(&s, "SELECT * FROM ");
	lethe_maria_ident(&s, table);
	if (where) {
		lethe_strbuf_adds(&s, " WHERE (\n");
		lethe_strbuf_adds(&s, where);
		lethe_strbuf_adds(&s, "\n)");
	}
	lethe_strbuf_adds(&s, " ORDER BY 1");
	rc = lethe_maria_positional(&sql, &params, &np, lethe_strbuf_str(&s), pnames,
				    subject ? subject : &none, 1);
	lethe_strbuf_release(&s);
	if (rc < 0)
		return rc;
	rc = lethe_maria_exec(&r, be, "read rows", sql, np, params);
	free(sql);
	free(params);
	if (rc < 0)
		return rc;
	if (!(values = calloc(r->ncols + 1, sizeof(*values)))) {
		lethe_maria_result_free(r);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	for (size_t i = 0; i < r->nrows && rc == 0; i++) {
		for (size_t c = 0; c < r->ncols; c++)
			lethe_maria_value(&values[c], r, i, c);
		rc = cb(ctx, r->ncols, (const char *const *)r->names, values);
	}
	free(values);
	lethe_maria_result_free(r);
	return rc;
}

int lethe_maria_suppress(lethe_backend *base, const char *const *tokens, size_t n,
			 const char *added_at)
{
	lethe_maria *be = (lethe_maria *)base;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		lethe_value v[2] = { text(tokens[i]), text(added_at) };

		rc = lethe_maria_exec(NULL, be, "add to the suppression list",
				      "INSERT INTO lethe_suppression (token, added_at) VALUES (?, ?) "
				      "ON DUPLICATE KEY UPDATE token = token", 2, v);
	}
	return rc;
}

int lethe_maria_suppressed(int *found, lethe_backend *base, const char *token)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[1] = { text(token) };
	lethe_maria_result *r = NULL;
	int rc;

	*found = 0;
	if (!be->own_schema)
		return 0;
	if ((rc = lethe_maria_exec(&r, be, "read the suppression list", "SELECT 1 FROM "
				   "lethe_suppression WHERE token = ?", 1, v)) < 0)
		return rc;
	*found = r->nrows > 0;
	lethe_maria_result_free(r);
	return 0;
}

/* --- legal holds ------------------------------------------------------------------------ */

int lethe_maria_hold_add(int64_t *id, lethe_backend *base, const lethe_hold *h)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[8] = { h->subject, h->subject.type == LETHE_VALUE_NULL ?
			     text(NULL) : integer((int64_t)h->subject.type), text(h->rule),
			     text(h->where), text(h->until), text(h->created_at), text(h->reason),
			     text(h->placed_by) };
	int rc, mine;

	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_maria_exec(NULL, be, "add a hold",
			      "INSERT INTO lethe_holds (subject, subject_type, rule, where_sql, until, "
			      "created_at, reason, placed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", 8, v);
	if (rc == 0)
		*id = (int64_t)be->insert_id;
	return own_end(be, mine, rc);
}

int lethe_maria_hold_release(lethe_backend *base, int64_t id, const char *released_at,
			     const char *reason, const char *released_by)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_value v[4] = { text(released_at), text(reason), text(released_by), integer(id) };
	int rc, mine;

	if (!be->own_schema)
		return lethe_error_set(LETHE_ENOTFOUND, "no hold %lld in force", (long long)id);
	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	rc = lethe_maria_exec(NULL, be, "release a hold", "UPDATE lethe_holds SET released_at = ?, "
			      "release_reason = ?, released_by = ? WHERE id = ? AND released_at IS NULL", 4, v);
	if (rc == 0 && be->affected == 0)
		rc = lethe_error_set(LETHE_ENOTFOUND, "no hold %lld in force", (long long)id);
	return own_end(be, mine, rc);
}

int lethe_maria_holds(lethe_backend *base, int (*cb)(void *ctx, const lethe_hold *h), void *ctx)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *r = NULL;
	int rc;

	if (!be->own_schema)
		return 0;
	if ((rc = lethe_maria_exec(&r, be, "read the holds", "SELECT id, subject, subject_type, rule, "
				   "where_sql, until, created_at, released_at, reason, release_reason, "
				   "placed_by, released_by "
				   "FROM lethe_holds ORDER BY id", 0, NULL)) < 0)
		return rc;
	for (size_t i = 0; i < r->nrows && rc == 0; i++) {
		lethe_hold h = { .id = strtoll(cell(r, i, 0), NULL, 10) };
		const char *sv = cell(r, i, 1);
		int type = cell(r, i, 2) ? atoi(cell(r, i, 2)) : LETHE_VALUE_NULL;

		lethe_value_from_typed_text(&h.subject, sv, type);
		h.rule = cell(r, i, 3);
		h.where = cell(r, i, 4);
		h.until = cell(r, i, 5);
		h.created_at = cell(r, i, 6);
		h.released_at = cell(r, i, 7);
		h.reason = cell(r, i, 8);
		h.release_reason = cell(r, i, 9);
		h.placed_by = cell(r, i, 10);
		h.released_by = cell(r, i, 11);
		rc = cb(ctx, &h);
	}
	lethe_maria_result_free(r);
	return rc;
}

/* --- requests ------------------------------------------------------------------------------ */

int lethe_maria_request_put(int64_t *id, lethe_backend *base, const lethe_request *q)
{
	lethe_maria *be = (lethe_maria *)base;
	int rc, mine;

	if ((rc = own_begin(be, &mine)) < 0)
		return rc;
	if (q->id == 0) {
		lethe_value v[7] = { text(q->kind), text(q->subject), text(q->received),
				     text(q->deadline), text(q->answered), text(q->extended_until),
				     text(q->extension_reason) };

		rc = lethe_maria_exec(NULL, be, "record a request", "INSERT INTO lethe_requests "
				      "(kind, subject_digest, received, deadline, answered_at, "
				      "extended_until, extension_reason) VALUES (?, ?, ?, ?, ?, ?, ?)", 7, v);
		if (rc == 0)
			*id = (int64_t)be->insert_id;
	} else {
		lethe_value v[4] = { text(q->answered), text(q->extended_until),
				     text(q->extension_reason), integer(q->id) };

		rc = lethe_maria_exec(NULL, be, "update a request", "UPDATE lethe_requests SET "
				      "answered_at = coalesce(?, answered_at), extended_until = "
				      "coalesce(?, extended_until), extension_reason = coalesce(?, "
				      "extension_reason) WHERE id = ?", 4, v);
		if (rc == 0 && be->affected == 0)
			rc = lethe_error_set(LETHE_ENOTFOUND, "no request %lld", (long long)q->id);
		if (rc == 0)
			*id = q->id;
	}
	return own_end(be, mine, rc);
}

int lethe_maria_requests(lethe_backend *base, int (*cb)(void *ctx, const lethe_request *r),
			 void *ctx)
{
	lethe_maria *be = (lethe_maria *)base;
	lethe_maria_result *r = NULL;
	int rc;

	if (!be->own_schema)
		return 0;
	if ((rc = lethe_maria_exec(&r, be, "read the requests", "SELECT id, kind, subject_digest, "
				   "received, deadline, answered_at, extended_until, extension_reason "
				   "FROM lethe_requests ORDER BY received, id", 0, NULL)) < 0)
		return rc;
	for (size_t i = 0; i < r->nrows && rc == 0; i++) {
		lethe_request q = { .id = strtoll(cell(r, i, 0), NULL, 10), .kind = cell(r, i, 1),
				    .subject = cell(r, i, 2), .received = cell(r, i, 3),
				    .deadline = cell(r, i, 4), .answered = cell(r, i, 5),
				    .extended_until = cell(r, i, 6),
				    .extension_reason = cell(r, i, 7) };

		rc = cb(ctx, &q);
	}
	lethe_maria_result_free(r);
	return rc;
}
