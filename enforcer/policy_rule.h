/*
 * policy_rule.h - internal: one rule mapping of a policy file into a
 * lethe_rule. Shared by policy.c (the folder and header) and policy_rule.c.
 */
#ifndef LETHE_POLICY_RULE_H
#define LETHE_POLICY_RULE_H

#include "lethe/policy.h"
#include "yaml_doc.h"

/* Parse the rule node n (the index-th rule of its file, 0-based) into *r,
 * which the caller zeroed. Every fault goes to y. Returns 1 when the rule
 * parsed without a fault, 0 otherwise; either way r owns what it holds and is
 * released with lethe_rule_clear(). */
int lethe_rule_parse(lethe_ydoc *y, const yaml_node_t *n, size_t index,
		     lethe_rule *r);

void lethe_rule_clear(lethe_rule *r);

#endif
