/*
 * yaml_doc.c - one YAML file as a libyaml document, walked with located
 * faults. See yaml_doc.h for the invariants.
 *
 * libyaml's loader does not resolve implicit tags (every plain scalar is
 * tagged !!str), so null and integers are recognised here from the plain
 * spelling, as YAML 1.2's core schema does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "lethe/text.h"
#include "yaml_doc.h"

static lethe_mark mark_of(const char *file, yaml_mark_t m)
{
	lethe_mark r = { file, (int)m.line + 1, (int)m.column + 1 };

	return r;
}

int lethe_ydoc_load(lethe_ydoc *y, const char *path, const char *file,
		    lethe_diags *diags)
{
	yaml_parser_t parser;
	yaml_document_t extra;
	FILE *f;
	int rc = 0;

	memset(y, 0, sizeof(*y));
	y->file = file;
	y->diags = diags;
	f = fopen(path, "rb");
	if (!f) {
		int e = errno;

		lethe_error_set(LETHE_ENOINPUT, "cannot open '%s': %s", path,
				strerror(e));
		errno = e; /* callers word the message their way */
		return LETHE_ENOINPUT;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &y->doc))
		goto syntax;
	y->loaded = 1;
	if (!lethe_ydoc_root(y))
		goto out;
	/* A second document would be silently ignored: say so instead. */
	if (!yaml_parser_load(&parser, &extra))
		goto syntax;
	if (yaml_document_get_root_node(&extra)) {
		lethe_ydoc_fault(y, mark_of(file, extra.start_mark),
				 "only one yaml document is allowed per file");
		rc = LETHE_EDATA;
	}
	yaml_document_delete(&extra);
	goto out;
syntax:
	if (parser.error == YAML_MEMORY_ERROR) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	{
		/* Reader errors (bad encoding) have an offset, not a mark. */
		lethe_mark m = mark_of(file, parser.problem_mark);

		if (parser.error == YAML_READER_ERROR)
			m.line = m.column = 0;
		if (parser.context)
			lethe_ydoc_fault(y, m, "invalid yaml: %s (%s)",
					 parser.problem ? parser.problem : "error",
					 parser.context);
		else
			lethe_ydoc_fault(y, m, "invalid yaml: %s",
					 parser.problem ? parser.problem : "error");
	}
	rc = LETHE_EDATA;
out:
	yaml_parser_delete(&parser);
	fclose(f);
	if (rc == 0 && y->oom)
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return rc;
}

void lethe_ydoc_free(lethe_ydoc *y)
{
	if (y && y->loaded) {
		yaml_document_delete(&y->doc);
		y->loaded = 0;
	}
}

yaml_node_t *lethe_ydoc_root(lethe_ydoc *y)
{
	return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

yaml_node_t *lethe_ydoc_node(lethe_ydoc *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

lethe_mark lethe_ydoc_mark(const lethe_ydoc *y, const yaml_node_t *n)
{
	return mark_of(y->file, n->start_mark);
}

void lethe_ydoc_fault(lethe_ydoc *y, lethe_mark m, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	y->faults++;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg || lethe_diags_add(y->diags, m.file, m.line, m.column, "%s", msg))
		y->oom = 1;
	free(msg);
}

char *lethe_ydoc_strdup(lethe_ydoc *y, const char *s)
{
	char *r;

	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		y->oom = 1;
	return r;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

int lethe_ydoc_is_null(const yaml_node_t *n)
{
	static const char *const spellings[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != YAML_SCALAR_NODE)
		return 0;
	if (n->tag && !strcmp((const char *)n->tag, YAML_NULL_TAG))
		return 1;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(*spellings); i++)
		if (!strcmp(scalar(n), spellings[i]))
			return 1;
	return 0;
}

const char *lethe_ydoc_str(lethe_ydoc *y, const yaml_node_t *n, const char *key)
{
	if (!n)
		return NULL;
	if (n->type != YAML_SCALAR_NODE || lethe_ydoc_is_null(n)) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n),
				 "'%s': expected a string", key);
		return NULL;
	}
	return scalar(n);
}

char *lethe_ydoc_strdup_of(lethe_ydoc *y, const yaml_node_t *n,
			   const char *key, int *ok)
{
	const char *s = lethe_ydoc_str(y, n, key);

	if (n && !s)
		*ok = 0;
	return lethe_ydoc_strdup(y, s);
}

int lethe_ydoc_int(lethe_ydoc *y, const yaml_node_t *n, const char *key,
		   int64_t *out)
{
	const char *s, *p;
	char *end;
	long long v;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		goto fault;
	s = scalar(n);
	p = (*s == '-' || *s == '+') ? s + 1 : s;
	if (*p < '0' || *p > '9')
		goto fault;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		goto fault;
	*out = v;
	return 0;
fault:
	lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'%s': expected an integer", key);
	return -1;
}

const char *lethe_ydoc_peek(lethe_ydoc *y, const yaml_node_t *map, const char *key)
{
	if (map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lethe_ydoc_node(y, p->key);
		yaml_node_t *v = lethe_ydoc_node(y, p->value);

		if (k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), key))
			return (v->type == YAML_SCALAR_NODE && !lethe_ydoc_is_null(v))
				? scalar(v) : NULL;
	}
	return NULL;
}

int lethe_ydoc_fields(lethe_ydoc *y, const yaml_node_t *map,
		      const char *const keys[], yaml_node_t *vals[],
		      lethe_mark kmarks[], const char *ctx)
{
	size_t nkeys = 0;

	while (keys[nkeys])
		nkeys++;
	for (size_t i = 0; i < nkeys; i++) {
		vals[i] = NULL;
		kmarks[i] = lethe_ydoc_mark(y, map);
	}
	if (map->type != YAML_MAPPING_NODE) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, map), "expected a mapping");
		return -1;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = lethe_ydoc_node(y, p->key);
		lethe_mark km = lethe_ydoc_mark(y, k);
		const char *name = lethe_ydoc_str(y, k, "key");
		char q[LETHE_EXCERPT_SIZE];
		size_t i;

		if (!name)
			continue;
		for (i = 0; i < nkeys && strcmp(keys[i], name); i++)
			;
		if (i == nkeys) {
			const char *near = lethe_text_nearest(name, keys);

			lethe_ydoc_fault(y, km, "unknown key '%s'%s%s%s%s",
					 lethe_text_quote(q, name, strlen(name)), ctx,
					 near ? "; did you mean '" : "", near ? near : "",
					 near ? "'?" : "");
		}
		else if (vals[i])
			lethe_ydoc_fault(y, km, "duplicate key '%s' (first at line %d)",
					 lethe_text_quote(q, name, strlen(name)), kmarks[i].line);
		else {
			vals[i] = lethe_ydoc_node(y, p->value);
			kmarks[i] = km;
		}
	}
	return 0;
}
