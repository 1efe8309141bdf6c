/*
 * test_transform.c - the new value of a pseudonymised or masked column
 * (enforcer/transform.c), value by value, with known answers.
 *
 * The tokens were computed independently of libsodium, with Python's
 * hashlib, for the key bytes 0x00..0x1f (as in test_token.c):
 *   plain: hashlib.blake2b(value, key=key, person=b"lethe-token-v1", digest_size=16)
 *   row:   hashlib.blake2b(len(value).to_bytes(8, "little") + value + type + row,
 *                          key=key, person=b"lethe-tokrow-v1", digest_size=16)
 */
#include <check.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/token.h"
#include "register_fixture.h"
#include "transform.h"

#define TOK_12345 "tok_6a31b90ad2f8c7917f48cdd078518a13"        /* "12345" */
#define TOK_3_5 "tok_66bfc47e05642d970a376a41262a6b93"          /* "3.5" */
#define TOK_MINUS_7 "tok_0f5047021a6d2af3febba1c278d3aa92"      /* "-7" */
#define ROW_BOB_TK1 "tok_33df62bd398b57ce51c46af1e70fa7a3"     /* "bob@example.com", 't', "k1" */
#define ROW_BOB_R2_5 "tok_d0495e57cbbf922bb3cd416255c20414"    /* "bob@example.com", 'r', "2.5" */
#define ROW_12345_I7 "tok_cfe71df7dbfea93dc51e48bea6db976b"    /* "12345", 'i', "7" */

static lethe_value v_text(const char *s)
{
	lethe_value v = { .type = LETHE_VALUE_TEXT, .s = s, .len = strlen(s) };
	return v;
}

static lethe_value v_int(int64_t i)
{
	lethe_value v = { .type = LETHE_VALUE_INTEGER, .i = i };
	return v;
}

static lethe_value v_real(double r)
{
	lethe_value v = { .type = LETHE_VALUE_REAL, .r = r };
	return v;
}

/* Assert out is TEXT equal to want (length-exact, not NUL-terminated). */
static void is_text(const lethe_value *out, const char *want)
{
	ck_assert_int_eq(out->type, LETHE_VALUE_TEXT);
	ck_assert_msg(out->len == strlen(want) && memcmp(out->s, want, out->len) == 0,
		      "got '%.*s', want '%s'", (int)out->len, out->s, want);
}

static void transform(lethe_transform *t, size_t col, lethe_value in, lethe_value key,
		      lethe_value *out)
{
	int rc = lethe_transform_value(t, col, &in, &key, out);

	ck_assert_msg(rc == 0, "transform: %d %s", rc, lethe_error_last());
}

START_TEST(test_transform_token_plain_and_row)
{
	lethe_token_key *k = rf_kat_key();
	char tok[LETHE_TOKEN_SIZE];
	lethe_value key;

	ck_assert_int_eq(lethe_transform_token(tok, k, "Bob", 3, NULL), 0);
	ck_assert_str_eq(tok, TOK_BOB);
	key = v_int(7);
	ck_assert_int_eq(lethe_transform_token(tok, k, "bob@example.com", 15, &key), 0);
	ck_assert_str_eq(tok, ROW_BOB_I7);
	key = v_text("k1");
	ck_assert_int_eq(lethe_transform_token(tok, k, "bob@example.com", 15, &key), 0);
	ck_assert_str_eq(tok, ROW_BOB_TK1);
	key = v_real(2.5);
	ck_assert_int_eq(lethe_transform_token(tok, k, "bob@example.com", 15, &key), 0);
	ck_assert_str_eq(tok, ROW_BOB_R2_5);
	key.type = LETHE_VALUE_NULL;
	ck_assert_int_eq(lethe_transform_token(tok, k, "bob@example.com", 15, &key), LETHE_EDATA);
	lethe_token_key_free(k);
}
END_TEST

/* Integers and reals are tokenised by their decimal text; UNIQUE columns get
 * the row token; NULL stays NULL; no key is a configuration error. */
START_TEST(test_transform_pseudonymise_values)
{
	lethe_policy *p = rf_policy("rules:\n  - {name: pz, basis: b, table: t, from: d, "
				    "retain: 1 day, action: pseudonymise, columns: [name, email]}\n");
	lethe_token_key *k = rf_kat_key();
	int unique[2] = { 0, 1 }, notnull[2] = { 0, 0 };
	lethe_transform t = { &p->rules[0], k, notnull, unique, { 0 } };
	lethe_value out, nokey = { .type = LETHE_VALUE_NULL };

	transform(&t, 0, v_text("Bob"), v_int(7), &out);
	is_text(&out, TOK_BOB);
	transform(&t, 0, v_int(12345), v_int(7), &out);
	is_text(&out, TOK_12345);
	transform(&t, 0, v_text("12345"), v_int(8), &out);     /* 12345 and '12345' join */
	is_text(&out, TOK_12345);
	transform(&t, 0, v_int(-7), v_int(7), &out);
	is_text(&out, TOK_MINUS_7);
	transform(&t, 0, v_real(3.5), v_int(7), &out);
	is_text(&out, TOK_3_5);
	/* the UNIQUE column: bound to the row's key */
	transform(&t, 1, v_text("bob@example.com"), v_int(7), &out);
	is_text(&out, ROW_BOB_I7);
	transform(&t, 1, v_int(12345), v_int(7), &out);
	is_text(&out, ROW_12345_I7);
	transform(&t, 1, v_text("bob@example.com"), v_text("k1"), &out);
	is_text(&out, ROW_BOB_TK1);
	/* NULL stays NULL, even without a row key */
	transform(&t, 1, nokey, nokey, &out);
	ck_assert_int_eq(out.type, LETHE_VALUE_NULL);
	/* a UNIQUE value of a row without a key names no row */
	{
		lethe_value in = v_text("bob@example.com");
		ck_assert_int_eq(lethe_transform_value(&t, 1, &in, &nokey, &out), LETHE_EDATA);
	}
	/* no column 2; no key configured */
	{
		lethe_value in = v_text("Bob"), key = v_int(1);
		ck_assert_int_eq(lethe_transform_value(&t, 2, &in, &key, &out), LETHE_ESOFTWARE);
		t.key = NULL;
		ck_assert_int_eq(lethe_transform_value(&t, 0, &in, &key, &out), LETHE_ECONFIG);
		ck_assert(strstr(lethe_error_last(), "pseudonym_key") != NULL);
	}
	lethe_token_key_free(k);
	lethe_policy_free(p);
}
END_TEST

START_TEST(test_transform_masks)
{
	lethe_policy *p = rf_policy(
		"rules:\n  - name: mk\n    basis: b\n    table: t\n    from: d\n"
		"    retain: 1 day\n    action: mask\n    columns:\n"
		"      a: null\n      b: redact\n      c: \"redact: (gone)\"\n"
		"      d: year\n      e: month\n      f: first 3\n      g: year\n      h: month\n");
	int notnull[8] = { 0, 0, 0, 0, 0, 0, 1, 1 };
	lethe_transform t = { &p->rules[0], NULL, notnull, NULL, { 0 } };
	lethe_value out, key = v_int(1), null = { .type = LETHE_VALUE_NULL };

	transform(&t, 0, v_text("10.0.0.1"), key, &out);
	ck_assert_int_eq(out.type, LETHE_VALUE_NULL);
	transform(&t, 1, v_text("Mozilla/5.0"), key, &out);
	is_text(&out, "[redacted]");
	transform(&t, 1, v_int(42), key, &out);
	is_text(&out, "[redacted]");
	transform(&t, 2, v_text("secret"), key, &out);
	is_text(&out, "(gone)");
	/* year / month of text dates in every spelling, UTC */
	transform(&t, 3, v_text("2024-02-29"), key, &out);
	is_text(&out, "2024");
	transform(&t, 4, v_text("2024-02-29 10:11:12"), key, &out);
	is_text(&out, "2024-02");
	transform(&t, 4, v_text("2023-12-31T23:30:00-01:00"), key, &out);   /* 2024-01-01 UTC */
	is_text(&out, "2024-01");
	transform(&t, 3, v_text("2023-12-31T23:30:00-01:00"), key, &out);
	is_text(&out, "2024");
	/* unix seconds: the first second of the year / month
	 * (1709251199 = 2024-02-29T23:59:59Z; 2024-01-01 = 1704067200, 2024-02-01 = 1706745600) */
	transform(&t, 3, v_int(1709251199), key, &out);
	ck_assert_int_eq(out.type, LETHE_VALUE_INTEGER);
	ck_assert_int_eq(out.i, 1704067200);
	transform(&t, 4, v_int(1709251199), key, &out);
	ck_assert_int_eq(out.type, LETHE_VALUE_INTEGER);
	ck_assert_int_eq(out.i, 1706745600);
	transform(&t, 4, v_int(-1), key, &out);                 /* 1969-12-31 -> 1969-12-01 */
	ck_assert_int_eq(out.i, -31 * 86400);
	/* no date: nothing of it is left; NULL, or the redaction on NOT NULL */
	transform(&t, 3, v_text("not a date"), key, &out);
	ck_assert_int_eq(out.type, LETHE_VALUE_NULL);
	transform(&t, 4, v_real(3.5), key, &out);
	ck_assert_int_eq(out.type, LETHE_VALUE_NULL);
	transform(&t, 6, v_text("2024-02-30"), key, &out);
	is_text(&out, "[redacted]");
	transform(&t, 7, v_text("soon"), key, &out);
	is_text(&out, "[redacted]");
	transform(&t, 7, v_text("2024-05-06"), key, &out);      /* a date on NOT NULL: cut */
	is_text(&out, "2024-05");
	/* first 3: characters, not bytes */
	transform(&t, 5, v_text("00100"), key, &out);
	is_text(&out, "001");
	transform(&t, 5, v_text("Äänekoski"), key, &out);
	is_text(&out, "Ään");
	transform(&t, 5, v_text("日本語テキスト"), key, &out);
	is_text(&out, "日本語");
	transform(&t, 5, v_text("a😀bc"), key, &out);
	is_text(&out, "a😀b");
	transform(&t, 5, v_text("ab"), key, &out);
	is_text(&out, "ab");
	transform(&t, 5, v_int(123456), key, &out);
	is_text(&out, "123");
	{
		lethe_value blob = { .type = LETHE_VALUE_BLOB, .s = "\x01\x02\x03\x04", .len = 4 };
		transform(&t, 5, blob, key, &out);
		ck_assert_int_eq(out.type, LETHE_VALUE_BLOB);
		ck_assert_uint_eq(out.len, 3);
		ck_assert(memcmp(out.s, "\x01\x02\x03", 3) == 0);
	}
	/* NULL stays NULL under every strategy, NOT NULL or not */
	for (size_t c = 0; c < 8; c++) {
		transform(&t, c, null, key, &out);
		ck_assert_msg(out.type == LETHE_VALUE_NULL, "column %zu", c);
	}
	lethe_policy_free(p);
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		test_transform_token_plain_and_row,
		test_transform_pseudonymise_values,
		test_transform_masks,
	};

	return rf_main("transform", tests, sizeof(tests) / sizeof(tests[0]));
}
