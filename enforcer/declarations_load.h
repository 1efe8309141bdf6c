/*
 * declarations_load.h - internal: the `declarations:` mapping of a policy
 * file into a lethe_declarations (declarations.c), for policy.c.
 */
#ifndef LETHE_DECLARATIONS_LOAD_H
#define LETHE_DECLARATIONS_LOAD_H

#include "lethe/declarations.h"
#include "lethe/policy.h"
#include "yaml_doc.h"

/* Parse n into *out (allocated; NULL on out of memory, then y->oom is set).
 * Every fault goes to y; the declarations are kept even with faults, so the
 * cross-checks of lethe_declarations_link still run. */
void lethe_declarations_parse(lethe_declarations **out, lethe_ydoc *y, const yaml_node_t *n,
			      lethe_mark key_mark);

/* The cross-checks against the whole folder's rules (all parsed rules,
 * clean or not, so a faulty rule is not reported missing): every category's
 * table has a rule, no table is in two categories, and every table of a rule
 * with a subject is in one. Faults go to diags; returns their count, or -1 when out of
 * memory. */
long lethe_declarations_link(const lethe_declarations *d, const lethe_rule *rules, size_t nrules,
			     lethe_diags *diags);

void lethe_declarations_free(lethe_declarations *d);

#endif
