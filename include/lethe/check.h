/*
 * lethe/check.h - the policy against the live schema: tables, columns, keys,
 * NOT NULL against `null` masks, every expression prepared read-only.
 * Faults are appended to diags with the marks of the policy files.
 */
#ifndef LETHE_CHECK_H
#define LETHE_CHECK_H

#include "backend.h"
#include "diag.h"
#include "policy.h"

/* 0 when the policy fits the schema; LETHE_EDATA with faults in diags;
 * another code when the database could not be read. */
int lethe_check_schema(lethe_backend *be, const lethe_policy *policy, lethe_diags *diags);

/* The column that identifies a rule's rows: its `key`, else the table's single
 * primary-key column, else the engine's row identity (t->row_key: on SQLite
 * "rowid", or _rowid_ or oid when a column shadows it). NULL when none fits (a
 * WITHOUT ROWID table with a composite key and no `key`). The string is
 * borrowed from rule or t. */
/* Warn (into out) of every table that references the data subject's table,
 * directly or through other such tables, and that no rule covers. Reads the
 * schema only. 0 or a LETHE_E* code. */
int lethe_check_coverage(lethe_warnings *out, lethe_backend *be, const lethe_policy *p);

const char *lethe_rule_key(const lethe_rule *rule, const lethe_table_info *t);

#endif
