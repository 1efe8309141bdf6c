/*
 * policy_rule.c - one rule of a policy file: keys, types, name, action,
 * durations, columns and mask strategies (policy-language.md).
 *
 * Invariants:
 *  - Every fault of the rule is reported, not only the first; faults carry the
 *    position of the value at fault, or of the rule when a key is missing.
 *  - Marks of values the file did not give are the rule's own mark, so later
 *    faults about a default (e.g. the key) still point somewhere useful.
 *  - `where`, `from` and `subject` are stored as written: the SQL is checked
 *    against the schema elsewhere (check.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy_rule.h"
#include "lethe/text.h"

enum {
	R_NAME, R_DESCRIPTION, R_BASIS, R_TABLE, R_KEY, R_SUBJECT, R_WHERE,
	R_FROM, R_COUNTED_FROM, R_RETAIN, R_ACTION, R_COLUMNS, R_ON_ERASURE, R_TRIGGERS,
	R_KEEP_WHILE, R_KEPT_BECAUSE, R_STALE_SINCE, R_STALE_AFTER, R_N
};
static const char *const rule_keys[] = {
	"name", "description", "basis", "table", "key", "subject", "where",
	"from", "counted_from", "retain", "action", "columns", "on_erasure", "triggers",
	"keep_while", "kept_because", "stale_since", "stale_after", NULL
};

static const char *const action_names[] = {
	[LETHE_ACTION_DELETE] = "delete",
	[LETHE_ACTION_PSEUDONYMISE] = "pseudonymise",
	[LETHE_ACTION_MASK] = "mask",
	[LETHE_ACTION_KEEP] = "keep",
};

#define STRATEGIES "null, redact, redact: TEXT, year, month, first N"
#define MAX_FIRST_N 1000000

const char *lethe_action_name(lethe_action a)
{
	if ((unsigned)a >= sizeof(action_names) / sizeof(*action_names))
		return "unknown";
	return action_names[a];
}

int lethe_rule_erasure_by_clock(const lethe_rule *r)
{
	return r->on_erasure == LETHE_ACTION_KEEP && r->action != LETHE_ACTION_KEEP;
}

lethe_action lethe_rule_erasure_action(const lethe_rule *r)
{
	return lethe_rule_erasure_by_clock(r) ? r->action : r->on_erasure;
}

const char *lethe_rule_kept_because(const lethe_rule *r, lethe_lang l)
{
	const char *t = lethe_ltext_get(&r->kept_because_text, l);

	return t ? t : r->kept_because;
}

/* Everything a rule's checks need besides the rule itself. */
typedef struct {
	lethe_ydoc *y;
	const char *ctx;          /* " in rule 'x'" */
	yaml_node_t *v[R_N];
	lethe_mark km[R_N];
} rule_walk;

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* A string-valued key: copied, or NULL (absent or faulty). Empty text is a
 * fault for every key but the description. */
static char *text_key(rule_walk *w, int k, lethe_mark *mark, lethe_mark rule_mark)
{
	yaml_node_t *n = w->v[k];
	const char *s = lethe_ydoc_str(w->y, n, rule_keys[k]);

	if (mark)
		*mark = n ? lethe_ydoc_mark(w->y, n) : rule_mark;
	if (!s)
		return NULL;
	if (!*s && k != R_DESCRIPTION) {
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, n),
				 "'%s' must not be empty", rule_keys[k]);
		return NULL;
	}
	return lethe_ydoc_strdup(w->y, s);
}

static int parse_action(rule_walk *w, lethe_action *out)
{
	const char *s = lethe_ydoc_str(w->y, w->v[R_ACTION], "action");

	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(action_names) / sizeof(*action_names); i++)
		if (!strcmp(s, action_names[i])) {
			*out = (lethe_action)i;
			return 0;
		}
	lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, w->v[R_ACTION]),
			 "'action' must be one of delete, pseudonymise, mask, keep");
	return -1;
}

/* on_erasure: what an erasure request does to the subject's rows of this
 * rule. Default: the rule's own action. Pseudonymise and mask take their
 * columns from the rule, so they are allowed only as the rule's own action. */
static void parse_on_erasure(rule_walk *w, lethe_rule *r)
{
	const char *s;

	r->on_erasure = r->action;
	r->on_erasure_mark = w->v[R_ON_ERASURE] ? lethe_ydoc_mark(w->y, w->v[R_ON_ERASURE]) : r->mark;
	if (!w->v[R_ON_ERASURE] || !(s = lethe_ydoc_str(w->y, w->v[R_ON_ERASURE], "on_erasure")))
		return;
	for (size_t i = 0; i < sizeof(action_names) / sizeof(*action_names); i++)
		if (!strcmp(s, action_names[i])) {
			r->on_erasure = (lethe_action)i;
			if ((r->on_erasure == LETHE_ACTION_PSEUDONYMISE ||
			     r->on_erasure == LETHE_ACTION_MASK) && r->on_erasure != r->action)
				lethe_ydoc_fault(w->y, r->on_erasure_mark, "'on_erasure: %s' needs the "
						 "rule's action to be %s (its columns say how)%s", s, s,
						 w->ctx);
			return;
		}
	lethe_ydoc_fault(w->y, r->on_erasure_mark,
			 "'on_erasure' must be one of delete, pseudonymise, mask, keep%s", w->ctx);
}

/* triggers: { NAME: acknowledged, ... }, the triggers the rule's disposal may
 * run although Lethe cannot prove what they do (docs/disposal.md). The value
 * is a word, not a boolean, so that the file says what its author accepted. */
static void parse_triggers(rule_walk *w, lethe_rule *r)
{
	yaml_node_t *n = w->v[R_TRIGGERS];
	size_t count;

	r->triggers_mark = n ? lethe_ydoc_mark(w->y, n) : r->mark;
	if (!n)
		return;
	if (n->type != YAML_MAPPING_NODE) {
		lethe_ydoc_fault(w->y, r->triggers_mark, "'triggers' must map trigger names to "
				 "'acknowledged'%s", w->ctx);
		return;
	}
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if (count && !(r->triggers = calloc(count, sizeof(*r->triggers)))) {
		w->y->oom = 1;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *k = lethe_ydoc_node(w->y, n->data.mapping.pairs.start[i].key);
		yaml_node_t *v = lethe_ydoc_node(w->y, n->data.mapping.pairs.start[i].value);
		const char *name = lethe_ydoc_str(w->y, k, "triggers");
		const char *word = lethe_ydoc_str(w->y, v, "triggers");

		if (!name || !word)
			continue;
		if (strcmp(word, "acknowledged") != 0) {
			lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, v), "trigger '%s': the only value "
					 "is 'acknowledged'%s", name, w->ctx);
			continue;
		}
		if ((r->triggers[r->ntriggers] = lethe_ydoc_strdup(w->y, name)))
			r->ntriggers++;
	}
}

/* A duration-valued key: *has set when it parsed, a fault when it did not. */
static void duration_key(rule_walk *w, int k, lethe_duration *out, int *has)
{
	char q[LETHE_EXCERPT_SIZE];
	const char *s = lethe_ydoc_str(w->y, w->v[k], rule_keys[k]);

	if (!s)
		return;
	if (lethe_duration_parse(out, s) == 0)
		*has = 1;
	else
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, w->v[k]), "'%s': bad duration '%s' "
				 "(expected N days|weeks|months|years)", rule_keys[k],
				 lethe_text_quote(q, s, strlen(s)));
}

static void parse_clock(rule_walk *w, lethe_rule *r)
{
	char q[LETHE_EXCERPT_SIZE];
	const char *s;

	duration_key(w, R_RETAIN, &r->retain, &r->has_retain);
	s = lethe_ydoc_str(w->y, w->v[R_COUNTED_FROM], "counted_from");
	if (s && lethe_counted_from_parse(&r->counted_from, s))
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, w->v[R_COUNTED_FROM]),
				 "'counted_from': bad value '%s' (expected end of "
				 "month, end of year, end of fiscal year or end of "
				 "calendar year of fiscal year end)", lethe_text_quote(q, s, strlen(s)));
}

/* from and retain: required unless keep; a keep rule has both or neither. */
static void check_clock_keys(rule_walk *w, const lethe_rule *r)
{
	int has_from = w->v[R_FROM] != NULL, has_retain = w->v[R_RETAIN] != NULL;

	if (r->action != LETHE_ACTION_KEEP) {
		if (!has_from)
			lethe_ydoc_fault(w->y, r->mark, "missing required key "
					 "'from'%s", w->ctx);
		if (!has_retain)
			lethe_ydoc_fault(w->y, r->mark, "missing required key "
					 "'retain'%s", w->ctx);
		return;
	}
	if (has_from != has_retain) {
		int k = has_from ? R_FROM : R_RETAIN;

		lethe_ydoc_fault(w->y, w->km[k],
				 "'%s' without '%s'%s (a keep rule has both or neither)",
				 rule_keys[k], rule_keys[has_from ? R_RETAIN : R_FROM],
				 w->ctx);
	} else if (!has_from && w->v[R_COUNTED_FROM]) {
		lethe_ydoc_fault(w->y, w->km[R_COUNTED_FROM],
				 "'counted_from' without 'from' and 'retain'%s", w->ctx);
	}
}

/* Append a column unless the rule already names it. */
static lethe_column_action *add_column(rule_walk *w, lethe_rule *r,
				       const char *name, lethe_mark m)
{
	lethe_column_action *c;

	for (size_t i = 0; i < r->ncolumns; i++)
		if (!strcmp(r->columns[i].column, name)) {
			lethe_ydoc_fault(w->y, m, "duplicate column '%s'%s (first at line %d)",
					 name, w->ctx, r->columns[i].mark.line);
			return NULL;
		}
	c = &r->columns[r->ncolumns];
	memset(c, 0, sizeof(*c));
	c->column = lethe_ydoc_strdup(w->y, name);
	if (!c->column)
		return NULL;
	c->mark = m;
	r->ncolumns++;
	return c;
}

/* "first N" with N a plain decimal of at least 1; -1 when not that form. */
static int parse_first(rule_walk *w, const char *col, const char *s, lethe_mark m,
		       int *n)
{
	char q[LETHE_EXCERPT_SIZE];
	const char *p;
	long v;
	char *end;

	if (strncmp(s, "first", 5) || s[5] != ' ')
		return -1;
	for (p = s + 5; *p == ' '; p++)
		;
	if (*p < '0' || *p > '9')
		return -1;
	v = strtol(p, &end, 10);
	if (*end)
		return -1;
	if (v < 1 || v > MAX_FIRST_N)
		lethe_ydoc_fault(w->y, m, "'%s': bad mask strategy '%s' (first N "
				 "needs N from 1 to %d)", col, lethe_text_quote(q, s, strlen(s)), MAX_FIRST_N);
	else
		*n = (int)v;
	return 0;
}

static void parse_strategy(rule_walk *w, lethe_column_action *c, yaml_node_t *n)
{
	static const struct { const char *word; lethe_mask_kind kind; } words[] = {
		{ "null", LETHE_MASK_NULL }, { "redact", LETHE_MASK_REDACT },
		{ "year", LETHE_MASK_YEAR }, { "month", LETHE_MASK_MONTH },
	};
	lethe_mark m = lethe_ydoc_mark(w->y, n);
	char q[LETHE_EXCERPT_SIZE];
	const char *s;

	if (lethe_ydoc_is_null(n)) {
		c->mask = LETHE_MASK_NULL;
		return;
	}
	if (n->type == YAML_MAPPING_NODE &&
	    n->data.mapping.pairs.top - n->data.mapping.pairs.start == 1) {
		yaml_node_pair_t *p = n->data.mapping.pairs.start;
		yaml_node_t *k = lethe_ydoc_node(w->y, p->key);

		if (k->type == YAML_SCALAR_NODE &&
		    !strcmp((const char *)k->data.scalar.value, "redact")) {
			c->mask = LETHE_MASK_REDACT;
			c->text = lethe_ydoc_strdup(w->y, lethe_ydoc_str(
				w->y, lethe_ydoc_node(w->y, p->value), "redact"));
			return;
		}
	}
	if (n->type != YAML_SCALAR_NODE) {
		lethe_ydoc_fault(w->y, m, "'%s': expected a mask strategy (" STRATEGIES ")",
				 c->column);
		return;
	}
	s = (const char *)n->data.scalar.value;
	/* "redact: TEXT" written as one quoted string, the same as {redact: TEXT} */
	if (!strncmp(s, "redact:", 7)) {
		const char *t = s + 7;

		while (*t == ' ')
			t++;
		c->mask = LETHE_MASK_REDACT;
		c->text = *t ? lethe_ydoc_strdup(w->y, t) : NULL;
		if (!*t)
			lethe_ydoc_fault(w->y, m, "'%s': 'redact:' needs a text", c->column);
		return;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (!strcmp(s, words[i].word)) {
			c->mask = words[i].kind;
			return;
		}
	c->mask = LETHE_MASK_FIRST;
	if (parse_first(w, c->column, s, m, &c->n) < 0)
		lethe_ydoc_fault(w->y, m, "'%s': unknown mask strategy '%s' (expected "
				 STRATEGIES ")", c->column, lethe_text_quote(q, s, strlen(s)));
}

static void parse_columns(rule_walk *w, lethe_rule *r)
{
	yaml_node_t *n = w->v[R_COLUMNS];
	int is_mask = r->action == LETHE_ACTION_MASK;
	size_t count;

	if (is_mask && (n->type != YAML_MAPPING_NODE ||
			n->data.mapping.pairs.top == n->data.mapping.pairs.start)) {
		lethe_ydoc_fault(w->y, r->columns_mark, "'columns' must be a non-empty "
				 "mapping of column to mask strategy");
		return;
	}
	if (!is_mask && (n->type != YAML_SEQUENCE_NODE ||
			 n->data.sequence.items.top == n->data.sequence.items.start)) {
		lethe_ydoc_fault(w->y, r->columns_mark, "'columns' must be a non-empty "
				 "sequence of column names");
		return;
	}
	count = is_mask ? (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start)
			: (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	r->columns = calloc(count, sizeof(*r->columns));
	if (!r->columns) {
		w->y->oom = 1;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *name = lethe_ydoc_node(w->y, is_mask
			? n->data.mapping.pairs.start[i].key
			: n->data.sequence.items.start[i]);
		const char *s = lethe_ydoc_str(w->y, name, "columns");
		lethe_column_action *c;

		if (!s)
			continue;
		c = add_column(w, r, s, lethe_ydoc_mark(w->y, name));
		if (c && is_mask)
			parse_strategy(w, c, lethe_ydoc_node(w->y,
				n->data.mapping.pairs.start[i].value));
	}
}

static void check_columns(rule_walk *w, lethe_rule *r, int action_ok)
{
	int wants = r->action == LETHE_ACTION_PSEUDONYMISE ||
		    r->action == LETHE_ACTION_MASK;

	r->columns_mark = w->v[R_COLUMNS] ? lethe_ydoc_mark(w->y, w->v[R_COLUMNS])
					  : r->mark;
	if (!action_ok)
		return;
	if (wants && !w->v[R_COLUMNS])
		lethe_ydoc_fault(w->y, r->mark, "missing required key 'columns'%s", w->ctx);
	else if (!wants && w->v[R_COLUMNS])
		lethe_ydoc_fault(w->y, w->km[R_COLUMNS],
				 "'columns' is not allowed for action '%s'%s",
				 lethe_action_name(r->action), w->ctx);
	else if (wants)
		parse_columns(w, r);
}

/* kept_because: a string (English), or translations {fi, sv, en}; which
 * languages it must have is known only once the folder's declarations are
 * read (lethe_declarations_link). */
static void parse_kept_because(rule_walk *w, lethe_rule *r)
{
	static const char *const codes[] = { "fi", "sv", "en", NULL };
	yaml_node_t *n = w->v[R_KEPT_BECAUSE], *v[LETHE_LANG_N];
	lethe_mark km[LETHE_LANG_N];
	char ctx[200];
	int ok = 1;

	r->kept_because_mark = n ? lethe_ydoc_mark(w->y, n) : r->mark;
	if (!n || n->type != YAML_MAPPING_NODE) {
		r->kept_because = text_key(w, R_KEPT_BECAUSE, NULL, r->mark);
		r->kept_because_text.text[LETHE_LANG_EN] = lethe_ydoc_strdup(w->y, r->kept_because);
		return;
	}
	snprintf(ctx, sizeof(ctx), " in 'kept_because' (languages: fi, sv, en)%s", w->ctx);
	if (lethe_ydoc_fields(w->y, n, codes, v, km, ctx))
		return;
	for (int l = 0; l < LETHE_LANG_N && ok; l++)
		if (v[l] && (r->kept_because_text.text[l] = lethe_ydoc_strdup_of(w->y, v[l],
				"kept_because", &ok)) && !*r->kept_because_text.text[l]) {
			lethe_ydoc_fault(w->y, km[l], "'kept_because' must not be empty%s", w->ctx);
			ok = 0;
		}
	for (int l = LETHE_LANG_EN; ok && !r->kept_because && l >= 0; l--)
		if (r->kept_because_text.text[l])
			r->kept_because = lethe_ydoc_strdup(w->y, r->kept_because_text.text[l]);
	if (ok && !r->kept_because)
		lethe_ydoc_fault(w->y, r->kept_because_mark, "'kept_because' has no text%s", w->ctx);
}

/* keep_while with kept_because (both or neither); stale_since with
 * stale_after (both or neither, and only on a rule with a clock). */
static void parse_conditions(rule_walk *w, lethe_rule *r)
{
	r->keep_while = text_key(w, R_KEEP_WHILE, &r->keep_while_mark, r->mark);
	parse_kept_because(w, r);
	if (!w->v[R_KEEP_WHILE] != !w->v[R_KEPT_BECAUSE])
		lethe_ydoc_fault(w->y, w->km[w->v[R_KEEP_WHILE] ? R_KEEP_WHILE : R_KEPT_BECAUSE],
				 "'%s' without '%s'%s (the reason is what the data subject is told)",
				 rule_keys[w->v[R_KEEP_WHILE] ? R_KEEP_WHILE : R_KEPT_BECAUSE],
				 rule_keys[w->v[R_KEEP_WHILE] ? R_KEPT_BECAUSE : R_KEEP_WHILE], w->ctx);
	r->stale_since = text_key(w, R_STALE_SINCE, &r->stale_since_mark, r->mark);
	duration_key(w, R_STALE_AFTER, &r->stale_after, &r->has_stale_after);
	if (!w->v[R_STALE_SINCE] != !w->v[R_STALE_AFTER])
		lethe_ydoc_fault(w->y, w->km[w->v[R_STALE_SINCE] ? R_STALE_SINCE : R_STALE_AFTER],
				 "'%s' without '%s'%s",
				 rule_keys[w->v[R_STALE_SINCE] ? R_STALE_SINCE : R_STALE_AFTER],
				 rule_keys[w->v[R_STALE_SINCE] ? R_STALE_AFTER : R_STALE_SINCE], w->ctx);
	else if (w->v[R_STALE_SINCE] && !w->v[R_FROM])
		lethe_ydoc_fault(w->y, w->km[R_STALE_SINCE],
				 "'stale_since' needs a clock ('from')%s", w->ctx);
}

int lethe_rule_parse(lethe_ydoc *y, const yaml_node_t *n, size_t index,
		     lethe_rule *r)
{
	static const int required[] = { R_NAME, R_BASIS, R_TABLE, R_ACTION };
	size_t faults = y->faults;
	rule_walk w = { .y = y };
	const char *peek = lethe_ydoc_peek(y, n, "name");
	char ctx[160];
	int action_ok;

	if (peek)
		snprintf(ctx, sizeof(ctx), " in rule '%.120s'", peek);
	else
		snprintf(ctx, sizeof(ctx), " in rule #%zu", index + 1);
	w.ctx = ctx;
	r->mark = lethe_ydoc_mark(y, n);
	if (lethe_ydoc_fields(y, n, rule_keys, w.v, w.km, ctx))
		return 0;
	for (size_t i = 0; i < sizeof(required) / sizeof(*required); i++)
		if (!w.v[required[i]])
			lethe_ydoc_fault(y, r->mark, "missing required key '%s'%s",
					 rule_keys[required[i]], ctx);
	r->name = text_key(&w, R_NAME, &r->name_mark, r->mark);
	if (r->name && !valid_name(r->name))
		lethe_ydoc_fault(y, r->name_mark, "'name' must match [a-z0-9-]+");
	r->description = text_key(&w, R_DESCRIPTION, NULL, r->mark);
	r->basis = text_key(&w, R_BASIS, NULL, r->mark);
	r->table = text_key(&w, R_TABLE, &r->table_mark, r->mark);
	r->key = text_key(&w, R_KEY, &r->key_mark, r->mark);
	r->subject = text_key(&w, R_SUBJECT, &r->subject_mark, r->mark);
	r->where = text_key(&w, R_WHERE, &r->where_mark, r->mark);
	r->from = text_key(&w, R_FROM, &r->from_mark, r->mark);
	parse_clock(&w, r);
	action_ok = parse_action(&w, &r->action) == 0;
	if (action_ok)
		check_clock_keys(&w, r);
	check_columns(&w, r, action_ok);
	if (action_ok)
		parse_on_erasure(&w, r);
	parse_triggers(&w, r);
	parse_conditions(&w, r);
	return y->faults == faults;
}

void lethe_rule_clear(lethe_rule *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->description);
	free(r->basis);
	free(r->table);
	free(r->key);
	free(r->subject);
	free(r->where);
	free(r->from);
	free(r->keep_while);
	free(r->kept_because);
	for (int l = 0; l < LETHE_LANG_N; l++)
		free(r->kept_because_text.text[l]);
	free(r->stale_since);
	for (size_t i = 0; i < r->ncolumns; i++) {
		free(r->columns[i].column);
		free(r->columns[i].text);
	}
	free(r->columns);
	for (size_t i = 0; i < r->ntriggers; i++)
		free(r->triggers[i]);
	free(r->triggers);
	memset(r, 0, sizeof(*r));
}
