/*
 * keyset.h - the parent keys a dependent set keeps, worked out once per plan
 * and shared by every rule whose blocked check asks for them.
 *
 * A dependent set d (lethe_dependents: rows of a child table C referencing a
 * parent table through one column c) blocks a parent row p when some row of
 * C with C.c = p is not due under d's rules or is itself blocked by d's own
 * children. Asked per parent, that is a correlated subquery per due parent
 * and per set (and, nested, per child row); but the scan that counts C's own
 * rule already decides, for every row of C, whether it is due and whether it
 * is blocked. When d's condition is exactly that rule's (one rule, no where,
 * no hold, the same clock, threshold and children), that scan can collect
 * the values of C.c of the rows that survive, and the parents' scans look
 * them up instead of searching C.
 *
 * Life cycle: lethe_keysets_new, lethe_keysets_register (before any scan; the
 * sets are fixed from then on), scans on any thread (claim, add, publish;
 * wait, ready, has), lethe_keysets_free.
 *
 * Invariants:
 *  - A set is identified by a signature of its node (tables, columns,
 *    action, rules with their thresholds, children's signatures, cycle): two
 *    nodes with the same signature have the same condition on the same rows,
 *    in whichever rule's tree they appear.
 *  - A set is READY only after the scan that produced it stepped to its end
 *    without error and saw only integer values of C.c (and NULLs, which match
 *    no parent): then, for an integer parent value p, p is in the set iff
 *    EXISTS a row of C with C.c = p that survives, whatever the columns'
 *    affinities (an integer equals an integer only when they are the same
 *    number). Any other value, or a set past the memory budget, makes the set
 *    UNUSABLE: the parents' scans keep their subquery.
 *  - A READY set never changes again, so looking it up needs no lock; only
 *    the producing thread adds to a PRODUCING set. States change under the
 *    mutex.
 *  - The answer for anything the sets cannot decide is "unknown" (-1): the
 *    caller then asks the register as before. A set can make a plan faster,
 *    never different (within one statement's snapshot; a plan is counted in
 *    several statements anyway: plan_rules.c).
 *  - Memory: at most the budget given to lethe_keysets_new for every set's
 *    bits together (a bit per key, in chunks of 32,768 keys), whatever the
 *    register's size; a set that would pass it is dropped.
 */
#ifndef LETHE_KEYSET_H
#define LETHE_KEYSET_H

#include <stddef.h>
#include <stdint.h>
#include "lethe/backend.h"

typedef struct lethe_keysets lethe_keysets;

/* --- life cycle ---------------------------------------------------------- */

/* 0, or LETHE_ESOFTWARE (out of memory). budget: bytes for all sets' bits. */
int lethe_keysets_new(lethe_keysets **out, size_t budget);
void lethe_keysets_free(lethe_keysets *ks);

/* Register every node of deps (recursively) that a scan could produce. Only
 * before any scan runs. 0 or LETHE_ESOFTWARE. */
int lethe_keysets_register(lethe_keysets *ks, const lethe_dependents *deps, size_t n);

/* --- consumers: the scan of a parent ------------------------------------- */

/* The set of node d, or -1 when there is none (d cannot be produced). */
int lethe_keysets_find(const lethe_keysets *ks, const lethe_dependents *d);

/* Wait until no set of deps' nodes (recursively) is being produced, so that
 * a scan composed next sees every set that a scan running now produces. */
void lethe_keysets_wait(lethe_keysets *ks, const lethe_dependents *deps, size_t n);

/* 1 when set id is READY (then lethe_keysets_has answers for it). */
int lethe_keysets_ready(lethe_keysets *ks, int id);

/* 1 when the integer v is in READY set id, 0 when not, -1 when unknown. */
int lethe_keysets_has(const lethe_keysets *ks, int id, int64_t v);

/* --- producers: the count of a child table's rule ------------------------ */

/* The sets `scan` can produce and nobody produces yet, now claimed by the
 * caller: *ids (malloc'd, the caller's; NULL when none) of *n sets. For each,
 * lethe_keysets_column names C's referencing column. 0 or LETHE_ESOFTWARE. */
int lethe_keysets_claim(int **ids, size_t *n, lethe_keysets *ks, const lethe_scan *scan);
const char *lethe_keysets_column(const lethe_keysets *ks, int id);

/* A surviving row's value of C.c, while its scan steps (producer thread
 * only). NULL matches no parent; anything but an integer spoils the set. */
void lethe_keysets_add_int(lethe_keysets *ks, int id, int64_t v);
void lethe_keysets_spoil(lethe_keysets *ks, int id);

/* The scan ended: ok (it stepped to its end) makes the sets READY (or
 * UNUSABLE when spoiled); otherwise they are emptied and may be claimed
 * again. Wakes lethe_keysets_wait. */
void lethe_keysets_publish(lethe_keysets *ks, const int *ids, size_t n, int ok);

#endif
