/*
 * test_declarations.c - the `declarations` header key through the policy
 * loader (real files in a temp folder): every field lands where
 * lethe/declarations.h says, references resolve to indexes, and every fault
 * (missing translation, second basis, unknown purpose, duplicate id, a
 * subject's table in no category, a category's table in two) is reported at
 * its FILE:LINE:COLUMN in one load.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/declarations.h"
#include "lethe/error.h"
#include "lethe/policy.h"
#include "yaml_test_util.h"

static const char *const RULES =
	"lethe: 1\n"
	"rules:\n"
	"  - name: orders\n"
	"    basis: KPL\n"
	"    table: orders\n"
	"    subject: customer_id\n"
	"    from: order_date\n"
	"    retain: 6 years\n"
	"    action: delete\n"
	"  - name: chats\n"
	"    basis: GDPR\n"
	"    table: chats\n"
	"    subject: customer_id\n"
	"    from: ended_at\n"
	"    retain: 12 months\n"
	"    action: delete\n";

static const char *const GOOD =
	"lethe: 1\n"
	"declarations:\n"
	"  languages: [fi, en]\n"
	"  register: {fi: Rekisteri, en: Register}\n"
	"  controller: {name: Testi Oy, business_id: 1234567-8, email: a@b.example}\n"
	"  contact: {role: {fi: Asiakaspalvelu, en: Service}, email: a@b.example}\n"
	"  data_protection_contact: {role: {fi: DPO, en: DPO}, phone: '+358 1'}\n"
	"  authority: {role: {fi: TSV, en: DPA}, web: https://tietosuoja.fi}\n"
	"  rights: {fi: Ota yhteyttä, en: Contact us}\n"
	"  subjects: [{fi: Asiakkaat, en: Customers}]\n"
	"  purposes:\n"
	"    - {id: books, name: {fi: Kirjanpito, en: Books}, basis: legal-obligation, law: KPL}\n"
	"    - {id: service, name: {fi: Palvelu, en: Service}, basis: legitimate-interests,\n"
	"       interest: {fi: Palvelu, en: Service}}\n"
	"  categories:\n"
	"    - {id: orders, name: {fi: Tilaukset, en: Orders}, purpose: books, tables: [orders]}\n"
	"    - {id: chats, name: {fi: Chatit, en: Chats}, purpose: service, tables: [CHATS]}\n"
	"  recipients:\n"
	"    - {name: Posti, what: {fi: Kuljetus, en: Delivery}, purpose: service,\n"
	"       transfer: {fi: Ei, en: None}}\n"
	"  sources: [{fi: Itse, en: Self}]\n"
	"  elsewhere:\n"
	"    - {id: ga, name: {fi: GA, en: GA}, where: {fi: G, en: G}, purpose: service,\n"
	"       period: {fi: 14 kk, en: 14 months}}\n"
	"  security: [{fi: Salaus, en: Encryption}]\n";

START_TEST(every_field_and_reference)
{
	char *dir = tu_mkdtemp();
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	const lethe_declarations *x;

	free(tu_write(dir, "10-rules.yaml", RULES));
	free(tu_write(dir, "90-declarations.yaml", GOOD));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 0), 0);
	ck_assert_uint_eq(d.count, 0);
	x = p->declarations;
	ck_assert_ptr_nonnull(x);
	ck_assert(lethe_declarations_speak(x, LETHE_LANG_FI));
	ck_assert(!lethe_declarations_speak(x, LETHE_LANG_SV));
	ck_assert_str_eq(lethe_ltext_get(&x->register_name, LETHE_LANG_EN), "Register");
	ck_assert_ptr_null(lethe_ltext_get(&x->register_name, LETHE_LANG_SV));
	ck_assert_str_eq(x->controller.name, "Testi Oy");
	ck_assert_str_eq(x->business_id, "1234567-8");
	ck_assert_str_eq(x->dp_contact.phone, "+358 1");
	ck_assert_uint_eq(x->npurposes, 2);
	ck_assert_int_eq(x->purposes[0].basis, LETHE_BASIS_LEGAL_OBLIGATION);
	ck_assert_str_eq(x->purposes[0].law, "KPL");
	ck_assert_int_eq(x->purposes[1].basis, LETHE_BASIS_LEGITIMATE_INTERESTS);
	ck_assert_uint_eq(x->ncategories, 2);
	ck_assert_uint_eq(x->categories[1].purpose, 1);
	ck_assert_ptr_eq(lethe_declarations_category_of(x, "chats"), &x->categories[1]);
	ck_assert_ptr_null(lethe_declarations_category_of(x, "nope"));
	ck_assert_uint_eq(x->nrecipients, 1);
	ck_assert_str_eq(lethe_ltext_get(&x->recipients[0].transfer, LETHE_LANG_FI), "Ei");
	ck_assert_uint_eq(x->nelsewhere, 1);
	ck_assert_uint_eq(x->elsewhere[0].purpose, 1);
	ck_assert_uint_eq(x->nsources, 1);
	ck_assert_uint_eq(x->nsecurity, 1);
	ck_assert_uint_eq(x->ncookies, 0);
	ck_assert_int_eq(lethe_declarations_language_fault(x, "en", (lethe_mark){ "c", 1, 1 }, &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert_int_eq(lethe_declarations_language_fault(x, "sv", (lethe_mark){ "c", 4, 11 }, &d), 0);
	tu_find(&d, "c", 4, 11, "no 'sv' texts");
	lethe_diags_free(&d);
	lethe_policy_free(p);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* GOOD with faults: register without its en text (line 4), a purpose with
 * two bases (line 12), a category with an unknown purpose and a table no
 * rule covers (line 16), a second category of orders with a duplicate id
 * (line 17); chats then is in no category (the rule's table, 10-rules.yaml
 * line 12). */
static const char *const BAD =
	"lethe: 1\n"
	"declarations:\n"
	"  languages: [fi, en]\n"
	"  register: {fi: Rekisteri}\n"
	"  controller: {name: Testi Oy, business_id: 1234567-8, email: a@b.example}\n"
	"  contact: {role: {fi: Asiakaspalvelu, en: Service}, email: a@b.example}\n"
	"  data_protection_contact: {role: {fi: DPO, en: DPO}, phone: '+358 1'}\n"
	"  authority: {role: {fi: TSV, en: DPA}, web: https://tietosuoja.fi}\n"
	"  rights: {fi: Ota yhteyttä, en: Contact us}\n"
	"  subjects: [{fi: Asiakkaat, en: Customers}]\n"
	"  purposes:\n"
	"    - {id: books, name: {fi: Kirjanpito, en: Books}, basis: [legal-obligation, consent]}\n"
	"    - {id: service, name: {fi: Palvelu, en: Service}, basis: contract}\n"
	"  categories:\n"
	"    - {id: orders, name: {fi: Tilaukset, en: Orders}, purpose: books, tables: [orders]}\n"
	"    - {id: chats, name: {fi: Chatit, en: Chats}, purpose: servic, tables: [nope]}\n"
	"    - {id: orders, name: {fi: T, en: O}, purpose: books, tables: [orders]}\n"
	"  recipients: []\n"
	"  sources: [{fi: Itse, en: Self}]\n"
	"  security: [{fi: Salaus, en: Encryption}]\n";

START_TEST(every_fault_located)
{
	char *dir = tu_mkdtemp();
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;

	free(tu_write(dir, "10-rules.yaml", RULES));
	free(tu_write(dir, "90-declarations.yaml", BAD));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 0), LETHE_EDATA);
	ck_assert_ptr_null(p);
	tu_find(&d, "90-declarations.yaml", 4, 13, "'register': missing the 'en' translation");
	tu_find(&d, "90-declarations.yaml", 12, 61, "one legal basis per purpose");
	tu_find(&d, "90-declarations.yaml", 16, 59, "'servic' is not a declared purpose");
	tu_find(&d, "90-declarations.yaml", 16, 7, "no rule covers table 'nope'");
	tu_find(&d, "90-declarations.yaml", 17, 12, "duplicate id 'orders'");
	tu_find(&d, "90-declarations.yaml", 17, 7, "table 'orders' is already in category 'orders'");
	tu_find(&d, "10-rules.yaml", 12, 12, "table 'chats' holds data subjects' data but is in no "
		"declared category");
	ck_assert_uint_eq(d.count, 7);
	lethe_diags_free(&d);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

/* RULES with kept_because on the chats rule: a plain string is English, so
 * with languages [fi, en] the fi text is missing (a fault at the value, line
 * 18); translations give each language its words. */
static const char *const KEPT_PLAIN = "    keep_while: open = 1\n    kept_because: it is open\n";
static const char *const KEPT_LANGS =
	"    keep_while: open = 1\n"
	"    kept_because: {fi: se on auki, en: it is open}\n";

START_TEST(kept_because_in_every_language)
{
	char *dir = tu_mkdtemp(), *rules = NULL;
	lethe_diags d = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	const lethe_rule *r;

	ck_assert_int_ge(asprintf(&rules, "%s%s", RULES, KEPT_PLAIN), 0);
	free(tu_write(dir, "10-rules.yaml", rules));
	free(tu_write(dir, "90-declarations.yaml", GOOD));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 0), LETHE_EDATA);
	tu_find(&d, "10-rules.yaml", 18, 19, "rule 'chats': 'kept_because' has no 'fi' text");
	ck_assert_uint_eq(d.count, 1);
	lethe_diags_free(&d);
	free(rules);

	ck_assert_int_ge(asprintf(&rules, "%s%s", RULES, KEPT_LANGS), 0);
	free(tu_write(dir, "10-rules.yaml", rules));
	ck_assert_int_eq(lethe_policy_load(&p, dir, &d, 0), 0);
	ck_assert_uint_eq(d.count, 0);
	r = lethe_policy_rule(p, "chats");
	ck_assert_str_eq(lethe_rule_kept_because(r, LETHE_LANG_FI), "se on auki");
	ck_assert_str_eq(lethe_rule_kept_because(r, LETHE_LANG_EN), "it is open");
	ck_assert_str_eq(r->kept_because, "it is open");
	ck_assert_ptr_null(lethe_rule_kept_because(lethe_policy_rule(p, "orders"), LETHE_LANG_FI));
	lethe_policy_free(p);
	free(rules);
	tu_rmtree(dir);
	free(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("declarations");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, every_field_and_reference);
	tcase_add_test(tc, every_fault_located);
	tcase_add_test(tc, kept_because_in_every_language);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
