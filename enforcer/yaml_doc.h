/*
 * yaml_doc.h - internal: one YAML file loaded as a libyaml document, with the
 * helpers that config.c and policy*.c share to walk it and report faults.
 *
 * Invariants:
 *  - Every fault goes to the borrowed diags as FILE:LINE:COLUMN with 1-based
 *    positions (libyaml's marks are 0-based); `faults` counts them, so a caller
 *    can tell whether a part of the file parsed cleanly.
 *  - An allocation failure never stops the walk: it sets `oom`, and the loader
 *    returns LETHE_ESOFTWARE at the end.
 *  - Strings returned by the helpers are borrowed from the document and live
 *    until lethe_ydoc_free(); callers copy what they keep.
 *  - YAML null (plain ~, null, Null, NULL, empty, or !!null) is never a string.
 */
#ifndef LETHE_YAML_DOC_H
#define LETHE_YAML_DOC_H

#include <stdint.h>
#include <yaml.h>
#include "lethe/diag.h"

typedef struct {
	yaml_document_t doc;
	int loaded;          /* doc must be deleted */
	const char *file;    /* borrowed: the name faults and marks carry */
	lethe_diags *diags;  /* borrowed */
	size_t faults;       /* faults added through this document */
	int oom;             /* an allocation failed somewhere */
} lethe_ydoc;

/* Load path into y. 0 with y->loaded set; LETHE_ENOINPUT (error set, no
 * fault, errno kept) when the file cannot be opened; LETHE_EDATA when it is not valid
 * YAML (one fault at the parser's position) or holds more than one document.
 * An empty file loads as a document without a root. */
int lethe_ydoc_load(lethe_ydoc *y, const char *path, const char *file,
		    lethe_diags *diags);
void lethe_ydoc_free(lethe_ydoc *y);

/* The root node, or NULL for an empty file. */
yaml_node_t *lethe_ydoc_root(lethe_ydoc *y);

lethe_mark lethe_ydoc_mark(const lethe_ydoc *y, const yaml_node_t *n);

void lethe_ydoc_fault(lethe_ydoc *y, lethe_mark m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* strdup that records oom; NULL in, NULL out. */
char *lethe_ydoc_strdup(lethe_ydoc *y, const char *s);

int lethe_ydoc_is_null(const yaml_node_t *n);

/* The node's text when it is a non-null scalar. NULL when n is NULL (absent,
 * no fault) or not a string ("'KEY': expected a string" at n). */
const char *lethe_ydoc_str(lethe_ydoc *y, const yaml_node_t *n, const char *key);

/* Same, and a copy owned by the caller; *ok is cleared on a fault. */
char *lethe_ydoc_strdup_of(lethe_ydoc *y, const yaml_node_t *n,
			   const char *key, int *ok);

/* A plain decimal integer scalar. 0 with *out set, or -1 after the fault
 * "'KEY': expected an integer". */
int lethe_ydoc_int(lethe_ydoc *y, const yaml_node_t *n, const char *key,
		   int64_t *out);

/* The value of the first `key` in a mapping when it is a string, else NULL.
 * No faults: used to name a rule before its keys are checked. */
const char *lethe_ydoc_peek(lethe_ydoc *y, const yaml_node_t *map, const char *key);

/* Walk a mapping against the NULL-terminated key names: vals[i] and kmarks[i]
 * get the first occurrence of keys[i] (vals[i] NULL when absent). Faults:
 * "unknown key 'K'CTX", "duplicate key 'K'", non-string keys. Returns 0, or -1
 * after "expected a mapping" when map is not a mapping. */
int lethe_ydoc_fields(lethe_ydoc *y, const yaml_node_t *map,
		      const char *const keys[], yaml_node_t *vals[],
		      lethe_mark kmarks[], const char *ctx);

/* Child node by id (libyaml's pairs and items hold ids). */
yaml_node_t *lethe_ydoc_node(lethe_ydoc *y, int id);

#endif
