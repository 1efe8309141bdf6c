/*
 * backend_impl.h - internal: how a storage backend plugs into lethe/backend.h.
 *
 * Invariants:
 *  - Every backend object starts with `struct lethe_backend` (its first
 *    member), so backend.c can dispatch through `ops` without knowing the
 *    concrete type; the concrete open function fills `ops`.
 *  - The public argument checks (NULL pointers) are done once in backend.c;
 *    the ops may assume non-NULL arguments.
 */
#ifndef LETHE_BACKEND_IMPL_H
#define LETHE_BACKEND_IMPL_H

#include "lethe/backend.h"

struct lethe_backend_ops {
	const char *name;
	void (*free)(lethe_backend *be);
	int (*table_info)(lethe_table_info **out, lethe_backend *be, const char *table);
	/* optional: NULL, and the estimate is unknown */
	int (*estimate_rows)(int64_t *out, lethe_backend *be, const char *table);
	int (*foreign_keys)(lethe_foreign_keys **out, lethe_backend *be);
	int (*check_expr)(lethe_backend *be, const char *table, const char *expr,
			  char **errmsg);
	int (*scan)(lethe_backend *be, const lethe_scan *scan);
	int (*count)(lethe_scan_counts *out, lethe_backend *be, const lethe_scan *scan);
	int (*reopen)(lethe_backend **out, lethe_backend *be);
	int (*tables_read)(char ***out, size_t *n, lethe_backend *be, const char *table,
			   const char *expr);
	int (*begin)(lethe_backend *be);
	int (*commit)(lethe_backend *be);
	void (*rollback)(lethe_backend *be);
	int (*apply)(int64_t *changed, lethe_backend *be, const lethe_change *c,
		     const lethe_value *keys, size_t nkeys);
	int (*dispose)(lethe_disposed *out, lethe_backend *be, const lethe_change *c,
		       const lethe_scan *scan);
	int (*finalise)(lethe_backend *be, lethe_warnings *warnings, unsigned flags);
	int (*mark)(lethe_backend *be, const char *run_id, const char *rule, int64_t disposed,
		    const unsigned char *digests, size_t ndigests);
	int (*marker)(int *found, lethe_backend *be, const char *run_id,
		      int (*cb)(void *ctx, const char *rule, int64_t disposed), void *ctx);
	int (*marker_digests)(lethe_backend *be, const char *run_id, const char *rule,
			      int (*cb)(void *ctx, const char *digest), void *ctx);
	int (*marker_clear)(lethe_backend *be, const char *run_id);
	/* optional (NULL: digests stay in the marker until the completion) */
	int (*marker_seal)(lethe_backend *be, const char *run_id, const lethe_marker_file *files,
			   size_t n, int vacuum_follows);
	int (*marker_sealed)(int *found, lethe_marker_file *out, lethe_backend *be,
			     const char *run_id, const char *rule);
	int (*cleanup_owe)(lethe_backend *be);
	int (*cleanup_owed)(char **since, lethe_backend *be);
	int (*cleanup_done)(lethe_backend *be);
	int (*evidence_head)(int *found, int64_t *seq, char commit[41], lethe_backend *be,
			     const char *repository);
	int (*evidence_head_set)(lethe_backend *be, const char *repository, int64_t seq,
				 const char *commit, const char *at);
	int (*schema_text)(char **out, size_t *len, lethe_backend *be);
	int (*rows)(lethe_backend *be, const char *table, const char *where,
		    const lethe_value *subject,
		    int (*cb)(void *ctx, size_t ncols, const char *const *names,
			      const lethe_value *values), void *ctx);
	int (*suppress)(lethe_backend *be, const char *const *tokens, size_t n, const char *added_at);
	int (*suppressed)(int *found, lethe_backend *be, const char *token);
	int (*hold_add)(int64_t *id, lethe_backend *be, const lethe_hold *h);
	int (*hold_release)(lethe_backend *be, int64_t id, const char *released_at,
			      const char *reason, const char *released_by);
	int (*holds)(lethe_backend *be, int (*cb)(void *ctx, const lethe_hold *h), void *ctx);
	int (*request_put)(int64_t *id, lethe_backend *be, const lethe_request *r);
	int (*requests)(lethe_backend *be, int (*cb)(void *ctx, const lethe_request *r), void *ctx);
	int (*erasure_open)(lethe_backend *be, const lethe_open_erasure *e);
	int (*erasure_close)(lethe_backend *be, const lethe_value *subject);
	int (*erasures_open)(lethe_backend *be, int (*cb)(void *ctx, const lethe_open_erasure *e),
			     void *ctx);
	int (*time_limit)(lethe_backend *be, int64_t seconds);
	int (*pin_schema)(lethe_backend *be);
	int (*change_triggers)(lethe_backend *be, const lethe_change *c,
			       int (*cb)(void *ctx, const char *trigger, int harmless), void *ctx);
	/* optional (NULL: every expression may be a clock) */
	int (*check_clock)(lethe_backend *be, const char *table, const char *expr, char **errmsg);
	/* optional (NULL: nothing stands in the way of a level) */
	int (*residue_check)(lethe_backend *be, const char *const *tables, size_t ntables,
			     unsigned flags, lethe_warnings *warnings);
	/* optional (NULL: no roles, nothing to say) */
	int (*write_access)(lethe_warnings *found, lethe_backend *be, const char *const *tables,
			    size_t ntables);
};

struct lethe_backend {
	const struct lethe_backend_ops *ops;
};

/* backend.c: helpers every backend shares. */
/* "42" or "'abc'" for messages (keys are identifiers, not personal data, but
 * text from the register: escaped and cut, lethe/text.h). */
void lethe_backend_key_label(char *buf, size_t size, const lethe_value *k);
/* The classes of lethe_scan_counts from the aggregate every backend runs:
 * all rows, rows with a clock day, invalid days, days before due_before,
 * held and blocked due rows, the least not-due and greatest valid day. */
void lethe_backend_counts_derive(lethe_scan_counts *out, const lethe_threshold *th, int64_t total,
				 int64_t days, int64_t invalid, int64_t before, int64_t held,
				 int64_t blocked, lethe_day min, lethe_day max);

/* Server backends retry a batch that lost a deadlock or a lock wait, at
 * most LETHE_BACKEND_DISPOSE_TRIES times in all. Between tries the caller
 * sleeps lethe_backend_retry_pause(attempt): a random pause that doubles
 * with each attempt (10-20 ms after the first, at most a second), so that
 * two sessions that deadlocked once do not meet again in the same order. */
#define LETHE_BACKEND_DISPOSE_TRIES 8
void lethe_backend_retry_pause(int attempt);

/* A change_triggers callback (ctx: the lethe_change) that refuses a
 * trigger the rule does not acknowledge (LETHE_EDATA naming it). */
int lethe_backend_refuse_trigger(void *ctx, const char *trigger, int harmless);

/* backend_sqlite.c: `path` is a file name, taken literally (not a URI). */
int lethe_backend_sqlite_open(lethe_backend **out, const char *path, unsigned flags);

/* backend_pg.c: `location` is a libpq connection URI or key/value string. */
int lethe_backend_pg_open(lethe_backend **out, const char *location, unsigned flags);

/* backend_maria.c: `location` is a mariadb:// or mysql:// URI. */
int lethe_backend_maria_open(lethe_backend **out, const char *location, unsigned flags);

#endif
