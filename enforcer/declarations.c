/*
 * declarations.c - the `declarations:` key of a policy folder
 * (lethe/declarations.h, docs/policy-language.md "Declarations").
 *
 * Invariants:
 *  - `languages` is read first: every text of the mapping is then checked to
 *    have exactly the translations it names, so a missing translation is a
 *    fault at its own line, never a fallback at print time.
 *  - Every fault is reported, not only the first, at the value at fault or
 *    at the mapping missing a key.
 *  - Purposes are read before the lists that name them, so a reference is
 *    resolved to an index at parse time; rule names are resolved by
 *    lethe_declarations_link once the whole folder is read.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "declarations_load.h"
#include "lethe/error.h"
#include "lethe/text.h"
#include "vec.h"

static const char *const lang_codes[LETHE_LANG_N] = { "fi", "sv", "en" };

static const char *const basis_names[LETHE_BASIS_N] = {
	"consent", "contract", "legal-obligation", "vital-interests", "public-task",
	"legitimate-interests",
};
static const char *const basis_articles[LETHE_BASIS_N] = {
	"GDPR art. 6(1)(a)", "GDPR art. 6(1)(b)", "GDPR art. 6(1)(c)", "GDPR art. 6(1)(d)",
	"GDPR art. 6(1)(e)", "GDPR art. 6(1)(f)",
};

const char *lethe_lang_code(lethe_lang l)
{
	return (unsigned)l < LETHE_LANG_N ? lang_codes[l] : "?";
}

int lethe_lang_parse(lethe_lang *out, const char *code)
{
	for (int l = 0; l < LETHE_LANG_N; l++)
		if (code && !strcmp(code, lang_codes[l])) {
			*out = (lethe_lang)l;
			return 0;
		}
	return -1;
}

const char *lethe_basis_name(lethe_basis b)
{
	return (unsigned)b < LETHE_BASIS_N ? basis_names[b] : "?";
}

const char *lethe_basis_article(lethe_basis b)
{
	return (unsigned)b < LETHE_BASIS_N ? basis_articles[b] : "?";
}

const char *lethe_ltext_get(const lethe_ltext *t, lethe_lang l)
{
	return (unsigned)l < LETHE_LANG_N ? t->text[l] : NULL;
}

void lethe_party_write(FILE *f, const lethe_party *c, const char *name, lethe_lang l)
{
	const char *more[] = { c->email, c->phone, c->address, c->web };

	fputs(name ? name : lethe_ltext_get(&c->role, l), f);
	for (size_t i = 0; i < sizeof(more) / sizeof(*more); i++)
		if (more[i])
			fprintf(f, ", %s", more[i]);
	fputc('\n', f);
}

int lethe_declarations_speak(const lethe_declarations *d, lethe_lang l)
{
	return d && (unsigned)l < LETHE_LANG_N && (d->languages & (1u << l));
}

int lethe_declarations_language_fault(const lethe_declarations *d, const char *code,
				      lethe_mark m, lethe_diags *diags)
{
	lethe_lang l;

	if (lethe_lang_parse(&l, code) < 0 || (d ? lethe_declarations_speak(d, l) : l == LETHE_LANG_EN))
		return 0;
	if (d ? lethe_diags_addm(diags, m, "'language': the policies' declarations have no '%s' "
				 "texts (declarations.languages at %s:%d)", code, d->mark.file,
				 d->mark.line)
	      : lethe_diags_addm(diags, m, "'language': '%s' needs the policies' 'declarations' "
				 "with its texts; without them only en is spoken", code))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

const lethe_category *lethe_declarations_category_of(const lethe_declarations *d,
						     const char *table)
{
	for (size_t c = 0; d && c < d->ncategories; c++)
		for (size_t t = 0; t < d->categories[c].ntables; t++)
			if (!strcasecmp(d->categories[c].tables[t], table))
				return &d->categories[c];
	return NULL;
}

/* The walk in progress. */
typedef struct {
	lethe_ydoc *y;
	lethe_declarations *d;
} walk;

static size_t items(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* A text: a mapping of language code to string, with every declared language. */
static void ltext(walk *w, const yaml_node_t *n, const char *key, lethe_ltext *out)
{
	lethe_ydoc *y = w->y;
	yaml_node_t *v[LETHE_LANG_N];
	lethe_mark km[LETHE_LANG_N];
	static const char *const keys[] = { "fi", "sv", "en", NULL };
	char ctx[96];

	if (!n)
		return;
	out->mark = lethe_ydoc_mark(y, n);
	if (n->type != YAML_MAPPING_NODE) {
		lethe_ydoc_fault(y, out->mark, "'%s': expected translations (a mapping of fi, sv, "
				 "en to texts)", key);
		return;
	}
	snprintf(ctx, sizeof(ctx), " in '%s' (languages: fi, sv, en)", key);
	lethe_ydoc_fields(y, n, keys, v, km, ctx);
	for (int l = 0; l < LETHE_LANG_N; l++) {
		int ok = 1;

		if (v[l])
			out->text[l] = lethe_ydoc_strdup_of(y, v[l], key, &ok);
		if (ok && !v[l] && (w->d->languages & (1u << l)))
			lethe_ydoc_fault(y, out->mark, "'%s': missing the '%s' translation (the "
					 "declarations' languages need one each)", key, lang_codes[l]);
	}
}

/* A required key of a mapping m: a fault when absent. */
static int need(walk *w, const yaml_node_t *m, yaml_node_t *v, const char *key, const char *ctx)
{
	if (!v)
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, m), "missing required key '%s'%s", key, ctx);
	return v != NULL;
}

static char *string(walk *w, const yaml_node_t *n, const char *key)
{
	int ok = 1;

	return lethe_ydoc_strdup_of(w->y, n, key, &ok);
}

static int valid_id(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* An id of a list item: [a-z0-9-]+, unique among the previous ids. */
static char *id_of(walk *w, const yaml_node_t *n, const char *list, char *const *prev,
		   size_t stride, size_t count)
{
	char *id = string(w, n, "id");

	if (!id)
		return NULL;
	if (!valid_id(id)) {
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, n), "'id' in '%s': '%s' is not "
				 "[a-z0-9-]+", list, id);
		return id;
	}
	for (size_t i = 0; i < count; i++) {
		const char *other = *(char *const *)((const char *)prev + i * stride);

		if (other && !strcmp(other, id))
			lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, n), "duplicate id '%s' in '%s'",
					 id, list);
	}
	return id;
}

/* A reference to a declared purpose: its index (or npurposes after a fault). */
static size_t purpose_ref(walk *w, const yaml_node_t *n, lethe_mark *m)
{
	const char *s = lethe_ydoc_str(w->y, n, "purpose");

	*m = lethe_ydoc_mark(w->y, n);
	if (!s)
		return w->d->npurposes;
	for (size_t i = 0; i < w->d->npurposes; i++)
		if (w->d->purposes[i].id && !strcmp(w->d->purposes[i].id, s))
			return i;
	lethe_ydoc_fault(w->y, *m, "'purpose': '%s' is not a declared purpose (declarations."
			 "purposes[].id)", s);
	return w->d->npurposes;
}

/* A sequence of texts (subjects, sources, security, cookies). */
static void ltexts(walk *w, const yaml_node_t *n, const char *key, lethe_ltext **out, size_t *count)
{
	if (!n)
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, n), "'%s': expected a sequence of "
				 "translated texts", key);
		return;
	}
	if (!(*out = calloc(items(n) + 1, sizeof(**out)))) {
		w->y->oom = 1;
		return;
	}
	for (size_t i = 0; i < items(n); i++)
		ltext(w, lethe_ydoc_node(w->y, n->data.sequence.items.start[i]), key,
		      &(*out)[(*count)++]);
}

/* A sequence of mappings into *slot: a calloc'd array of *count elements of
 * size, each parsed by fn (which sees the earlier ones through *slot, for
 * duplicate ids); NULL when n is not a sequence. */
static void list(walk *w, const yaml_node_t *n, const char *key, void *slot, size_t size,
		 size_t *count, void (*fn)(walk *, const yaml_node_t *, void *))
{
	char *arr;

	if (!n)
		return;
	if (n->type != YAML_SEQUENCE_NODE) {
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, n), "'%s': expected a sequence", key);
		return;
	}
	if (!(arr = calloc(items(n) + 1, size))) {
		w->y->oom = 1;
		return;
	}
	memcpy(slot, &arr, sizeof(arr));
	for (size_t i = 0; i < items(n); i++) {
		fn(w, lethe_ydoc_node(w->y, n->data.sequence.items.start[i]), arr + *count * size);
		(*count)++;
	}
}

static void purpose(walk *w, const yaml_node_t *n, void *vp)
{
	static const char *const keys[] = { "id", "name", "basis", "law", "interest", NULL };
	lethe_purpose *p = vp;
	yaml_node_t *v[5];
	lethe_mark km[5];
	const char *basis;

	p->mark = lethe_ydoc_mark(w->y, n);
	p->basis = LETHE_BASIS_N;
	if (lethe_ydoc_fields(w->y, n, keys, v, km, " in a purpose"))
		return;
	if (need(w, n, v[0], "id", " in a purpose"))
		p->id = id_of(w, v[0], "purposes", &w->d->purposes[0].id, sizeof(*p),
			      (size_t)(p - w->d->purposes));
	if (need(w, n, v[1], "name", " in a purpose"))
		ltext(w, v[1], "name", &p->name);
	if (v[2] && v[2]->type == YAML_SEQUENCE_NODE)
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, v[2]), "'basis': one legal basis per "
				 "purpose (declare a purpose for each basis)");
	else if (need(w, n, v[2], "basis", " in a purpose (one of GDPR art. 6(1): consent, "
		      "contract, legal-obligation, vital-interests, public-task, "
		      "legitimate-interests)") &&
		 (basis = lethe_ydoc_str(w->y, v[2], "basis"))) {
		for (int b = 0; b < LETHE_BASIS_N; b++)
			if (!strcmp(basis, basis_names[b]))
				p->basis = (lethe_basis)b;
		if (p->basis == LETHE_BASIS_N)
			lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, v[2]), "'basis': '%s' is not one "
					 "legal basis of GDPR art. 6(1) (consent, contract, legal-obligation, "
					 "vital-interests, public-task, legitimate-interests; one per "
					 "purpose)", basis);
	}
	p->law = string(w, v[3], "law");
	ltext(w, v[4], "interest", &p->interest);
	if (p->basis == LETHE_BASIS_LEGAL_OBLIGATION && !v[3])
		lethe_ydoc_fault(w->y, p->mark, "purpose '%s': a legal obligation needs 'law' (the "
				 "statute)", p->id ? p->id : "?");
	if (p->basis == LETHE_BASIS_LEGITIMATE_INTERESTS && !v[4])
		lethe_ydoc_fault(w->y, p->mark, "purpose '%s': legitimate interests need 'interest' "
				 "(GDPR art. 13(1)(d))", p->id ? p->id : "?");
}

static void category(walk *w, const yaml_node_t *n, void *vc)
{
	static const char *const keys[] = { "id", "name", "purpose", "criteria", "tables", NULL };
	lethe_category *c = vc;
	yaml_node_t *v[5];
	lethe_mark km[5];

	c->mark = lethe_ydoc_mark(w->y, n);
	c->purpose = w->d->npurposes;
	if (lethe_ydoc_fields(w->y, n, keys, v, km, " in a category"))
		return;
	if (need(w, n, v[0], "id", " in a category"))
		c->id = id_of(w, v[0], "categories", &w->d->categories[0].id, sizeof(*c),
			      (size_t)(c - w->d->categories));
	if (need(w, n, v[1], "name", " in a category"))
		ltext(w, v[1], "name", &c->name);
	if (need(w, n, v[2], "purpose", " in a category"))
		c->purpose = purpose_ref(w, v[2], &c->purpose_mark);
	ltext(w, v[3], "criteria", &c->criteria);
	if (!need(w, n, v[4], "tables", " in a category (the tables that hold it)"))
		return;
	if (v[4]->type != YAML_SEQUENCE_NODE || !items(v[4])) {
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, v[4]), "'tables': expected a sequence "
				 "of table names");
		return;
	}
	if (!(c->tables = calloc(items(v[4]), sizeof(char *)))) {
		w->y->oom = 1;
		return;
	}
	for (size_t i = 0; i < items(v[4]); i++) {
		char *t = string(w, lethe_ydoc_node(w->y, v[4]->data.sequence.items.start[i]), "tables");

		if (t)
			c->tables[c->ntables++] = t;
	}
}

static void recipient(walk *w, const yaml_node_t *n, void *vr)
{
	static const char *const keys[] = { "name", "what", "purpose", "transfer", NULL };
	lethe_recipient *r = vr;
	yaml_node_t *v[4];
	lethe_mark km[4];

	r->mark = lethe_ydoc_mark(w->y, n);
	r->purpose = w->d->npurposes;
	if (lethe_ydoc_fields(w->y, n, keys, v, km, " in a recipient"))
		return;
	if (need(w, n, v[0], "name", " in a recipient"))
		r->name = string(w, v[0], "name");
	if (need(w, n, v[1], "what", " in a recipient (what it receives and why)"))
		ltext(w, v[1], "what", &r->what);
	if (need(w, n, v[2], "purpose", " in a recipient"))
		r->purpose = purpose_ref(w, v[2], &r->purpose_mark);
	ltext(w, v[3], "transfer", &r->transfer);
}

static void elsewhere(walk *w, const yaml_node_t *n, void *ve)
{
	static const char *const keys[] = { "id", "name", "where", "purpose", "period", NULL };
	lethe_elsewhere *e = ve;
	yaml_node_t *v[5];
	lethe_mark km[5];

	e->mark = lethe_ydoc_mark(w->y, n);
	e->purpose = w->d->npurposes;
	if (lethe_ydoc_fields(w->y, n, keys, v, km, " in 'elsewhere'"))
		return;
	if (need(w, n, v[0], "id", " in 'elsewhere'"))
		e->id = id_of(w, v[0], "elsewhere", &w->d->elsewhere[0].id, sizeof(*e),
			      (size_t)(e - w->d->elsewhere));
	if (need(w, n, v[1], "name", " in 'elsewhere'"))
		ltext(w, v[1], "name", &e->name);
	if (need(w, n, v[2], "where", " in 'elsewhere' (who holds it, where)"))
		ltext(w, v[2], "where", &e->where);
	if (need(w, n, v[3], "purpose", " in 'elsewhere'"))
		e->purpose = purpose_ref(w, v[3], &e->purpose_mark);
	if (need(w, n, v[4], "period", " in 'elsewhere' (its retention period)"))
		ltext(w, v[4], "period", &e->period);
}

/* controller, contact, data_protection_contact, authority. */
static void party(walk *w, const yaml_node_t *n, const char *key, lethe_party *p, int named)
{
	static const char *const keys[] = { "name", "role", "email", "phone", "address", "web",
					    "business_id", NULL };
	yaml_node_t *v[7];
	lethe_mark km[7];
	char ctx[64];

	if (!n)
		return;
	snprintf(ctx, sizeof(ctx), " in '%s'", key);
	if (lethe_ydoc_fields(w->y, n, keys, v, km, ctx))
		return;
	if (named && need(w, n, v[0], "name", ctx))
		p->name = string(w, v[0], "name");
	else if (!named && v[0])
		p->name = string(w, v[0], "name");
	ltext(w, v[1], "role", &p->role);
	if (!named && !v[1])
		need(w, n, v[1], "role", ctx);
	if (!v[2] && !v[3] && !v[5])
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, n), "'%s': give at least one of "
				 "'email', 'phone' or 'web'", key);
	p->email = string(w, v[2], "email");
	p->phone = string(w, v[3], "phone");
	p->address = string(w, v[4], "address");
	p->web = string(w, v[5], "web");
	if (v[6] && p == &w->d->controller)
		w->d->business_id = string(w, v[6], "business_id");
	else if (v[6])
		lethe_ydoc_fault(w->y, km[6], "'business_id' belongs to 'controller'");
}

static void languages(walk *w, const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE || !items(n)) {
		lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, n), "'languages': expected a sequence "
				 "of language codes (fi, sv, en)");
		return;
	}
	for (size_t i = 0; i < items(n); i++) {
		yaml_node_t *item = lethe_ydoc_node(w->y, n->data.sequence.items.start[i]);
		const char *s = lethe_ydoc_str(w->y, item, "languages");
		lethe_lang l;

		if (s && lethe_lang_parse(&l, s) == 0)
			w->d->languages |= 1u << l;
		else if (s)
			lethe_ydoc_fault(w->y, lethe_ydoc_mark(w->y, item), "'languages': '%s' is not "
					 "a language Lethe speaks (fi, sv, en)", s);
	}
}

enum {
	D_LANGUAGES, D_REGISTER, D_CONTROLLER, D_CONTACT, D_DPC, D_AUTHORITY, D_RIGHTS, D_SUBJECTS,
	D_PURPOSES, D_CATEGORIES, D_RECIPIENTS, D_SOURCES, D_ELSEWHERE, D_SECURITY, D_COOKIES, D_N
};
static const char *const decl_keys[] = {
	"languages", "register", "controller", "contact", "data_protection_contact", "authority",
	"rights", "subjects", "purposes", "categories", "recipients", "sources", "elsewhere",
	"security", "cookies", NULL
};
/* Required: everything GDPR 13 and 30 ask for; cookies only where used. */
static const unsigned char decl_required[D_N] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0
};

void lethe_declarations_parse(lethe_declarations **out, lethe_ydoc *y, const yaml_node_t *n,
			      lethe_mark key_mark)
{
	lethe_declarations *d = calloc(1, sizeof(*d));
	walk w = { y, d };
	yaml_node_t *v[D_N];
	lethe_mark km[D_N];

	*out = d;
	if (!d) {
		y->oom = 1;
		return;
	}
	d->mark = key_mark;
	if (lethe_ydoc_fields(y, n, decl_keys, v, km, " in 'declarations'"))
		return;
	for (int k = 0; k < D_N; k++)
		if (decl_required[k])
			need(&w, n, v[k], decl_keys[k], " in 'declarations'");
	if (v[D_LANGUAGES])
		languages(&w, v[D_LANGUAGES]);
	ltext(&w, v[D_REGISTER], "register", &d->register_name);
	party(&w, v[D_CONTROLLER], "controller", &d->controller, 1);
	party(&w, v[D_CONTACT], "contact", &d->contact, 0);
	party(&w, v[D_DPC], "data_protection_contact", &d->dp_contact, 0);
	party(&w, v[D_AUTHORITY], "authority", &d->authority, 0);
	ltext(&w, v[D_RIGHTS], "rights", &d->rights);
	ltexts(&w, v[D_SUBJECTS], "subjects", &d->subjects, &d->nsubjects);
	list(&w, v[D_PURPOSES], "purposes", &d->purposes, sizeof(lethe_purpose), &d->npurposes,
	     purpose);
	list(&w, v[D_CATEGORIES], "categories", &d->categories, sizeof(lethe_category),
	     &d->ncategories, category);
	list(&w, v[D_RECIPIENTS], "recipients", &d->recipients, sizeof(lethe_recipient),
	     &d->nrecipients, recipient);
	ltexts(&w, v[D_SOURCES], "sources", &d->sources, &d->nsources);
	list(&w, v[D_ELSEWHERE], "elsewhere", &d->elsewhere, sizeof(lethe_elsewhere),
	     &d->nelsewhere, elsewhere);
	ltexts(&w, v[D_SECURITY], "security", &d->security, &d->nsecurity);
	ltexts(&w, v[D_COOKIES], "cookies", &d->cookies, &d->ncookies);
}

long lethe_declarations_link(const lethe_declarations *d, const lethe_rule *rules, size_t nrules,
			     lethe_diags *diags)
{
	long faults = 0;

#define FAULT(m, ...) do { faults++; if (lethe_diags_addm(diags, m, __VA_ARGS__)) return -1; } while (0)
	for (size_t c = 0; c < d->ncategories; c++) {
		const lethe_category *cat = &d->categories[c];

		for (size_t i = 0; i < cat->ntables; i++) {
			size_t r = 0;
			const lethe_category *first = lethe_declarations_category_of(d, cat->tables[i]);

			while (r < nrules && (!rules[r].table || strcasecmp(rules[r].table, cat->tables[i])))
				r++;
			if (r == nrules)
				FAULT(cat->mark, "category '%s': no rule covers table '%s' (its period "
				      "comes from a rule)", cat->id ? cat->id : "?", cat->tables[i]);
			else if (first != cat)
				FAULT(cat->mark, "category '%s': table '%s' is already in category '%s'",
				      cat->id ? cat->id : "?", cat->tables[i], first->id ? first->id : "?");
		}
	}
	for (size_t r = 0; r < nrules; r++)
		if (rules[r].name && rules[r].table && rules[r].subject &&
		    !lethe_declarations_category_of(d, rules[r].table))
			FAULT(rules[r].table_mark, "rule '%s': table '%s' holds data subjects' data but is "
			      "in no declared category (declarations.categories[].tables)", rules[r].name,
			      rules[r].table);
	/* the erasure answer tells the data subject why a row is kept, in
	 * every declared language: a missing one is a fault, not English */
	for (size_t r = 0; r < nrules; r++)
		for (int l = 0; rules[r].name && rules[r].kept_because && l < LETHE_LANG_N; l++)
			if (lethe_declarations_speak(d, (lethe_lang)l) &&
			    !rules[r].kept_because_text.text[l])
				FAULT(rules[r].kept_because_mark, "rule '%s': 'kept_because' has no "
				      "'%s' text (the declarations' languages need one each: "
				      "{fi: ..., sv: ..., en: ...})", rules[r].name, lang_codes[l]);
#undef FAULT
	return faults;
}

static void ltext_free(lethe_ltext *t)
{
	for (int l = 0; l < LETHE_LANG_N; l++)
		free(t->text[l]);
}

static void ltexts_free(lethe_ltext *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ltext_free(&t[i]);
	free(t);
}

static void party_free(lethe_party *p)
{
	free(p->name);
	ltext_free(&p->role);
	free(p->email);
	free(p->phone);
	free(p->address);
	free(p->web);
}

void lethe_declarations_free(lethe_declarations *d)
{
	if (!d)
		return;
	ltext_free(&d->register_name);
	party_free(&d->controller);
	party_free(&d->contact);
	party_free(&d->dp_contact);
	party_free(&d->authority);
	free(d->business_id);
	ltext_free(&d->rights);
	ltexts_free(d->subjects, d->nsubjects);
	for (size_t i = 0; i < d->npurposes; i++) {
		free(d->purposes[i].id);
		ltext_free(&d->purposes[i].name);
		free(d->purposes[i].law);
		ltext_free(&d->purposes[i].interest);
	}
	free(d->purposes);
	for (size_t i = 0; i < d->ncategories; i++) {
		free(d->categories[i].id);
		ltext_free(&d->categories[i].name);
		ltext_free(&d->categories[i].criteria);
		for (size_t t = 0; t < d->categories[i].ntables; t++)
			free(d->categories[i].tables[t]);
		free(d->categories[i].tables);
	}
	free(d->categories);
	for (size_t i = 0; i < d->nrecipients; i++) {
		free(d->recipients[i].name);
		ltext_free(&d->recipients[i].what);
		ltext_free(&d->recipients[i].transfer);
	}
	free(d->recipients);
	ltexts_free(d->sources, d->nsources);
	for (size_t i = 0; i < d->nelsewhere; i++) {
		free(d->elsewhere[i].id);
		ltext_free(&d->elsewhere[i].name);
		ltext_free(&d->elsewhere[i].where);
		ltext_free(&d->elsewhere[i].period);
	}
	free(d->elsewhere);
	ltexts_free(d->security, d->nsecurity);
	ltexts_free(d->cookies, d->ncookies);
	free(d);
}
