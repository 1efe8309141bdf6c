/*
 * lethe/replay.h - erasures done again after a restore. A database restored
 * from a backup brings back the rows of every subject erased since the
 * backup was taken; the evidence still knows those erasures by the keyed
 * digest of each subject's key (never the key), so `lethe replay` finds the
 * subjects again by digesting every key of the subject table.
 *
 * Invariants:
 *  - Nothing here writes, to the register or to the evidence.
 *  - Memory grows with the number of erasures in the evidence (one digest
 *    and one sequence number each), never with the number of subjects: the
 *    subject table is streamed, and only subjects whose digest is an
 *    erasure's are kept.
 *  - A subject's digest is lethe_subject_digest of its key (lethe/subject.h):
 *    what `lethe erase`, `hold add --subject` and `access` record.
 *  - A key is not a person: SQLite gives a freed integer key to the next
 *    row, and a restore can bring back a key another person was given since.
 *    The erasure also records its subject's contact digest
 *    (lethe_subject_identity); a subject whose contact digest differs is
 *    reported, never erased.
 */
#ifndef LETHE_REPLAY_H
#define LETHE_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "backend.h"
#include "evidence.h"
#include "policy.h"
#include "subject.h"
#include "token.h"

typedef struct lethe_replay_set lethe_replay_set;

/*
 * The erasures the evidence on main records as done: an intent with request
 * "erasure" whose completion has result "completed" or "recovered", or
 * "failed" after disposing of some rows (aborted ones disposed of nothing).
 * Each subject digest once, with the seq of its first such intent (the
 * original request; later replays of it point back to it too). An empty
 * repository gives an empty set. *out owned by the caller:
 * lethe_replay_set_free.
 */
int lethe_replay_set_load(lethe_replay_set **out, lethe_evidence *ev);
void lethe_replay_set_free(lethe_replay_set *s);
size_t lethe_replay_set_count(const lethe_replay_set *s);

/*
 * The seq of the erasure intent of a subject digest that erased the person
 * whose contact digest (lethe_subject_identity) is `contact` (NULL: a
 * subject without one): an erasure that recorded the same contact digest, or
 * none. 0 when there is no such erasure; then *other is the seq of the first
 * erasure of the digest (an erasure of somebody else who had the key), or 0
 * when the digest names no erasure at all.
 */
int64_t lethe_replay_set_find(const lethe_replay_set *s, const char *digest, const char *contact,
			      int64_t *other);

/* A subject of the register whose key's digest is in the set. */
typedef struct {
	lethe_subject subject;   /* the key, owned */
	int64_t replay_of;       /* seq of the erasure's intent */
	int other_person;        /* 1: the erasure recorded contact values and
				    this subject's differ: the key now belongs to
				    someone else, who must not be erased */
} lethe_replay_match;

/*
 * Stream the policy's subject table (subject.table, subject.key) and return
 * the subjects whose digest is in the set, in the table's order (with
 * other_person set for those whose contact digest no erasure of the key
 * recorded), as a
 * malloc'd array (lethe_replay_matches_free). Keys that are neither integer
 * nor text cannot have been named on a command line and are passed over.
 * LETHE_ECONFIG when the policy names no subject or its key column is not a
 * column of the table.
 */
int lethe_replay_match_subjects(lethe_replay_match **out, size_t *n, lethe_backend *be,
				const lethe_policy *p, const lethe_token_key *k,
				const lethe_replay_set *set);
void lethe_replay_matches_free(lethe_replay_match *m, size_t n);

#endif
