/*
 * trigger_sql.c - a trigger's text against the one shape Lethe accepts
 * without an acknowledgement: statements that keep an FTS index in step with
 * the row that fired the trigger (see trigger_sql.h).
 *
 * Invariants:
 *  - The text is split into tokens first (identifiers unquoted, strings
 *    unescaped, comments dropped); the grammar then walks the tokens and any
 *    token it does not expect ends the walk with "not proven" (0).
 *  - Every token owns its text; lex_free releases them all.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "lethe/error.h"
#include "vec.h"
#include "trigger_sql.h"

typedef enum { TK_WORD, TK_QWORD, TK_STRING, TK_PUNCT, TK_OTHER } tk_kind;

typedef struct {
	tk_kind kind;
	char *text;     /* unquoted identifier, unescaped string, or the punctuation */
} token;

typedef struct {
	token *v;
	size_t n, cap, pos;
} lex;

static void lex_free(lex *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
}

static int push(lex *l, tk_kind kind, const char *s, size_t len, char quote)
{
	char *text;
	size_t j = 0;

	if (LETHE_VEC_RESERVE(l->v, l->n + 1, l->cap) < 0)
		return LETHE_ESOFTWARE;
	if (!(text = malloc(len + 1)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	/* A doubled closing quote inside a quoted token stands for one. */
	for (size_t i = 0; i < len; i++) {
		text[j++] = s[i];
		if (quote && s[i] == quote && i + 1 < len && s[i + 1] == quote)
			i++;
	}
	text[j] = '\0';
	l->v[l->n].kind = kind;
	l->v[l->n].text = text;
	l->n++;
	return 0;
}

/* The end of a quoted token starting at s (s[0] is the opening quote), or
 * NULL when it never closes. */
static const char *quoted_end(const char *s, char close)
{
	for (s++; *s; s++) {
		if (*s == close) {
			if (close != ']' && s[1] == close) {
				s++;
				continue;
			}
			return s;
		}
	}
	return NULL;
}

static int tokenize(lex *l, const char *s)
{
	int rc = 0;

	while (*s && rc == 0) {
		const char *e;

		if (isspace((unsigned char)*s)) {
			s++;
		} else if (s[0] == '-' && s[1] == '-') {
			s = strchr(s, '\n') ? strchr(s, '\n') : s + strlen(s);
		} else if (s[0] == '/' && s[1] == '*') {
			if (!(e = strstr(s + 2, "*/")))
				return 0;
			s = e + 2;
		} else if (*s == '\'' || *s == '"' || *s == '`' || *s == '[') {
			char close = *s == '[' ? ']' : *s;

			if (!(e = quoted_end(s, close)))
				return push(l, TK_OTHER, s, 1, 0);
			rc = push(l, *s == '\'' ? TK_STRING : TK_QWORD, s + 1, (size_t)(e - s - 1),
				  close == ']' ? 0 : close);
			s = e + 1;
		} else if (isalnum((unsigned char)*s) || *s == '_' || (unsigned char)*s >= 0x80) {
			for (e = s; isalnum((unsigned char)*e) || *e == '_' || *e == '$' ||
				    (unsigned char)*e >= 0x80; e++)
				;
			rc = push(l, TK_WORD, s, (size_t)(e - s), 0);
			s = e;
		} else if (strchr("(),;.=", *s)) {
			/* "==" is the same comparison as "=". */
			rc = push(l, TK_PUNCT, s, 1, 0);
			s += s[0] == '=' && s[1] == '=' ? 2 : 1;
		} else {
			rc = push(l, TK_OTHER, s, 1, 0);
			s++;
		}
	}
	return rc;
}

static const token *peek(const lex *l)
{
	static const token end = { TK_OTHER, (char *)"" };

	return l->pos < l->n ? &l->v[l->pos] : &end;
}

/* Consume the keyword w (a bare word, any case). */
static int keyword(lex *l, const char *w)
{
	const token *t = peek(l);

	if (t->kind != TK_WORD || strcasecmp(t->text, w) != 0)
		return 0;
	l->pos++;
	return 1;
}

static int punct(lex *l, char c)
{
	const token *t = peek(l);

	if (t->kind != TK_PUNCT || t->text[0] != c)
		return 0;
	l->pos++;
	return 1;
}

/* Consume an identifier (bare or quoted); *name borrows its text. */
static int ident(lex *l, const char **name)
{
	const token *t = peek(l);

	if (t->kind != TK_WORD && t->kind != TK_QWORD)
		return 0;
	*name = t->text;
	l->pos++;
	return 1;
}

static int is_rowid_word(const char *s)
{
	return !strcasecmp(s, "rowid") || !strcasecmp(s, "oid") || !strcasecmp(s, "_rowid_");
}

/* The FTS table's own rowid (FTS3/4 also call it docid). */
static int is_fts_rowid(const char *s)
{
	return is_rowid_word(s) || !strcasecmp(s, "docid");
}

static int is_row_name(const lethe_trigger_env *env, const char *s)
{
	for (size_t i = 0; i < env->nrow_names; i++)
		if (!strcasecmp(env->row_names[i], s))
			return 1;
	return 0;
}

/* old.X or new.X; *row is set when X names the firing row's rowid; *is_old
 * tells which. */
static int row_ref(lex *l, const lethe_trigger_env *env, int *is_old, int *row)
{
	const char *which, *col;

	if (!ident(l, &which) || (strcasecmp(which, "old") && strcasecmp(which, "new")))
		return 0;
	if (!punct(l, '.') || !ident(l, &col))
		return 0;
	*is_old = !strcasecmp(which, "old");
	*row = is_row_name(env, col);
	return 1;
}

/* `rowid = old.R` (either order), R the firing row's rowid. */
static int same_row(lex *l, const lethe_trigger_env *env)
{
	const char *name;
	int is_old, row;

	if (peek(l)->kind == TK_WORD && is_fts_rowid(peek(l)->text)) {
		l->pos++;
		return punct(l, '=') && row_ref(l, env, &is_old, &row) && row;
	}
	return row_ref(l, env, &is_old, &row) && row && punct(l, '=') && ident(l, &name) &&
	       is_fts_rowid(name);
}

static int fts_table(lex *l, const lethe_trigger_env *env, const char **name)
{
	return ident(l, name) ? env->is_fts(env->ctx, *name) : 0;
}

static int delete_stmt(lex *l, const lethe_trigger_env *env)
{
	const char *t;
	int rc = 0;

	if (!keyword(l, "FROM") || (rc = fts_table(l, env, &t)) != 1)
		return rc < 0 ? rc : 0;
	return keyword(l, "WHERE") && same_row(l, env);
}

static int update_stmt(lex *l, const lethe_trigger_env *env)
{
	const char *t, *col;
	int rc = 0, is_old, row;

	if ((rc = fts_table(l, env, &t)) != 1 || !keyword(l, "SET"))
		return rc < 0 ? rc : 0;
	do {
		if (!ident(l, &col) || is_fts_rowid(col) || !punct(l, '=') ||
		    !row_ref(l, env, &is_old, &row))
			return 0;
	} while (punct(l, ','));
	return keyword(l, "WHERE") && same_row(l, env);
}

static int insert_stmt(lex *l, const lethe_trigger_env *env)
{
	const char *t, *col;
	size_t ncols = 0, i = 0;
	int rc = 0, is_old, row, command = -1, rowid = -1, rowid_old = 0;

	if (!keyword(l, "INTO") || (rc = fts_table(l, env, &t)) != 1 || !punct(l, '('))
		return rc < 0 ? rc : 0;
	do {
		if (!ident(l, &col))
			return 0;
		if (!strcasecmp(col, t))
			command = (int)ncols;
		else if (is_fts_rowid(col))
			rowid = (int)ncols;
		ncols++;
	} while (punct(l, ','));
	if (rowid < 0 || !punct(l, ')') || !keyword(l, "VALUES") || !punct(l, '('))
		return 0;
	do {
		if (i == ncols)
			return 0;
		if ((int)i == command) {
			/* The one command that touches a single row: 'delete'. */
			if (peek(l)->kind != TK_STRING || strcmp(peek(l)->text, "delete"))
				return 0;
			l->pos++;
		} else if (!row_ref(l, env, &is_old, &row) || ((int)i == rowid && !row)) {
			return 0;
		} else if ((int)i == rowid) {
			rowid_old = is_old;
		}
		i++;
	} while (punct(l, ','));
	/* 'delete' must name the row as it was. */
	return i == ncols && punct(l, ')') && (command < 0 || rowid_old);
}

int lethe_trigger_fts_sync(const char *sql, const lethe_trigger_env *env)
{
	lex l = { 0 };
	int rc, statements = 0;

	if ((rc = tokenize(&l, sql)) < 0)
		goto out;
	/* The body begins at the first bare BEGIN: a WHEN clause only narrows
	 * when the trigger fires and never writes. */
	while (l.pos < l.n && !keyword(&l, "BEGIN"))
		l.pos++;
	rc = 0;
	for (;;) {
		int ok;

		if (keyword(&l, "END")) {
			punct(&l, ';');
			rc = statements > 0 && l.pos == l.n;
			break;
		}
		if (keyword(&l, "DELETE"))
			ok = delete_stmt(&l, env);
		else if (keyword(&l, "INSERT"))
			ok = insert_stmt(&l, env);
		else if (keyword(&l, "UPDATE"))
			ok = update_stmt(&l, env);
		else
			ok = 0;
		if (ok <= 0 || !punct(&l, ';')) {
			rc = ok < 0 ? ok : 0;
			break;
		}
		statements++;
	}
out:
	lex_free(&l);
	return rc;
}

int lethe_sql_mentions(const char *sql, const char *column)
{
	lex l = { 0 };
	int rc;

	if ((rc = tokenize(&l, sql)) == 0) {
		while (l.pos < l.n && !keyword(&l, "ON"))
			l.pos++;
		/* the table's name follows ON: an index on t(t) still counts */
		l.pos++;
		for (; l.pos < l.n && !rc; l.pos++)
			rc = (l.v[l.pos].kind == TK_WORD || l.v[l.pos].kind == TK_QWORD) &&
			     !strcasecmp(l.v[l.pos].text, column);
	}
	lex_free(&l);
	return rc;
}

/* A CREATE VIRTUAL TABLE whose arguments say content = 'table'. */
static int content_of(lex *l, const char *table)
{
	for (; l->pos + 2 < l->n; l->pos++) {
		const token *k = &l->v[l->pos], *eq = &l->v[l->pos + 1], *v = &l->v[l->pos + 2];

		if (k->kind == TK_WORD && !strcasecmp(k->text, "content") && eq->kind == TK_PUNCT &&
		    eq->text[0] == '=' && v->kind != TK_PUNCT && v->kind != TK_OTHER &&
		    !strcasecmp(v->text, table))
			return 1;
	}
	return 0;
}

/* A trigger that fires on INSERT (the first event word of its header) and
 * has INSERT INTO fts in its body. */
static int feeds(lex *l, const char *fts)
{
	const char *name;

	while (l->pos < l->n && !keyword(l, "INSERT")) {
		if (keyword(l, "DELETE") || keyword(l, "UPDATE") || keyword(l, "BEGIN"))
			return 0;
		l->pos++;
	}
	while (l->pos < l->n && !keyword(l, "BEGIN"))
		l->pos++;
	while (l->pos < l->n) {
		if (keyword(l, "INSERT") && keyword(l, "INTO") && ident(l, &name) &&
		    !strcasecmp(name, fts))
			return 1;
		l->pos++;
	}
	return 0;
}

int lethe_sql_fts_of(const char *sql, const char *fts, const char *table)
{
	lex l = { 0 };
	int rc;

	if ((rc = tokenize(&l, sql)) == 0) {
		if (keyword(&l, "CREATE") && keyword(&l, "VIRTUAL"))
			rc = content_of(&l, table);
		else
			rc = feeds(&l, fts);
	}
	lex_free(&l);
	return rc;
}

int lethe_sql_creates_fts(const char *sql)
{
	lex l = { 0 };
	int rc = 0;

	if (tokenize(&l, sql) == 0) {
		while (l.pos < l.n && !keyword(&l, "USING"))
			l.pos++;
		rc = peek(&l)->kind == TK_WORD && (!strcasecmp(peek(&l)->text, "fts3") ||
						    !strcasecmp(peek(&l)->text, "fts4") ||
						    !strcasecmp(peek(&l)->text, "fts5"));
	}
	lex_free(&l);
	return rc;
}
