/*
 * test_keyset.c - the sets of parent keys a plan's counts share (keyset.h):
 * which scans may produce a set, membership at chunk edges and extremes, a
 * set that saw something else than integers or passed the memory budget
 * never answers, and a set answers only once its producer published it.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "keyset.h"

static lethe_foreign_key fk_c = {
	.child_table = "c", .parent_table = "p",
	.child_columns = (char *[]){ "pid" }, .parent_columns = (char *[]){ "id" },
	.ncolumns = 1, .on_delete = LETHE_FK_CASCADE,
};
static lethe_clock_rule rule_c = {
	.due = { LETHE_DUE_BEFORE, 20000, 2930000 }, .where = NULL, .from = "made",
};
static lethe_dependents node_c = { .fk = &fk_c, .rules = &rule_c, .nrules = 1 };

/* The count of c's own rule: every row, the same clock and threshold. */
static lethe_scan scan_of_c(void)
{
	lethe_scan s;

	memset(&s, 0, sizeof(s));
	s.table = "c";
	s.key = "rowid";
	s.from = "made";
	s.due = rule_c.due;
	return s;
}

static int claim_one(lethe_keysets *ks, const lethe_scan *s)
{
	int *ids = NULL, id;
	size_t n = 0;

	ck_assert_int_eq(lethe_keysets_claim(&ids, &n, ks, s), 0);
	id = n == 1 ? ids[0] : -1;
	ck_assert_uint_le(n, 1);
	free(ids);
	return id;
}

START_TEST(only_the_same_rule_over_every_row_produces)
{
	lethe_keysets *ks = NULL;
	lethe_scan s = scan_of_c();
	int id;

	ck_assert_int_eq(lethe_keysets_new(&ks, 1 << 20), 0);
	ck_assert_int_eq(lethe_keysets_register(ks, &node_c, 1), 0);
	ck_assert_int_ge(lethe_keysets_find(ks, &node_c), 0);
	s.where = "kind = 1";                   /* rows left out */
	ck_assert_int_eq(claim_one(ks, &s), -1);
	s = scan_of_c();
	s.due.due_before = 20001;               /* another threshold */
	ck_assert_int_eq(claim_one(ks, &s), -1);
	s = scan_of_c();
	s.from = "other";                       /* another clock */
	ck_assert_int_eq(claim_one(ks, &s), -1);
	s = scan_of_c();
	s.nexclude = 1;                         /* rows of an earlier rule left out */
	ck_assert_int_eq(claim_one(ks, &s), -1);
	s = scan_of_c();
	s.held = "open = 1";                    /* the set's where has no hold */
	ck_assert_int_eq(claim_one(ks, &s), -1);
	s = scan_of_c();
	s.done_rule = "c-mask";                 /* done rows left out, pid not masked */
	ck_assert_int_eq(claim_one(ks, &s), -1);
	s = scan_of_c();
	id = claim_one(ks, &s);
	ck_assert_int_eq(id, lethe_keysets_find(ks, &node_c));
	ck_assert_int_eq(claim_one(ks, &s), -1); /* claimed once */
	ck_assert_int_eq(lethe_keysets_ready(ks, id), 0);
	ck_assert_int_eq(lethe_keysets_has(ks, id, 1), -1);
	lethe_keysets_publish(ks, &id, 1, 0);   /* its scan failed: claimable again */
	ck_assert_int_eq(claim_one(ks, &s), id);
	lethe_keysets_publish(ks, &id, 1, 1);
	ck_assert_int_eq(lethe_keysets_ready(ks, id), 1);
	ck_assert_int_eq(claim_one(ks, &s), -1); /* READY is final */
	lethe_keysets_free(ks);
}
END_TEST

START_TEST(members_at_chunk_edges_and_extremes)
{
	static const int64_t in[] = { INT64_MIN, INT64_MIN + 1, -32769, -32768, -1, 0, 32767, 32768,
				      65535, (int64_t)1 << 40, INT64_MAX - 1, INT64_MAX };
	static const int64_t out[] = { INT64_MIN + 2, -32770, -32767, -2, 1, 32766, 32769, 65534,
				       65536, ((int64_t)1 << 40) + 1, INT64_MAX - 2 };
	lethe_keysets *ks = NULL;
	lethe_scan s = scan_of_c();
	int id;

	ck_assert_int_eq(lethe_keysets_new(&ks, 1 << 20), 0);
	ck_assert_int_eq(lethe_keysets_register(ks, &node_c, 1), 0);
	id = claim_one(ks, &s);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		lethe_keysets_add_int(ks, id, in[i]);
	for (int64_t k = 100000; k < 100000 + 40 * 32768; k += 32768)
		lethe_keysets_add_int(ks, id, k); /* 40 chunks: the table grows */
	lethe_keysets_publish(ks, &id, 1, 1);
	ck_assert_int_eq(lethe_keysets_ready(ks, id), 1);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_msg(lethe_keysets_has(ks, id, in[i]) == 1, "%lld in", (long long)in[i]);
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		ck_assert_msg(lethe_keysets_has(ks, id, out[i]) == 0, "%lld out", (long long)out[i]);
	for (int64_t k = 100000; k < 100000 + 40 * 32768; k += 32768) {
		ck_assert_int_eq(lethe_keysets_has(ks, id, k), 1);
		ck_assert_int_eq(lethe_keysets_has(ks, id, k + 1), 0);
	}
	ck_assert_int_eq(lethe_keysets_has(ks, id + 1, 0), -1); /* no such set */
	ck_assert_int_eq(lethe_keysets_has(ks, -1, 0), -1);
	lethe_keysets_free(ks);
}
END_TEST

START_TEST(spoiled_or_over_budget_never_answers)
{
	lethe_keysets *ks = NULL;
	lethe_scan s = scan_of_c();
	int id;

	/* a value that is not an integer */
	ck_assert_int_eq(lethe_keysets_new(&ks, 1 << 20), 0);
	ck_assert_int_eq(lethe_keysets_register(ks, &node_c, 1), 0);
	id = claim_one(ks, &s);
	lethe_keysets_add_int(ks, id, 5);
	lethe_keysets_spoil(ks, id);
	lethe_keysets_add_int(ks, id, 6);
	lethe_keysets_publish(ks, &id, 1, 1);
	ck_assert_int_eq(lethe_keysets_ready(ks, id), 0);
	ck_assert_int_eq(lethe_keysets_has(ks, id, 5), -1);
	ck_assert_int_eq(claim_one(ks, &s), -1); /* UNUSABLE is final too */
	lethe_keysets_free(ks);

	/* 64 KiB hold fewer than 16 chunks of 4 KiB and their table */
	ck_assert_int_eq(lethe_keysets_new(&ks, 64 << 10), 0);
	ck_assert_int_eq(lethe_keysets_register(ks, &node_c, 1), 0);
	id = claim_one(ks, &s);
	for (int64_t k = 0; k < 20; k++)
		lethe_keysets_add_int(ks, id, k << 20);
	lethe_keysets_publish(ks, &id, 1, 1);
	ck_assert_int_eq(lethe_keysets_ready(ks, id), 0);
	ck_assert_int_eq(lethe_keysets_has(ks, id, 0), -1);
	lethe_keysets_free(ks);
}
END_TEST

START_TEST(nodes_differ_by_children_and_cycles)
{
	lethe_foreign_key fk_g = {
		.child_table = "g", .parent_table = "c",
		.child_columns = (char *[]){ "cid" }, .parent_columns = (char *[]){ "id" },
		.ncolumns = 1, .on_delete = LETHE_FK_CASCADE,
	};
	lethe_dependents g = { .fk = &fk_g, .rules = &rule_c, .nrules = 1 };
	lethe_dependents with_child = node_c, cycle = node_c;
	lethe_keysets *ks = NULL;
	lethe_scan s = scan_of_c();

	with_child.children = &g;
	with_child.nchildren = 1;
	cycle.cycle = 1;
	ck_assert_int_eq(lethe_keysets_new(&ks, 1 << 20), 0);
	ck_assert_int_eq(lethe_keysets_register(ks, &with_child, 1), 0);
	ck_assert_int_eq(lethe_keysets_register(ks, &cycle, 1), 0);
	ck_assert_int_ge(lethe_keysets_find(ks, &with_child), 0);
	ck_assert_int_ge(lethe_keysets_find(ks, &g), 0);          /* registered recursively */
	ck_assert_int_eq(lethe_keysets_find(ks, &node_c), -1);    /* other children */
	ck_assert_int_eq(lethe_keysets_find(ks, &cycle), -1);     /* a cycle blocks: no set */
	/* c's count without g as its dependents cannot produce the node with g */
	ck_assert_int_eq(claim_one(ks, &s), -1);
	s.deps = &g;
	s.ndeps = 1;
	ck_assert_int_eq(claim_one(ks, &s), lethe_keysets_find(ks, &with_child));
	lethe_keysets_free(ks);
	lethe_keysets_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("keyset");
	TCase *tc = tcase_create("keyset");
	SRunner *r;
	int failed;

	tcase_add_test(tc, only_the_same_rule_over_every_row_produces);
	tcase_add_test(tc, members_at_chunk_edges_and_extremes);
	tcase_add_test(tc, spoiled_or_over_budget_never_answers);
	tcase_add_test(tc, nodes_differ_by_children_and_cycles);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
