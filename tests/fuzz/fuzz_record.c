/*
 * fuzz_record.c - libFuzzer harness for the evidence record reader: the
 * verifier's checks of one record (verify_record.c, through
 * verify_record_bytes), without a repository.
 *
 * Input: the record's JSON, optionally followed by a NUL byte and the content
 * of "every other file in the commit": the harness's reader returns those
 * bytes for any path the record lists (so a seed whose sha256 fields hash
 * that tail reaches the digest-file and run checks).
 *
 * Invariants:
 *  - The record's kind and seq for its name are taken from its own "kind"
 *    and "seq" when present (else "intent" and 1), so that real records get
 *    past the name checks; a completion or abort finds the intent it names
 *    ("intent_seq", "run_id") already seen, as lethe_verify would have.
 *  - The checker's return is 0 or LETHE_EVERIFY with a reason; everything it
 *    allocates is freed with the state, as lethe_verify does.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "verify_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	const char *data;
	size_t len;
} tail;

/* Every listed file has the tail's content; a malloc'd copy with a NUL, as
 * lethe_evidence_read gives. */
static int read_tail(char **data, size_t *len, void *ctx, const char *path)
{
	const tail *t = ctx;
	char *copy = malloc(t->len + 1);

	(void)path;
	if (!copy)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	if (t->len)
		memcpy(copy, t->data, t->len);
	copy[t->len] = '\0';
	*data = copy;
	*len = t->len;
	return 0;
}

/* Name the record after its own kind and seq; register the intent a
 * completion or abort names. */
static void peek(verify_state *s, char *kind, size_t kind_size, int64_t *seq, const char *data,
		 size_t len)
{
	json_t *rec = json_loadb(data, len, 0, NULL);
	json_t *k = json_object_get(rec, "kind"), *q = json_object_get(rec, "seq");
	json_t *is = json_object_get(rec, "intent_seq"), *id = json_object_get(rec, "run_id");

	snprintf(kind, kind_size, "intent");
	*seq = 1;
	if (json_is_string(k) && strlen(json_string_value(k)) < kind_size)
		snprintf(kind, kind_size, "%s", json_string_value(k));
	if (json_is_integer(q))
		*seq = json_integer_value(q);
	if (strcmp(kind, "intent") != 0 && json_is_integer(is) && json_is_string(id)) {
		s->intents = calloc(1, sizeof(*s->intents));
		if (!s->intents)
			abort();
		s->nintents = s->capintents = 1;
		snprintf(s->intents[0].run_id, sizeof(s->intents[0].run_id), "%s",
			 json_string_value(id));
		s->intents[0].seq = json_integer_value(is);
	}
	json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const lethe_evidence_commit_info commit = {
		.oid = "0123456789abcdef0123456789abcdef01234567",
	};
	const uint8_t *nul = memchr(data, '\0', size);
	size_t json_len = nul ? (size_t)(nul - data) : size;
	tail t = { nul ? (const char *)nul + 1 : "", nul ? size - json_len - 1 : 0 };
	lethe_verify_report rep;
	verify_state s;
	char kind[32], path[96];
	int64_t seq;
	int rc;

	memset(&rep, 0, sizeof(rep));
	memset(&s, 0, sizeof(s));
	s.rep = &rep;
	s.c = &commit;
	s.read = read_tail;
	s.read_ctx = &t;
	peek(&s, kind, sizeof(kind), &seq, (const char *)data, json_len);
	snprintf(path, sizeof(path), "records/%05lld/%08lld-%s.json", (long long)seq / 1000,
		 (long long)seq, kind);
	rc = verify_record_bytes(&s, path, seq, kind, (const char *)data, json_len);
	if (rc != 0 && (rc != LETHE_EVERIFY || !rep.reason[0]))
		abort();
	if (rc == 0 && rep.reason[0])
		abort();
	/* To check what a seed reaches: LETHE_FUZZ_VERBOSE=1 fuzz_record FILE */
	if (getenv("LETHE_FUZZ_VERBOSE"))
		fprintf(stderr, "%s: %s\n", path, rc == 0 ? "holds" : rep.reason);
	free(s.intents);
	free(s.approvals);
	lethe_error_clear();
	return 0;
}
