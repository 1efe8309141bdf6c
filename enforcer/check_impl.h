/*
 * check_impl.h - internal: the schema checks of check_schema.c, called by
 * check.c for each rule (see lethe/check.h for the whole).
 *
 * Each appends its faults to d at the mark of the policy value concerned and
 * returns 0 (faults or not) or a negative lethe error code when the database
 * could not be read or memory ran out.
 */
#ifndef LETHE_CHECK_IMPL_H
#define LETHE_CHECK_IMPL_H

#include "lethe/check.h"

/* 1 for rowid, oid and _rowid_ (any case). */
int lethe_is_rowid_name(const char *s);

/* The rule's key names exactly one row under `key = ?`: the rowid, or a NOT
 * NULL column with a complete single-column UNIQUE index of its own
 * collation. */
int lethe_check_rule_key(const lethe_rule *rule, const lethe_table_info *t, lethe_diags *d);

/* Each pseudonymised or masked column can take its new value on every row:
 * not generated, not referenced by a foreign key, text where a STRICT type
 * allows it, and no constant mask on a UNIQUE column. */
int lethe_check_rule_columns(const lethe_rule *rule, const lethe_table_info *t,
			     const lethe_foreign_keys *fks, lethe_diags *d);

/* Every trigger the rule's disposal would run is proven to keep a full-text
 * index in step, or acknowledged by the rule's `triggers`. */
int lethe_check_rule_triggers(lethe_backend *be, const lethe_rule *rule,
			      const lethe_table_info *t, lethe_diags *d);

/* 1 when the rule's `triggers` acknowledges `trigger`. */
int lethe_rule_acknowledges(const lethe_rule *rule, const char *trigger);

#endif
