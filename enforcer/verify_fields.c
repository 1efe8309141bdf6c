/*
 * verify_fields.c - a record's fields against the types and shapes
 * docs/evidence-format.md gives them (verify_fields.h): present, of their
 * JSON type, hex of their length, dates and times in their one spelling,
 * counts not negative. Each failure is the verification's, with the
 * record's path and the field's name.
 */
#include <jansson.h>
#include <string.h>
#include "lethe/error.h"
#include "verify_fields.h"

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	default: return "a value";
	}
}

/* obj[name] of type t into *out; where prefixes the name in messages. */
int verify_field(verify_rec *r, json_t **out, json_t *obj, const char *where, const char *name,
		 json_type t)
{
	json_t *v = json_object_get(obj, name);

	if (!v || json_typeof(v) != t)
		return verify_fail(r->s, "%s: '%s%s' is missing or not %s", r->path, where, name,
				   type_name(t));
	*out = v;
	return 0;
}

static int is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* s against a pattern where '9' is a digit and everything else literal. */
static int is_shaped(const char *s, const char *pattern)
{
	size_t n = strlen(pattern);

	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (pattern[i] == '9' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return 0;
	return 1;
}

/* A string field that must match a shape: "hex32", "hex64", "date", "time". */
int verify_shaped(verify_rec *r, const char **out, json_t *obj, const char *where, const char *name,
		  const char *shape)
{
	json_t *v = NULL;
	const char *s;
	int ok;

	if (verify_field(r, &v, obj, where, name, JSON_STRING) < 0)
		return LETHE_EVERIFY;
	s = json_string_value(v);
	if (!strcmp(shape, "hex32"))
		ok = is_hex(s, 32);
	else if (!strcmp(shape, "hex64"))
		ok = is_hex(s, 64);
	else if (!strcmp(shape, "date"))
		ok = is_shaped(s, "9999-99-99");
	else
		ok = is_shaped(s, "9999-99-99T99:99:99Z");
	if (!ok)
		return verify_fail(r->s, "%s: '%s%s' is not %s", r->path, where, name,
				   !strcmp(shape, "date") ? "YYYY-MM-DD" :
				   !strcmp(shape, "time") ? "YYYY-MM-DDTHH:MM:SSZ" :
				   !strcmp(shape, "hex32") ? "32 hex digits" : "64 hex digits");
	if (out)
		*out = s;
	return 0;
}

/* A non-negative integer field. */
int verify_count(verify_rec *r, int64_t *out, json_t *obj, const char *where, const char *name)
{
	json_t *v = NULL;

	if (verify_field(r, &v, obj, where, name, JSON_INTEGER) < 0)
		return LETHE_EVERIFY;
	if (json_integer_value(v) < 0)
		return verify_fail(r->s, "%s: '%s%s' is negative", r->path, where, name);
	if (out)
		*out = (int64_t)json_integer_value(v);
	return 0;
}
