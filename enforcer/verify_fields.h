/*
 * verify_fields.h - the field checks of one record (verify_fields.c), shared
 * by verify_record.c. Internal to verify.
 */
#ifndef LETHE_VERIFY_FIELDS_H
#define LETHE_VERIFY_FIELDS_H

#include <jansson.h>
#include <stdint.h>
#include "verify_impl.h"

/* The record being checked. */
typedef struct {
	verify_state *s;
	const char *path;   /* the record's path, for messages */
	json_t *files;      /* its `files` array */
} verify_rec;

/* obj[name] of type t into *out; where prefixes the name in messages. 0, or
 * the verification's failure. */
int verify_field(verify_rec *r, json_t **out, json_t *obj, const char *where, const char *name,
		 json_type t);

/* A string field that must match a shape: "hex32", "hex64", "date" or
 * "time"; *out (may be NULL) its text. */
int verify_shaped(verify_rec *r, const char **out, json_t *obj, const char *where, const char *name,
		  const char *shape);

/* A non-negative integer field; *out may be NULL. */
int verify_count(verify_rec *r, int64_t *out, json_t *obj, const char *where, const char *name);

#endif
