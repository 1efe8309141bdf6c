/*
 * backend_pg_grants.c - whether the connection's role could change the
 * register (lethe_backend_write_access): `check` and `plan` are meant to run
 * as a role that may only read (docs/disposal.md, least privilege), and a
 * read-only session (default_transaction_read_only) is a setting the role
 * itself may turn off, so the role's own rights are what is verified.
 *
 * A role can write to a table when it is a superuser, a member of the
 * table's owner (which may grant itself anything), or holds INSERT or UPDATE
 * on any column, DELETE or TRUNCATE, directly or through a role it inherits
 * (has_*_privilege). Tables are named as the policy names them and resolved
 * through the session's search_path; one that does not resolve is left to
 * check_schema, which reports it.
 *
 * Invariants:
 *  - Only catalogue functions are called: nothing is written, so it runs in
 *    the READONLY session of check and plan.
 *  - Each table is asked once, however many rules act on it.
 */
#include <stdlib.h>
#include <string.h>
#include "backend_pg.h"
#include "lethe/error.h"

static const char ACCESS_SQL[] =
	"SELECT r.rolsuper, pg_has_role(c.relowner, 'MEMBER'), "
	"concat_ws(', ', CASE WHEN has_any_column_privilege(c.oid, 'INSERT') THEN 'INSERT' END, "
	"CASE WHEN has_any_column_privilege(c.oid, 'UPDATE') THEN 'UPDATE' END, "
	"CASE WHEN has_table_privilege(c.oid, 'DELETE') THEN 'DELETE' END, "
	"CASE WHEN has_table_privilege(c.oid, 'TRUNCATE') THEN 'TRUNCATE' END) "
	"FROM pg_class c, pg_roles r WHERE c.oid = to_regclass(quote_ident($1)) "
	"AND r.rolname = current_user";

static int seen_before(const char *const *tables, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(tables[j], tables[i]))
			return 1;
	return 0;
}

int lethe_pg_write_access(lethe_warnings *found, lethe_backend *base, const char *const *tables,
			  size_t ntables)
{
	lethe_pg *be = (lethe_pg *)base;
	lethe_strbuf list = LETHE_STRBUF_INIT;
	PGresult *res = NULL;
	char *role = NULL;
	int rc, superuser = 0;
	size_t n = 0;

	if ((rc = lethe_pg_exec(&res, be, "read the connection's role", "SELECT current_user", 0,
				NULL)) < 0)
		return rc;
	role = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!role)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < ntables && rc == 0; i++) {
		const char *why;

		if (seen_before(tables, i))
			continue;
		if ((rc = lethe_pg_exec(&res, be, "read a table's privileges", ACCESS_SQL, 1,
					&tables[i])) < 0)
			break;
		if (PQntuples(res) == 1) {
			superuser = !strcmp(PQgetvalue(res, 0, 0), "t");
			why = superuser ? NULL : !strcmp(PQgetvalue(res, 0, 1), "t") ? "owner"
			      : PQgetvalue(res, 0, 2);
			if (superuser || *why) {
				lethe_strbuf_adds(&list, n++ ? ", " : "");
				lethe_strbuf_addf(&list, "'%s'", tables[i]);
				if (why)
					lethe_strbuf_addf(&list, " (%s)", why);
			}
		}
		PQclear(res);
	}
	if (rc == 0 && n > 0)
		rc = lethe_warnings_add(found, "role '%s' %s register table%s %s: check and plan "
					"should run as a role that may only read (docs/disposal.md)",
					role, superuser ? "is a superuser and can write to" : "can write to",
					n == 1 ? "" : "s", lethe_strbuf_str(&list));
	lethe_strbuf_release(&list);
	free(role);
	return rc;
}
