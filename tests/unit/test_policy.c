/*
 * test_policy.c - policy folders on real files: the contract's example with
 * every action and mask strategy, defaults, name order, and every fault kind
 * with its exact position, all faults of all files in one load.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/policy.h"
#include "yaml_test_util.h"

static const char example[] =
	"lethe: 1\n"
	"register: Minime.fi asiakasrekisteri\n"
	"controller: Nisuva Oy (2620773-9)\n"
	"fiscal_year_end: 06-30\n"
	"subject:\n"
	"  table: customers\n"
	"  key: id\n"
	"\n"
	"rules:\n"
	"  - name: orders-bookkeeping\n"                       /* 10 */
	"    description: Orders are bookkeeping material.\n"
	"    basis: Kirjanpitolaki 1336/1997 2 luku 10 §\n"
	"    table: orders\n"
	"    key: id\n"
	"    subject: customer_id\n"
	"    where: status <> 'open'\n"
	"    from: order_date\n"
	"    counted_from: end of fiscal year\n"
	"    retain: 10 years\n"
	"    action: delete\n"                                  /* 20 */
	"\n"
	"  - name: marketing-after-withdrawal\n"
	"    basis: GDPR art. 7(3) and 21(3)\n"
	"    table: marketing_profiles\n"
	"    subject: customer_id\n"
	"    from: (SELECT withdrawn_at FROM consents c WHERE c.customer_id = "
	"marketing_profiles.customer_id)\n"
	"    retain: 30 days\n"
	"    action: delete\n"
	"\n"
	"  - name: inactive-accounts\n"                        /* 30 */
	"    basis: GDPR art. 5(1)(e)\n"
	"    table: customers\n"
	"    subject: id\n"
	"    from: coalesce(last_login_at, created_at)\n"
	"    retain: 3 years\n"
	"    action: pseudonymise\n"
	"    columns: [name, email, phone, street]\n"
	"\n"
	"  - name: web-analytics\n"
	"    basis: GDPR art. 5(1)(c) and 5(1)(e)\n"           /* 40 */
	"    table: page_events\n"
	"    from: occurred_at\n"
	"    retain: 14 months\n"
	"    action: mask\n"
	"    columns:\n"
	"      ip_address: null\n"
	"      user_agent: redact\n"
	"      postcode: first 3\n"
	"      born: year\n"
	"      visited: month\n"                                /* 50 */
	"      referrer: { redact: '[gone]' }\n"
	"      city: ~\n"
	"\n"
	"  - name: invoices-kept\n"
	"    basis: Kirjanpitolaki\n"
	"    table: invoices\n"
	"    action: keep\n";

static lethe_policy *load_ok(const char *dir)
{
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	int rc = lethe_policy_load(&p, dir, &d, 0);

	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s:%d:%d: %s\n", d.items[i].file, d.items[i].line,
			d.items[i].column, d.items[i].message);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_ptr_nonnull(p);
	lethe_diags_free(&d);
	return p;
}

START_TEST(example_loads_with_every_field)
{
	char *dir = tu_mkdtemp();
	char *file = tu_write(dir, "shop.yaml", example);
	lethe_policy *p = load_ok(dir);
	const lethe_rule *r;

	ck_assert_uint_eq(p->nfiles, 1);
	ck_assert_str_eq(p->files[0], file);
	ck_assert_str_eq(p->folder, dir);
	ck_assert_str_eq(p->register_name, "Minime.fi asiakasrekisteri");
	ck_assert_str_eq(p->controller, "Nisuva Oy (2620773-9)");
	ck_assert_int_eq(p->fiscal_year_end.month, 6);
	ck_assert_int_eq(p->fiscal_year_end.day, 30);
	ck_assert_str_eq(p->subject_table, "customers");
	ck_assert_str_eq(p->subject_key, "id");
	ck_assert_int_eq(p->subject_table_mark.line, 6);
	ck_assert_int_eq(p->subject_table_mark.column, 10);
	ck_assert_ptr_eq(p->subject_table_mark.file, p->files[0]);
	ck_assert_uint_eq(p->nrules, 5);

	r = &p->rules[0];
	ck_assert_str_eq(r->name, "orders-bookkeeping");
	ck_assert_str_eq(r->description, "Orders are bookkeeping material.");
	ck_assert_str_eq(r->basis, "Kirjanpitolaki 1336/1997 2 luku 10 §");
	ck_assert_str_eq(r->table, "orders");
	ck_assert_str_eq(r->key, "id");
	ck_assert_str_eq(r->subject, "customer_id");
	ck_assert_str_eq(r->where, "status <> 'open'");
	ck_assert_str_eq(r->from, "order_date");
	ck_assert_int_eq(r->counted_from, LETHE_COUNT_END_OF_FISCAL_YEAR);
	ck_assert_int_eq(r->has_retain, 1);
	ck_assert_int_eq(r->retain.n, 10);
	ck_assert_int_eq(r->retain.unit, LETHE_UNIT_YEAR);
	ck_assert_int_eq(r->action, LETHE_ACTION_DELETE);
	ck_assert_ptr_null(r->columns);
	ck_assert_int_eq(r->mark.line, 10);
	ck_assert_int_eq(r->mark.column, 5);
	ck_assert_ptr_eq(r->mark.file, p->files[0]);
	ck_assert_int_eq(r->name_mark.line, 10);
	ck_assert_int_eq(r->name_mark.column, 11);
	ck_assert_int_eq(r->table_mark.line, 13);
	ck_assert_int_eq(r->key_mark.line, 14);
	ck_assert_int_eq(r->subject_mark.line, 15);
	ck_assert_int_eq(r->where_mark.line, 16);
	ck_assert_int_eq(r->where_mark.column, 12);
	ck_assert_int_eq(r->from_mark.line, 17);

	r = lethe_policy_rule(p, "marketing-after-withdrawal");
	ck_assert_ptr_eq(r, &p->rules[1]);
	ck_assert_ptr_null(r->key);           /* default: primary key */
	ck_assert_int_eq(r->key_mark.line, r->mark.line); /* absent: the rule */
	ck_assert_ptr_null(r->where);
	ck_assert_ptr_null(r->description);
	ck_assert_int_eq(r->counted_from, LETHE_COUNT_FROM_DAY);
	ck_assert_int_eq(r->retain.n, 30);
	ck_assert_int_eq(r->retain.unit, LETHE_UNIT_DAY);
	ck_assert(strncmp(r->from, "(SELECT withdrawn_at", 20) == 0);

	r = &p->rules[2];
	ck_assert_int_eq(r->action, LETHE_ACTION_PSEUDONYMISE);
	ck_assert_uint_eq(r->ncolumns, 4);
	ck_assert_str_eq(r->columns[0].column, "name");
	ck_assert_str_eq(r->columns[3].column, "street");
	ck_assert_int_eq(r->columns[3].mark.line, 37);
	ck_assert_int_eq(r->columns[3].mark.column, 35);
	ck_assert_int_eq(r->columns_mark.line, 37);
	ck_assert_int_eq(r->columns_mark.column, 14);

	r = &p->rules[3];
	ck_assert_int_eq(r->action, LETHE_ACTION_MASK);
	ck_assert_int_eq(r->retain.unit, LETHE_UNIT_MONTH);
	ck_assert_uint_eq(r->ncolumns, 7);
	ck_assert_str_eq(r->columns[0].column, "ip_address");
	ck_assert_int_eq(r->columns[0].mask, LETHE_MASK_NULL);
	ck_assert_int_eq(r->columns[0].mark.line, 46);
	ck_assert_int_eq(r->columns[0].mark.column, 7);
	ck_assert_int_eq(r->columns[1].mask, LETHE_MASK_REDACT);
	ck_assert_ptr_null(r->columns[1].text);
	ck_assert_int_eq(r->columns[2].mask, LETHE_MASK_FIRST);
	ck_assert_int_eq(r->columns[2].n, 3);
	ck_assert_int_eq(r->columns[3].mask, LETHE_MASK_YEAR);
	ck_assert_int_eq(r->columns[4].mask, LETHE_MASK_MONTH);
	ck_assert_int_eq(r->columns[5].mask, LETHE_MASK_REDACT);
	ck_assert_str_eq(r->columns[5].text, "[gone]");
	ck_assert_int_eq(r->columns[6].mask, LETHE_MASK_NULL);

	r = &p->rules[4];
	ck_assert_int_eq(r->action, LETHE_ACTION_KEEP);
	ck_assert_int_eq(r->has_retain, 0);
	ck_assert_ptr_null(r->from);
	ck_assert_ptr_null(lethe_policy_rule(p, "no-such-rule"));

	lethe_policy_free(p);
	free(file);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(defaults_and_name_order)
{
	char *dir = tu_mkdtemp();
	lethe_policy *p;

	/* strcmp order: "10-b" before "2-a"; dotfiles and other names skipped. */
	free(tu_write(dir, "2-a.yaml", "lethe: 1\nrules:\n  - {name: a, basis: x, "
		      "table: t, action: keep, from: d, retain: 1 week}\n"));
	free(tu_write(dir, "10-b.yaml", "lethe: 1\nrules:\n  - {name: b, basis: x, "
		      "table: t, action: delete, from: d, retain: 2 weeks}\n"));
	free(tu_write(dir, ".hidden.yaml", "this: [is not valid\n"));
	free(tu_write(dir, "notes.yml", "this: [is not valid\n"));
	free(tu_write(dir, "README", "not yaml at all: [\n"));
	p = load_ok(dir);
	ck_assert_uint_eq(p->nfiles, 2);
	ck_assert(strstr(p->files[0], "/10-b.yaml") != NULL);
	ck_assert(strstr(p->files[1], "/2-a.yaml") != NULL);
	ck_assert_str_eq(p->rules[0].name, "b");
	ck_assert_str_eq(p->rules[1].name, "a");
	ck_assert_ptr_eq(p->rules[1].mark.file, p->files[1]);
	ck_assert_int_eq(p->rules[1].has_retain, 1);   /* keep with both */
	ck_assert_int_eq(p->rules[1].retain.unit, LETHE_UNIT_WEEK);
	ck_assert_int_eq(p->fiscal_year_end.month, 12);
	ck_assert_int_eq(p->fiscal_year_end.day, 31);
	ck_assert_ptr_null(p->register_name);
	ck_assert_ptr_null(p->subject_table);
	ck_assert_ptr_null(p->rules[0].key);
	ck_assert_str_eq(lethe_action_name(p->rules[0].action), "delete");
	ck_assert_str_eq(lethe_action_name(LETHE_ACTION_PSEUDONYMISE), "pseudonymise");
	ck_assert_str_eq(lethe_action_name(LETHE_ACTION_MASK), "mask");
	ck_assert_str_eq(lethe_action_name(LETHE_ACTION_KEEP), "keep");
	lethe_policy_free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* Many faults in several files: all of them come back from one load. */
static const char file_a[] =
	"lethe: 1\n"
	"register: R\n"
	"rules:\n"
	"  - name: x\n"
	"    basis: b\n"
	"    table: t\n"
	"    from: d\n"
	"    retian: 10 years\n"
	"    action: delete\n"
	"  - name: Bad_Name\n"                /* 10 */
	"    basis: b\n"
	"    table: t\n"
	"    from: d\n"
	"    retain: 10 yrs\n"
	"    action: destroy\n"
	"  - name: x\n"
	"    table: t\n"
	"    table: u\n"
	"    basis: ~\n"
	"    from: d\n"                       /* 20 */
	"    retain: 10\n"
	"    action: delete\n"
	"    columns: [a]\n"
	"  - just a string\n"
	"  - name: p\n"
	"    basis: b\n"
	"    table: t\n"
	"    from: d\n"
	"    retain: 1 year\n"
	"    action: pseudonymise\n"          /* 30 */
	"    columns: []\n"
	"  - name: m\n"
	"    basis: b\n"
	"    table: t\n"
	"    from: d\n"
	"    retain: 1 year\n"
	"    action: mask\n"
	"    columns:\n"
	"      ssn: scramble\n"
	"      zip: first 0\n"                /* 40 */
	"      ssn: null\n"
	"  - name: k\n"
	"    basis: b\n"
	"    table: t\n"
	"    action: keep\n"
	"    from: d\n"
	"    counted_from: end of week\n"
	"  - basis: b\n"
	"    table: t\n"
	"    action: keep\n"                  /* 50 */
	"  - name: good\n"
	"    basis: b\n"
	"    table: t\n"
	"    action: keep\n";

static const char file_b[] =
	"lethe: 2\n"
	"rules: [oops]\n";

static const char file_c[] =
	"# the header again\n"
	"register: Again\n"
	"fiscal_year_end: 13-01\n"
	"rules:\n"
	"  - name: ok\n"
	"    basis: b\n"
	"    table: t\n"
	"    from: d\n"
	"    retain: 2 months\n"
	"    action: mask\n"                  /* 10 */
	"    columns: [a]\n"
	"  - name: good\n"
	"    basis: b\n"
	"    table: t\n"
	"    action: keep\n";

static const char file_d[] =
	"lethe: 1\n"
	"rules:\n"
	"  - name: [unclosed\n"
	"    basis: b\n";

START_TEST(all_faults_of_all_files_in_one_load)
{
	char *dir = tu_mkdtemp();
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	char first[600];

	free(tu_write(dir, "c.yaml", file_c));
	free(tu_write(dir, "b.yaml", file_b));
	free(tu_write(dir, "a.yaml", file_a));
	free(tu_write(dir, "d.yaml", file_d));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 0), LETHE_EDATA);
	ck_assert_ptr_null(p);
	snprintf(first, sizeof(first), "(first defined at %s/a.yaml:4)", dir);

	tu_find(&d, "/a.yaml", 8, 5, "unknown key 'retian' in rule 'x'");
	tu_find(&d, "/a.yaml", 4, 5, "missing required key 'retain' in rule 'x'");
	tu_find(&d, "/a.yaml", 10, 11, "'name' must match [a-z0-9-]+");
	tu_find(&d, "/a.yaml", 14, 13, "'retain': bad duration '10 yrs' "
		"(expected N days|weeks|months|years)");
	tu_find(&d, "/a.yaml", 15, 13, "'action' must be one of delete, "
		"pseudonymise, mask, keep");
	tu_find(&d, "/a.yaml", 16, 11, "duplicate rule name 'x'");
	tu_find(&d, "/a.yaml", 16, 11, first);
	tu_find(&d, "/a.yaml", 18, 5, "duplicate key 'table'");
	tu_find(&d, "/a.yaml", 19, 12, "'basis': expected a string");
	tu_find(&d, "/a.yaml", 21, 13, "bad duration '10'");
	tu_find(&d, "/a.yaml", 23, 5, "'columns' is not allowed for action 'delete'");
	tu_find(&d, "/a.yaml", 24, 5, "expected a mapping");
	tu_find(&d, "/a.yaml", 31, 14, "'columns' must be a non-empty sequence");
	tu_find(&d, "/a.yaml", 39, 12, "'ssn': unknown mask strategy 'scramble' "
		"(expected null, redact, redact: TEXT, year, month, first N)");
	tu_find(&d, "/a.yaml", 40, 12, "'zip': bad mask strategy 'first 0'");
	tu_find(&d, "/a.yaml", 41, 7, "duplicate column 'ssn' in rule 'm'");
	tu_find(&d, "/a.yaml", 46, 5, "'from' without 'retain' in rule 'k'");
	tu_find(&d, "/a.yaml", 47, 19, "'counted_from': bad value 'end of week'");
	tu_find(&d, "/a.yaml", 48, 5, "missing required key 'name' in rule #8");
	tu_find(&d, "/b.yaml", 1, 8, "unsupported policy language version 2");
	tu_find(&d, "/c.yaml", 2, 1, "missing 'lethe: 1'");
	snprintf(first, sizeof(first), "'register' is already declared in %s/a.yaml:2", dir);
	tu_find(&d, "/c.yaml", 2, 1, first);
	tu_find(&d, "/c.yaml", 3, 18, "'fiscal_year_end': bad date '13-01'");
	tu_find(&d, "/c.yaml", 11, 14, "'columns' must be a non-empty mapping");
	tu_find(&d, "/c.yaml", 12, 11, "duplicate rule name 'good'");
	tu_find(&d, "/d.yaml", 4, 10, "invalid yaml: did not find expected");
	ck_assert_uint_eq(d.count, 25);
	lethe_diags_free(&d);

	/* Partial: only the rules without a fault are kept. */
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 1), LETHE_EDATA);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->nrules, 1);
	ck_assert_str_eq(p->rules[0].name, "good");
	ck_assert_str_eq(p->register_name, "R");
	ck_assert_uint_eq(p->nfiles, 4);
	lethe_policy_free(p);
	lethe_diags_free(&d);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* One policy file in its own folder; returns the faults of loading it. */
static lethe_diags load_one(const char *text, int expect_rc)
{
	char *dir = tu_mkdtemp();
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;

	free(tu_write(dir, "p.yaml", text));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 0), expect_rc);
	lethe_policy_free(p);
	tu_rmtree(dir);
	free(dir);
	return d;
}

#define RULE_HEAD "lethe: 1\nrules:\n  - name: r\n    basis: b\n    table: t\n"

START_TEST(column_faults)
{
	lethe_diags d;

	d = load_one(RULE_HEAD "    from: d\n    retain: 1 day\n    action: mask\n",
		     LETHE_EDATA);
	tu_find(&d, "/p.yaml", 3, 5, "missing required key 'columns' in rule 'r'");
	lethe_diags_free(&d);

	d = load_one(RULE_HEAD "    from: d\n    retain: 1 day\n    action: pseudonymise\n"
		     "    columns: [a, [b], a]\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 9, 18, "'columns': expected a string");
	tu_find(&d, "/p.yaml", 9, 23, "duplicate column 'a' in rule 'r'");
	ck_assert_uint_eq(d.count, 2);
	lethe_diags_free(&d);

	d = load_one(RULE_HEAD "    from: d\n    retain: 1 day\n    action: mask\n"
		     "    columns:\n      a: [year]\n      b: {redact: [x]}\n"
		     "      c: first\n      d: redact\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 10, 10, "'a': expected a mask strategy");
	tu_find(&d, "/p.yaml", 11, 19, "'redact': expected a string");
	tu_find(&d, "/p.yaml", 12, 10, "'c': unknown mask strategy 'first'");
	ck_assert_uint_eq(d.count, 3);
	lethe_diags_free(&d);

	d = load_one(RULE_HEAD "    action: keep\n    columns: [a]\n    retain: 1 day\n",
		     LETHE_EDATA);
	tu_find(&d, "/p.yaml", 7, 5, "'columns' is not allowed for action 'keep'");
	tu_find(&d, "/p.yaml", 8, 5, "'retain' without 'from'");
	lethe_diags_free(&d);
}
END_TEST

/* keep_while needs the words for the data subject; stale_since needs an age
 * and a clock. */
START_TEST(condition_faults)
{
	lethe_diags d;

	d = load_one(RULE_HEAD "    from: d\n    retain: 1 day\n    action: delete\n"
		     "    keep_while: open = 1\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 9, 5, "'keep_while' without 'kept_because' in rule 'r'");
	ck_assert_uint_eq(d.count, 1);
	lethe_diags_free(&d);

	d = load_one(RULE_HEAD "    from: d\n    retain: 1 day\n    action: delete\n"
		     "    stale_since: opened\n    stale_after: 1 yr\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 10, 18, "'stale_after': bad duration '1 yr'");
	ck_assert_uint_eq(d.count, 1);
	lethe_diags_free(&d);

	d = load_one(RULE_HEAD "    action: keep\n    stale_since: opened\n    stale_after: 1 year\n",
		     LETHE_EDATA);
	tu_find(&d, "/p.yaml", 7, 5, "'stale_since' needs a clock ('from') in rule 'r'");
	lethe_diags_free(&d);

	d = load_one(RULE_HEAD "    from: d\n    counted_from: end of calendar year of fiscal year end\n"
		     "    retain: 6 years\n    action: delete\n    keep_while: open = 1\n"
		     "    kept_because: it is open\n    stale_since: opened\n    stale_after: 1 year\n",
		     0);
	ck_assert_uint_eq(d.count, 0);
	lethe_diags_free(&d);
}
END_TEST

START_TEST(header_and_type_faults)
{
	lethe_diags d;

	d = load_one("lethe: 1\nrules:\n  - name: r\n    basis: b\n    table: ~\n"
		     "    from: d\n    retain: 1 day\n    action: [delete]\n"
		     "    nope: 1\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 5, 12, "'table': expected a string");
	tu_find(&d, "/p.yaml", 8, 13, "'action': expected a string");
	tu_find(&d, "/p.yaml", 9, 5, "unknown key 'nope' in rule 'r'");
	ck_assert_uint_eq(d.count, 3);
	lethe_diags_free(&d);

	d = load_one("register: x\nsubject:\n  table: c\n  colour: red\nrules: {}\n",
		     LETHE_EDATA);
	tu_find(&d, "/p.yaml", 1, 1, "missing 'lethe: 1'");
	tu_find(&d, "/p.yaml", 3, 3, "missing required key 'key' in 'subject'");
	tu_find(&d, "/p.yaml", 4, 3, "unknown key 'colour' in 'subject'");
	tu_find(&d, "/p.yaml", 5, 8, "'rules': expected a sequence");
	ck_assert_uint_eq(d.count, 4);
	lethe_diags_free(&d);

	d = load_one("- just\n- a list\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 1, 1, "expected a mapping");
	lethe_diags_free(&d);

	d = load_one("", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 0, 0, "empty file");
	lethe_diags_free(&d);

	d = load_one("lethe: one\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 1, 8, "'lethe': expected an integer");
	lethe_diags_free(&d);

	d = load_one("lethe: 1\n---\nlethe: 1\n", LETHE_EDATA);
	tu_find(&d, "/p.yaml", 2, 1, "only one yaml document");
	lethe_diags_free(&d);
}
END_TEST

START_TEST(header_key_in_two_files)
{
	char *dir = tu_mkdtemp();
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	char want[600];

	free(tu_write(dir, "a.yaml", "lethe: 1\ncontroller: A\nfiscal_year_end: 06-30\n"
		      "subject: {table: c, key: id}\n"));
	free(tu_write(dir, "b.yaml", "lethe: 1\n\nsubject:\n  table: d\n  key: id\n"
		      "controller: B\nfiscal_year_end: 03-31\n"));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 1), LETHE_EDATA);
	snprintf(want, sizeof(want), "'subject' is already declared in %s/a.yaml:4", dir);
	tu_find(&d, "/b.yaml", 3, 1, want);
	snprintf(want, sizeof(want), "'controller' is already declared in %s/a.yaml:2", dir);
	tu_find(&d, "/b.yaml", 6, 1, want);
	tu_find(&d, "/b.yaml", 7, 1, "'fiscal_year_end' is already declared");
	ck_assert_uint_eq(d.count, 3);
	/* The first declaration stands. */
	ck_assert_str_eq(p->controller, "A");
	ck_assert_str_eq(p->subject_table, "c");
	ck_assert_int_eq(p->fiscal_year_end.month, 6);
	lethe_policy_free(p);
	lethe_diags_free(&d);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(redact_text_as_one_quoted_string)
{
	char *dir = tu_mkdtemp();
	lethe_policy *p;

	free(tu_write(dir, "p.yaml", "lethe: 1\nrules:\n  - name: r\n    basis: b\n    table: t\n"
		 "    from: d\n    retain: 1 day\n    action: mask\n    columns:\n"
		 "      a: \"redact: (removed after 14 months)\"\n      b: redact\n"));
	p = load_ok(dir);
	ck_assert_int_eq(p->rules[0].columns[0].mask, LETHE_MASK_REDACT);
	ck_assert_str_eq(p->rules[0].columns[0].text, "(removed after 14 months)");
	ck_assert_int_eq(p->rules[0].columns[1].mask, LETHE_MASK_REDACT);
	ck_assert_ptr_null(p->rules[0].columns[1].text);
	lethe_policy_free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(empty_and_missing_folder)
{
	char *dir = tu_mkdtemp();
	char *missing = NULL;
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	char want[600];

	free(tu_write(dir, "notes.txt", "lethe: 1\n"));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 0), LETHE_EDATA);
	ck_assert_ptr_null(p);
	snprintf(want, sizeof(want), "no policy files (*.yaml) in '%s'", dir);
	tu_find(&d, dir, 0, 0, want);
	ck_assert_uint_eq(d.count, 1);
	lethe_diags_free(&d);

	ck_assert_int_ge(asprintf(&missing, "%s/nope", dir), 0);
	ck_assert_int_eq(lethe_policy_load(&p, missing, &d, 1), LETHE_ENOINPUT);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(d.count, 0);
	ck_assert(strstr(lethe_error_last(), "nope") != NULL);
	free(missing);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, example_loads_with_every_field);
	tcase_add_test(tc, condition_faults);
	tcase_add_test(tc, defaults_and_name_order);
	tcase_add_test(tc, all_faults_of_all_files_in_one_load);
	tcase_add_test(tc, column_faults);
	tcase_add_test(tc, header_and_type_faults);
	tcase_add_test(tc, header_key_in_two_files);
	tcase_add_test(tc, empty_and_missing_folder);
	tcase_add_test(tc, redact_text_as_one_quoted_string);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
