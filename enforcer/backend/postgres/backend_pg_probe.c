/*
 * backend_pg_probe.c - what a user expression depends on, by the server's
 * own dependency catalogue: a temporary view over the expression is created
 * and pg_depend read for the relations its rewrite rule references (through
 * views and materialised views, transitively) and for the functions it
 * calls, directly or through an operator, that PostgreSQL marks volatile.
 *
 * Invariants:
 *  - The view lives in a transaction (a savepoint when one is open) that is
 *    always rolled back: nothing stays on the server. Creating a view parses
 *    and analyses the expression, it runs nothing of it, so the probe may
 *    leave a READONLY session's read-only default for that transaction.
 *  - Built-in functions are pinned: PostgreSQL records no dependency on them,
 *    so their volatility is checked by name (backend_pg.c) and the probe
 *    finds user-defined ones (also those reached through an operator or a
 *    view, which a name in the text does not show).
 *  - LETHE_ENOTFOUND when the view cannot be made (an expression with a
 *    parameter, no TEMP privilege): the caller falls back.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_pg.h"
#include "lethe/error.h"
#include "vec.h"

/* The probe view's rewrite rule and, transitively, those of the views it reads. */
#define PROBE_RULES                                                                              \
	"WITH RECURSIVE lethe_r(oid) AS (SELECT 'pg_temp.lethe_probe'::regclass::oid UNION "     \
	"SELECT d.refobjid FROM lethe_r JOIN pg_rewrite w ON w.ev_class = lethe_r.oid "         \
	"JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = w.oid "            \
	"AND d.refclassid = 'pg_class'::regclass), lethe_w AS (SELECT w.oid FROM lethe_r "       \
	"JOIN pg_rewrite w ON w.ev_class = lethe_r.oid) "

static const char relations_sql[] =
	PROBE_RULES "SELECT DISTINCT c.relname FROM lethe_r JOIN pg_class c ON c.oid = lethe_r.oid "
	"WHERE c.relkind IN ('r', 'p', 'f', 'm') ORDER BY 1";

static const char volatile_sql[] =
	PROBE_RULES "SELECT p.proname FROM lethe_w JOIN pg_depend d ON d.classid = "
	"'pg_rewrite'::regclass AND d.objid = lethe_w.oid LEFT JOIN pg_operator o ON "
	"d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid JOIN pg_proc p ON "
	"(d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid) OR p.oid = o.oprcode "
	"WHERE p.provolatile = 'v' ORDER BY 1 LIMIT 1";

static int collect(char ***out, size_t *n, const PGresult *res)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		if (LETHE_VEC_RESERVE(*out, *n + 1, cap) < 0 ||
		    !((*out)[*n] = strdup(PQgetvalue(res, i, 0)))) {
			lethe_backend_names_free(*out, *n);
			*out = NULL;
			*n = 0;
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		}
		(*n)++;
	}
	return 0;
}

int lethe_pg_probe_expr(char ***tables, size_t *ntables, char **volatile_fn, lethe_pg *be,
			const char *table, const char *expr)
{
	lethe_strbuf s = LETHE_STRBUF_INIT;
	PGresult *rel = NULL, *vol = NULL;
	char **names = NULL;
	size_t n = 0;
	int nested = PQtransactionStatus(be->conn) != PQTRANS_IDLE, rc;

	if (strstr(expr, ":lethe_"))
		return LETHE_ENOTFOUND; /* a parameter cannot stand in a view */
	if ((rc = lethe_pg_exec(NULL, be, "begin a probe", nested ? "SAVEPOINT lethe_probe" :
				"BEGIN READ WRITE", 0, NULL)) < 0)
		return rc;
	lethe_strbuf_adds(&s, "CREATE TEMPORARY VIEW lethe_probe AS SELECT (\n");
	lethe_strbuf_adds(&s, expr);
	lethe_strbuf_adds(&s, "\n) AS lethe_v FROM ");
	lethe_pg_ident(&s, table);
	if (lethe_pg_exec(NULL, be, "make a probe view", lethe_strbuf_str(&s), 0, NULL) < 0)
		rc = LETHE_ENOTFOUND;
	else if ((rc = lethe_pg_exec(&rel, be, "read an expression's dependencies", relations_sql, 0,
				     NULL)) == 0 &&
		 (rc = lethe_pg_exec(&vol, be, "read an expression's functions", volatile_sql, 0,
				     NULL)) == 0)
		rc = collect(&names, &n, rel);
	lethe_pg_exec(NULL, be, "end a probe", nested ? "ROLLBACK TO SAVEPOINT lethe_probe" :
		      "ROLLBACK", 0, NULL);
	if (nested)
		lethe_pg_exec(NULL, be, "end a probe", "RELEASE SAVEPOINT lethe_probe", 0, NULL);
	if (rc == 0 && volatile_fn && PQntuples(vol) > 0 &&
	    !(*volatile_fn = strdup(PQgetvalue(vol, 0, 0))))
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	else if (rc == 0 && volatile_fn && PQntuples(vol) == 0)
		*volatile_fn = NULL;
	if (rc == 0 && tables) {
		*tables = names;
		*ntables = n;
		names = NULL;
	}
	lethe_backend_names_free(names, n);
	PQclear(rel);
	PQclear(vol);
	lethe_strbuf_release(&s);
	return rc;
}
