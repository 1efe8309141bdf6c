/*
 * expr_lex.h - internal: whether a user SQL expression (a policy's `where`,
 * `from`, `subject`, a hold's `--where`) stays one expression when Lethe
 * pastes it between its own parentheses, "(\n" expr "\n)".
 *
 * Invariant: a pure function of the text; no allocation, no SQLite.
 */
#ifndef LETHE_EXPR_LEX_H
#define LETHE_EXPR_LEX_H

/* NULL when expr, pasted as "(\n" expr "\n)" into a statement, can only end
 * at that closing parenthesis; otherwise a static one-line reason (e.g.
 * "')' closes a parenthesis the expression did not open"). */
const char *lethe_expr_escape(const char *expr);

/* The same for an expression Lethe composed from checked ones, which may
 * also hold Lethe's own parameters (:lethe_subject). */
const char *lethe_expr_escape_composed(const char *expr);

#endif
