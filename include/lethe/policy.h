/*
 * lethe/policy.h - a folder of policy files, parsed into rules.
 *
 * Loading checks everything that needs no database: keys, types, names,
 * durations, strategies, header keys in exactly one file, unique rule names.
 * Checks against the live schema live in check.h.
 *
 * Invariants:
 *  - The policy owns every string, including the file names that marks point
 *    to; marks stay valid until lethe_policy_free().
 *  - Rules are in folder order: files by name, rules in file order.
 *  - A rule's fields that the file did not give hold their defaults: key NULL
 *    means "the table's primary key (rowid if none)"; where/subject NULL.
 */
#ifndef LETHE_POLICY_H
#define LETHE_POLICY_H

#include <stddef.h>
#include "calendar.h"
#include "declarations.h"
#include "diag.h"

typedef enum {
	LETHE_ACTION_DELETE,
	LETHE_ACTION_PSEUDONYMISE,
	LETHE_ACTION_MASK,
	LETHE_ACTION_KEEP
} lethe_action;

typedef enum {
	LETHE_MASK_NULL,
	LETHE_MASK_REDACT,  /* text: the given text, or LETHE_REDACT_TEXT */
	LETHE_MASK_YEAR,
	LETHE_MASK_MONTH,
	LETHE_MASK_FIRST    /* n: the first n characters */
} lethe_mask_kind;

#define LETHE_REDACT_TEXT "[redacted]"

typedef struct {
	char *column;
	lethe_mask_kind mask;   /* masks only */
	char *text;             /* LETHE_MASK_REDACT: NULL = LETHE_REDACT_TEXT */
	int n;                  /* LETHE_MASK_FIRST */
	lethe_mark mark;        /* the column's name in the file */
} lethe_column_action;

typedef struct {
	char *name;
	char *description;      /* may be NULL */
	char *basis;
	char *table;
	char *key;              /* NULL: primary key, else rowid */
	char *subject;          /* SQL expression or NULL */
	char *where;            /* SQL expression or NULL */
	char *from;             /* SQL expression; NULL only for keep */
	lethe_counted_from counted_from;
	int has_retain;         /* 0 only for keep rules without retain */
	lethe_duration retain;
	lethe_action action;
	lethe_column_action *columns; /* pseudonymise and mask; else NULL */
	size_t ncolumns;
	lethe_action on_erasure; /* what an erasure request does; default: action */
	char **triggers;        /* trigger names acknowledged by `triggers` */
	size_t ntriggers;
	char *keep_while;       /* SQL: while true, the row is kept (counted held); or NULL */
	char *kept_because;     /* the data subject's words for keep_while; set with it:
				 * the English text, else the first one given */
	lethe_ltext kept_because_text; /* kept_because per language: a plain string is
				 * English; {fi: .., sv: .., en: ..} gives each */
	char *stale_since;      /* SQL: the day a not-started row was opened; or NULL */
	int has_stale_after;    /* set with stale_since */
	lethe_duration stale_after; /* a not-started row older than this is warned of */

	/* where each value stands in its file */
	lethe_mark mark;        /* the rule itself ("- name: ...") */
	lethe_mark name_mark, table_mark, key_mark, subject_mark, where_mark,
		from_mark, columns_mark, on_erasure_mark, triggers_mark,
		keep_while_mark, stale_since_mark, kept_because_mark;
} lethe_rule;

typedef struct {
	char *folder;
	char **files;           /* every *.yaml read, in name order */
	size_t nfiles;

	char *register_name;    /* header keys, NULL when not given */
	char *controller;
	lethe_fiscal_year_end fiscal_year_end; /* default 12-31 */
	char *subject_table;
	char *subject_key;
	char **subject_contact;  /* subject.contact: columns of the subject table
				    whose values join the suppression list on erasure */
	size_t nsubject_contact;
	lethe_mark subject_table_mark, subject_key_mark, subject_contact_mark;

	lethe_rule *rules;
	size_t nrules;

	/* declarations: what the register declares about itself
	 * (lethe/declarations.h); NULL when no file declares it */
	struct lethe_declarations *declarations;
} lethe_policy;

/* Load every *.yaml of folder, in name order. Faults of all files go to
 * diags. Returns 0 with *out set when there are no faults; LETHE_ENOINPUT when
 * the folder is missing; LETHE_EDATA when there are faults, and then *out is
 * still set (to the rules that parsed cleanly) if out_partial is non-zero, so
 * that `check` can go on to the schema and report those faults too. */
int lethe_policy_load(lethe_policy **out, const char *folder,
		      lethe_diags *diags, int out_partial);

void lethe_policy_free(lethe_policy *p);

/* Names as the language spells them ("delete", "pseudonymise", ...). */
const char *lethe_action_name(lethe_action a);

/* An erasure request keeps nothing whose period is over: a rule with
 * `on_erasure: keep` and an action of its own disposes, in an erasure, of
 * the subject's rows already due by their own clock, with that action
 * (lethe_rule_erasure_by_clock); every other rule applies on_erasure to all
 * the subject's rows. */
int lethe_rule_erasure_by_clock(const lethe_rule *r);
lethe_action lethe_rule_erasure_action(const lethe_rule *r);

/* The rule's kept_because in language l (lethe_declarations_link makes sure
 * every declared language has one); NULL without keep_while. */
const char *lethe_rule_kept_because(const lethe_rule *r, lethe_lang l);

/* Find a rule by name; NULL when none. */
const lethe_rule *lethe_policy_rule(const lethe_policy *p, const char *name);

#endif
