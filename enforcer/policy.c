/*
 * policy.c - a folder of policy files into a lethe_policy: which files, in
 * which order, the header keys, and rule names unique across the folder.
 * One rule's own checks live in policy_rule.c.
 *
 * Invariants:
 *  - Files are every "*.yaml" of the folder that is not a dotfile, read in
 *    strcmp order; a file that cannot be read or parsed is a fault on that
 *    file and the others are still read, so one load reports every fault.
 *  - A header key (register, controller, fiscal_year_end, subject,
 *    declarations) is taken
 *    from the first file that declares it; a later declaration is a fault.
 *  - Only rules without a fault (including a duplicate name) reach
 *    policy->rules; the faulty ones are still parsed so their faults and
 *    names are known.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lethe/error.h"
#include "vec.h"
#include "lethe/text.h"
#include "lethe/policy.h"
#include "policy_rule.h"
#include "declarations_load.h"

enum { H_LETHE, H_REGISTER, H_CONTROLLER, H_FYE, H_SUBJECT, H_RULES, H_DECLARATIONS, H_N };
static const char *const header_keys[] = {
	"lethe", "register", "controller", "fiscal_year_end", "subject", "rules",
	"declarations", NULL
};
static const char *const subject_keys[] = { "table", "key", "contact", NULL };

/* The load in progress: every rule parsed so far, clean or not. */
typedef struct {
	lethe_policy *p;
	lethe_diags *diags;
	lethe_rule *all;
	unsigned char *clean;
	size_t nall, alloc;
	lethe_mark declared[H_N]; /* header keys: where first declared */
	size_t faults;
	int oom;
} policy_load;

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_policy_file(const char *folder, const char *name)
{
	size_t len = strlen(name);
	struct stat st;
	char *path = NULL;
	int ok;

	if (name[0] == '.' || len < 6 || strcmp(name + len - 5, ".yaml"))
		return 0;
	if (asprintf(&path, "%s/%s", folder, name) < 0)
		return 1; /* reading it will report the problem */
	ok = stat(path, &st) != 0 || !S_ISDIR(st.st_mode);
	free(path);
	return ok;
}

/* p->files: every policy file of the folder, as folder/name, in name order. */
static int list_files(lethe_policy *p, const char *folder)
{
	DIR *d = opendir(folder);
	struct dirent *e;
	size_t alloc = 0, slash = strlen(folder) && folder[strlen(folder) - 1] == '/';
	int rc = 0;

	if (!d)
		return lethe_error_set(LETHE_ENOINPUT, "cannot open policy folder '%s': %s",
				       folder, strerror(errno));
	while ((e = readdir(d))) {
		if (!is_policy_file(folder, e->d_name))
			continue;
		if (LETHE_VEC_RESERVE(p->files, p->nfiles + 1, alloc) < 0)
			goto oom;
		if (asprintf(&p->files[p->nfiles], "%s%s%s", folder, slash ? "" : "/",
			     e->d_name) < 0)
			goto oom;
		p->nfiles++;
	}
	if (p->nfiles)
		qsort(p->files, p->nfiles, sizeof(*p->files), cmp_names);
	goto out;
oom:
	rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
out:
	closedir(d);
	return rc;
}

/* A header key in its first file, or a fault naming where it was declared. */
static int declare(policy_load *L, lethe_ydoc *y, int k, lethe_mark km)
{
	lethe_mark *first = &L->declared[k];

	if (first->file) {
		lethe_ydoc_fault(y, km, "'%s' is already declared in %s:%d",
				 header_keys[k], first->file, first->line);
		return 0;
	}
	*first = km;
	return 1;
}

static void load_subject(lethe_policy *p, lethe_ydoc *y, const yaml_node_t *n)
{
	yaml_node_t *v[3];
	lethe_mark km[3];
	int ok = 1;

	if (n->type != YAML_MAPPING_NODE) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'subject': expected a mapping");
		return;
	}
	lethe_ydoc_fields(y, n, subject_keys, v, km, " in 'subject'");
	for (int k = 0; k < 2; k++)
		if (!v[k])
			lethe_ydoc_fault(y, lethe_ydoc_mark(y, n),
					 "missing required key '%s' in 'subject'",
					 subject_keys[k]);
	p->subject_table = lethe_ydoc_strdup_of(y, v[0], "table", &ok);
	p->subject_key = lethe_ydoc_strdup_of(y, v[1], "key", &ok);
	p->subject_table_mark = v[0] ? lethe_ydoc_mark(y, v[0]) : lethe_ydoc_mark(y, n);
	p->subject_key_mark = v[1] ? lethe_ydoc_mark(y, v[1]) : lethe_ydoc_mark(y, n);
	p->subject_contact_mark = v[2] ? lethe_ydoc_mark(y, v[2]) : lethe_ydoc_mark(y, n);
	if (!v[2])
		return;
	if (v[2]->type != YAML_SEQUENCE_NODE) {
		lethe_ydoc_fault(y, p->subject_contact_mark, "'contact' in 'subject' must be a "
				 "sequence of column names");
		return;
	}
	size_t count = (size_t)(v[2]->data.sequence.items.top - v[2]->data.sequence.items.start);
	if (!(p->subject_contact = calloc(count ? count : 1, sizeof(char *)))) {
		y->oom = 1;
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = lethe_ydoc_node(y, v[2]->data.sequence.items.start[i]);
		char *col = lethe_ydoc_strdup_of(y, item, "contact", &ok);

		if (col)
			p->subject_contact[p->nsubject_contact++] = col;
	}
}

static void load_header(policy_load *L, lethe_ydoc *y, yaml_node_t *v[],
			const lethe_mark km[])
{
	lethe_policy *p = L->p;
	int ok = 1;

	if (v[H_REGISTER] && declare(L, y, H_REGISTER, km[H_REGISTER]))
		p->register_name = lethe_ydoc_strdup_of(y, v[H_REGISTER], "register", &ok);
	if (v[H_CONTROLLER] && declare(L, y, H_CONTROLLER, km[H_CONTROLLER]))
		p->controller = lethe_ydoc_strdup_of(y, v[H_CONTROLLER], "controller", &ok);
	if (v[H_FYE] && declare(L, y, H_FYE, km[H_FYE])) {
		const char *s = lethe_ydoc_str(y, v[H_FYE], "fiscal_year_end");
		char q[LETHE_EXCERPT_SIZE];

		if (s && lethe_fiscal_year_end_parse(&p->fiscal_year_end, s))
			lethe_ydoc_fault(y, lethe_ydoc_mark(y, v[H_FYE]),
					 "'fiscal_year_end': bad date '%s' (expected "
					 "MM-DD, e.g. 06-30)", lethe_text_quote(q, s, strlen(s)));
	}
	if (v[H_SUBJECT] && declare(L, y, H_SUBJECT, km[H_SUBJECT]))
		load_subject(p, y, v[H_SUBJECT]);
	if (v[H_DECLARATIONS] && declare(L, y, H_DECLARATIONS, km[H_DECLARATIONS]))
		lethe_declarations_parse(&p->declarations, y, v[H_DECLARATIONS], km[H_DECLARATIONS]);
}

/* Keep a parsed rule (clean or not); a name seen before makes it faulty. */
static void add_rule(policy_load *L, lethe_ydoc *y, lethe_rule *r, int clean)
{
	if (L->nall == L->alloc) {
		size_t n = L->alloc ? 2 * L->alloc : 16;
		lethe_rule *all = realloc(L->all, n * sizeof(*all));
		unsigned char *c = all ? realloc(L->clean, n) : NULL;

		if (all)
			L->all = all;
		if (!c) {
			L->oom = 1;
			lethe_rule_clear(r);
			return;
		}
		L->clean = c;
		L->alloc = n;
	}
	for (size_t i = 0; r->name && i < L->nall; i++)
		if (L->all[i].name && !strcmp(L->all[i].name, r->name)) {
			lethe_ydoc_fault(y, r->name_mark, "duplicate rule name '%s' "
					 "(first defined at %s:%d)", r->name,
					 L->all[i].name_mark.file, L->all[i].name_mark.line);
			clean = 0;
			break;
		}
	L->all[L->nall] = *r;
	L->clean[L->nall++] = (unsigned char)clean;
}

static void load_rules(policy_load *L, lethe_ydoc *y, const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		lethe_ydoc_fault(y, lethe_ydoc_mark(y, n), "'rules': expected a sequence");
		return;
	}
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		lethe_rule r;
		int clean;

		memset(&r, 0, sizeof(r));
		clean = lethe_rule_parse(y, lethe_ydoc_node(y, *it),
					 (size_t)(it - n->data.sequence.items.start), &r);
		add_rule(L, y, &r, clean);
	}
}

/*
 * A policy file is read only if it is a regular file inside the folder. A
 * symbolic link may point to another file of the folder (current.yaml ->
 * v3.yaml), and the folder itself may be a link, but a link out of it is
 * refused unread: a link to /etc/shadow would otherwise have its lines
 * quoted back in the faults (docs/policy-language.md). 0 to read it, 1 when
 * a fault was reported.
 */
static int refuse_file(lethe_ydoc *y, const char *folder, const char *file)
{
	struct stat st;
	char *dir = NULL, *target = NULL;
	int refused = 0;

	if (lstat(file, &st) != 0)
		return 0; /* reading it says why */
	if (S_ISLNK(st.st_mode)) {
		if (!(target = realpath(file, NULL)))
			return 0; /* a dangling link: reading it says why */
		dir = realpath(folder, NULL);
		size_t n = dir ? strlen(dir) : 0;

		if (!dir || strncmp(target, dir, n) || (target[n] != '/' && strcmp(dir, "/"))) {
			lethe_ydoc_fault(y, (lethe_mark){ file, 0, 0 }, "a symbolic link to '%s', "
					 "outside the policy folder: not read (copy the file into "
					 "the folder, or link the folder itself)", target);
			refused = 1;
		}
	}
	if (!refused && stat(file, &st) == 0 && !S_ISREG(st.st_mode)) {
		lethe_ydoc_fault(y, (lethe_mark){ file, 0, 0 }, "not a regular file: not read");
		refused = 1;
	}
	free(dir);
	free(target);
	return refused;
}

static void load_file(policy_load *L, size_t i)
{
	const char *file = L->p->files[i];
	yaml_node_t *root, *v[H_N];
	lethe_mark km[H_N];
	lethe_ydoc y;
	int64_t version;
	int rc;

	memset(&y, 0, sizeof(y));
	y.file = file;
	y.diags = L->diags;
	if (refuse_file(&y, L->p->folder, file))
		goto out;
	rc = lethe_ydoc_load(&y, file, file, L->diags);
	if (rc == LETHE_ENOINPUT) {
		lethe_ydoc_fault(&y, (lethe_mark){ file, 0, 0 }, "cannot read: %s",
				 strerror(errno));
		goto out;
	}
	root = lethe_ydoc_root(&y);
	if (rc)
		goto out;
	if (!root) {
		lethe_ydoc_fault(&y, (lethe_mark){ file, 0, 0 },
				 "empty file (expected a mapping with 'lethe: 1')");
		goto out;
	}
	if (lethe_ydoc_fields(&y, root, header_keys, v, km, ""))
		goto out;
	if (!v[H_LETHE]) {
		lethe_ydoc_fault(&y, lethe_ydoc_mark(&y, root), "missing 'lethe: 1'");
	} else if (lethe_ydoc_int(&y, v[H_LETHE], "lethe", &version) == 0 && version != 1) {
		/* Another language version's keys would only produce noise. */
		lethe_ydoc_fault(&y, lethe_ydoc_mark(&y, v[H_LETHE]),
				 "unsupported policy language version %lld",
				 (long long)version);
		goto out;
	}
	load_header(L, &y, v, km);
	if (v[H_RULES])
		load_rules(L, &y, v[H_RULES]);
out:
	lethe_ydoc_free(&y);
	L->faults += y.faults;
	L->oom |= y.oom;
}

/* Move the clean rules into the policy; release the others. */
static int keep_clean_rules(policy_load *L)
{
	lethe_policy *p = L->p;

	p->rules = calloc(L->nall ? L->nall : 1, sizeof(*p->rules));
	if (!p->rules)
		L->oom = 1;
	for (size_t i = 0; i < L->nall; i++) {
		if (L->clean[i] && p->rules)
			p->rules[p->nrules++] = L->all[i];
		else
			lethe_rule_clear(&L->all[i]);
	}
	free(L->all);
	free(L->clean);
	return L->oom ? lethe_error_set(LETHE_ESOFTWARE, "out of memory") : 0;
}

int lethe_policy_load(lethe_policy **out, const char *folder,
		      lethe_diags *diags, int out_partial)
{
	policy_load L;
	int rc;

	memset(&L, 0, sizeof(L));
	L.diags = diags;
	L.p = calloc(1, sizeof(*L.p));
	if (!L.p)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	L.p->fiscal_year_end = (lethe_fiscal_year_end){ 12, 31 };
	L.p->folder = strdup(folder);
	if (!L.p->folder) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	rc = list_files(L.p, folder);
	if (rc)
		goto out;
	if (!L.p->nfiles) {
		L.faults++;
		if (lethe_diags_add(diags, folder, 0, 0,
				    "no policy files (*.yaml) in '%s'", folder))
			L.oom = 1;
	}
	for (size_t i = 0; i < L.p->nfiles; i++)
		load_file(&L, i);
	if (L.p->declarations) {
		long f = lethe_declarations_link(L.p->declarations, L.all, L.nall, diags);

		if (f < 0)
			L.oom = 1;
		else
			L.faults += (size_t)f;
	}
	rc = keep_clean_rules(&L);
	if (rc)
		goto out;
	if (L.faults) {
		rc = lethe_error_set(LETHE_EDATA, "policy folder '%s' has %zu fault%s",
				     folder, L.faults, L.faults == 1 ? "" : "s");
		if (!out_partial)
			goto out;
	}
	*out = L.p;
	L.p = NULL;
out:
	lethe_policy_free(L.p);
	return rc;
}

void lethe_policy_free(lethe_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		lethe_rule_clear(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->nfiles; i++)
		free(p->files[i]);
	free(p->files);
	free(p->folder);
	free(p->register_name);
	free(p->controller);
	free(p->subject_table);
	free(p->subject_key);
	for (size_t i = 0; i < p->nsubject_contact; i++)
		free(p->subject_contact[i]);
	free(p->subject_contact);
	lethe_declarations_free(p->declarations);
	free(p);
}

const lethe_rule *lethe_policy_rule(const lethe_policy *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->nrules; i++)
		if (!strcmp(p->rules[i].name, name))
			return &p->rules[i];
	return NULL;
}
