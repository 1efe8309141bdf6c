/*
 * verify_pool.c - the per-commit work of lethe verify that needs nothing
 * from the commits before it, done ahead on worker threads: the commit's
 * fields, its SSH signature check, its diff against the previous commit and
 * the parsing of the one record it adds. verify.c takes the results in
 * history order and runs every check in the same order as before, so the
 * report (the first failure, its wording) does not depend on the threads.
 *
 * Invariants:
 *  - Each worker has its own repository handle (libgit2 objects are not
 *    shared between threads) and prepares runs of CHUNK consecutive
 *    commits, so a commit's parent trees are the ones its handle kept from
 *    the commit before (evidence_diff.c).
 *  - The walk from main (verify.c, newest first) is serial: while it runs,
 *    the workers visit each commit it found (fields and signature check,
 *    a few hundred bytes kept per commit) instead of waiting for it. Only
 *    when no early visit is under way are they moved into the slots
 *    (verify_pool_walked); verify_prepare skips the visit of such a slot.
 *  - Workers stay at most WINDOW commits ahead of the commit verify.c is
 *    checking: beyond the early visits' fields, memory is bounded whatever
 *    the history's length.
 *  - A worker writes the slots of its chunk without the lock and hands the
 *    whole chunk over under it (ready = 1): one wake-up of verify.c per
 *    chunk, not per commit. From then on only verify.c reads a slot, until
 *    it releases it (verify_pool_done); the worker that prepared it frees it
 *    when it takes its next chunk, so memory goes back to the allocator's
 *    arena of the thread that took it (a free from another thread contends
 *    for that arena's lock); verify_pool_free frees the rest.
 *  - Whatever fails while preparing (a read, memory) is kept as a code and
 *    message in the slot and reported by verify.c when it reaches that
 *    commit; verification failures are left to verify.c's checks.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lethe/error.h"
#include "lethe/sshsig.h"
#include "vec.h"
#include "verify_impl.h"

#define CHUNK 32
#define WINDOW 512
#define MAX_WORKERS 8

struct verify_pool {
	const char *repository;
	/* while the walk runs: */
	char *found;              /* the ids it found, newest first (41 bytes each) */
	size_t nfound, capfound;
	verify_prepared **early;  /* early[k]: found commit k, visited ahead when done */
	size_t capearly;
	size_t next_early;        /* the first found commit no worker has taken */
	size_t visiting;          /* early visits under way */
	int walked;               /* the walk is over: no more early visits */
	int started;              /* slots are set up: preparing in history order */
	/* then: */
	char *ids;                /* n ids of 41 bytes, oldest first */
	size_t n;
	verify_prepared *slots;   /* n */
	pthread_mutex_t lock;
	pthread_cond_t handed;    /* a chunk is ready: for verify.c */
	pthread_cond_t room;      /* commits released, or stop: for the workers */
	size_t next_chunk;        /* the first commit no worker has taken */
	size_t taken;             /* commits verify.c has released */
	size_t waiting;           /* workers waiting for room */
	atomic_int stop;          /* also read while preparing, without the lock */
	pthread_t workers[MAX_WORKERS];
	size_t nworkers;
	verify_hashes hashes;     /* verify_pool_get's, when no worker runs */
};

static const char *id_at(const verify_pool *p, size_t i)
{
	return p->ids + 41 * i;
}

/* Keep the current error in the slot. */
static int keep_error(verify_prepared *v, int rc)
{
	v->rc = rc;
	free(v->why);
	v->why = strdup(lethe_error_last());
	return rc;
}

static int copy_str(char **out, const char *s)
{
	if (!(*out = strdup(s ? s : "")))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

/* The commit's fields and its signature (lethe_evidence_visit's callback). */
static int take_commit(void *ctx, const lethe_evidence_commit_info *c)
{
	verify_prepared *v = ctx;
	int rc;

	v->info = *c;
	v->info.author_name = v->info.author_email = v->info.committer_name = "";
	v->info.signature = v->info.signed_data = NULL;
	v->info.signature_len = v->info.signed_len = 0;
	if ((rc = copy_str(&v->email, c->committer_email)) < 0 ||
	    (rc = copy_str(&v->message, c->message)) < 0)
		return rc;
	v->info.committer_email = v->email;
	v->info.message = v->message;
	v->is_signed = c->signature != NULL;
	if (!v->is_signed)
		return 0;
	v->sig_rc = lethe_sshsig_verify(v->signer, c->signature, c->signature_len, "git",
					c->signed_data, c->signed_len);
	if (v->sig_rc < 0 && !(v->sig_why = strdup(lethe_error_last())))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	return 0;
}

static int take_change(void *ctx, char status, const char *path, const char *blob)
{
	verify_prepared *v = ctx;

	if (v->nchanges == v->capchanges) {
		size_t cap = v->capchanges ? 2 * v->capchanges : 8;
		verify_change *more = realloc(v->changes, cap * sizeof(*more));

		if (!more)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		v->changes = more;
		v->capchanges = cap;
	}
	if (!(v->changes[v->nchanges].path = strdup(path)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	v->changes[v->nchanges].status = status;
	snprintf(v->changes[v->nchanges++].blob, 41, "%s", blob);
	return 0;
}

/* Parse the record when the commit adds exactly one file under records/
 * and changes nothing else there; anything else is verify.c's to judge. */
static void parse_record(lethe_evidence *ev, verify_prepared *v)
{
	const verify_change *rec = NULL;
	json_error_t jerr;
	char *data = NULL;
	size_t len;

	for (size_t i = 0; i < v->nchanges; i++)
		if (!strncmp(v->changes[i].path, "records/", 8)) {
			if (rec || v->changes[i].status != 'A')
				return;
			rec = &v->changes[i];
		}
	if (!rec || lethe_evidence_read_blob(&data, &len, ev, rec->blob) < 0)
		return;
	v->record = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	free(data);
	if (!v->record && !(v->record_error = strdup(jerr.text)))
		return;
	v->record_parsed = 1;
}

/* The blob id of path in commit oid as verify_cache.c's file_id finds it:
 * outside records/ from the commit's changes, else from its tree. */
static int listed_blob(char blob[41], lethe_evidence *ev, const verify_prepared *v,
		       const char *path)
{
	for (size_t i = 0; strncmp(path, "records/", 8) && i < v->nchanges; i++)
		if (v->changes[i].status != 'D' && !strcmp(v->changes[i].path, path)) {
			memcpy(blob, v->changes[i].blob, 41);
			return 0;
		}
	return lethe_evidence_tree_file_id(blob, ev, v->info.tree, path);
}

/* Find and hash the files the record lists, here rather than on the thread
 * that checks: the commit's trees are in this thread's handle already. A
 * file not found (or not read) is left out: verify.c looks for it again and
 * reports it where its checks meet it. */
static void hash_listed(lethe_evidence *ev, verify_hashes *hashes, verify_prepared *v)
{
	json_t *files = json_object_get(v->record, "files"), *e;
	size_t i;

	json_array_foreach(files, i, e) {
		const char *path = json_string_value(json_object_get(e, "path"));
		verify_listed l;

		if (!path || listed_blob(l.blob, ev, v, path) < 0 ||
		    verify_blob_sha256(l.sha256, hashes, ev, l.blob) < 0 ||
		    LETHE_VEC_RESERVE(v->listed, v->nlisted + 1, v->caplisted) < 0 ||
		    !(l.path = strdup(path)))
			continue;
		v->listed[v->nlisted++] = l;
	}
}

/* The commit's fields and signature check into v (once). */
static void visit(lethe_evidence *ev, const char *oid, verify_prepared *v)
{
	int rc = lethe_evidence_visit(ev, oid, take_commit, v);

	if (rc < 0)
		keep_error(v, rc);
	v->visited = 1;
}

void verify_prepare(lethe_evidence *ev, verify_hashes *hashes, const char *prev,
		    const char *prev_tree, const char *oid, verify_prepared *v)
{
	int rc;

	/* visited already while the walk ran, or now */
	if (!v->visited)
		visit(ev, oid, v);
	if (v->rc)
		return;
	/* reported where verify.c compared the trees, after the signature */
	rc = prev_tree ? lethe_evidence_diff_trees(ev, prev_tree, v->info.tree, take_change, v)
		       : lethe_evidence_diff(ev, prev, oid, take_change, v);
	if (rc < 0) {
		v->diff_rc = rc;
		v->diff_why = strdup(lethe_error_last());
		return;
	}
	parse_record(ev, v);
	if (v->record)
		hash_listed(ev, hashes, v);
}

void verify_prepared_free(verify_prepared *v)
{
	for (size_t i = 0; i < v->nchanges; i++)
		free(v->changes[i].path);
	free(v->changes);
	free(v->why);
	free(v->diff_why);
	free(v->email);
	free(v->message);
	free(v->sig_why);
	free(v->record_error);
	for (size_t i = 0; i < v->nlisted; i++)
		free(v->listed[i].path);
	free(v->listed);
	json_decref(v->record);
	memset(v, 0, sizeof(*v));
}

/* The first commits of the chunks a worker prepared and has not freed. */
typedef struct {
	size_t *from;
	size_t n, cap;
} chunk_list;

/* Free the worker's chunks verify.c has released (all below taken). */
static void free_released(verify_pool *p, chunk_list *mine, size_t taken)
{
	size_t kept = 0;

	for (size_t c = 0; c < mine->n; c++) {
		size_t from = mine->from[c], to = from + CHUNK < p->n ? from + CHUNK : p->n;

		if (to > taken) {
			mine->from[kept++] = from;
			continue;
		}
		for (size_t i = from; i < to; i++)
			verify_prepared_free(&p->slots[i]);
	}
	mine->n = kept;
}

/* Remember a chunk to free later; when memory is short it stays for
 * verify_pool_free. */
static void remember_chunk(chunk_list *mine, size_t from)
{
	if (LETHE_VEC_RESERVE(mine->from, mine->n + 1, mine->cap) == 0)
		mine->from[mine->n++] = from;
}

/* While the walk runs (lock held): visit the commits it found, newest
 * first, fields and signature, as verify_prepare would. */
static void visit_early(verify_pool *p, lethe_evidence *ev, int open_rc)
{
	while (!atomic_load(&p->stop) && !p->walked) {
		verify_prepared *v;
		char id[41];

		if (open_rc < 0 || p->next_early == p->nfound) {
			p->waiting++;
			pthread_cond_wait(&p->room, &p->lock);
			p->waiting--;
			continue;
		}
		v = p->early[p->next_early];
		memcpy(id, p->found + 41 * p->next_early++, 41);
		p->visiting++;
		pthread_mutex_unlock(&p->lock);
		visit(ev, id, v);
		pthread_mutex_lock(&p->lock);
		if (--p->visiting == 0 && p->walked)
			pthread_cond_signal(&p->handed);
	}
}

static void *work(void *arg)
{
	verify_pool *p = arg;
	lethe_evidence *ev = NULL;
	chunk_list mine = { NULL, 0, 0 };
	verify_hashes hashes = { NULL, 0, 0 };
	int rc = lethe_evidence_open(&ev, p->repository);

	pthread_mutex_lock(&p->lock);
	visit_early(p, ev, rc);
	while (!atomic_load(&p->stop) && !p->started) {
		p->waiting++;
		pthread_cond_wait(&p->room, &p->lock);
		p->waiting--;
	}
	for (;;) {
		size_t from, to, taken;

		while (!atomic_load(&p->stop) && p->next_chunk < p->n &&
		       p->next_chunk >= p->taken + WINDOW) {
			p->waiting++;
			pthread_cond_wait(&p->room, &p->lock);
			p->waiting--;
		}
		if (atomic_load(&p->stop) || p->next_chunk >= p->n)
			break;
		from = p->next_chunk;
		to = from + CHUNK < p->n ? from + CHUNK : p->n;
		p->next_chunk = to;
		taken = p->taken;
		pthread_mutex_unlock(&p->lock);
		free_released(p, &mine, taken);
		remember_chunk(&mine, from);
		for (size_t i = from; i < to && !atomic_load(&p->stop); i++) {
			/* the previous commit's tree, when this worker read it */
			const verify_prepared *prev = i > from ? &p->slots[i - 1] : NULL;

			if (rc < 0)
				keep_error(&p->slots[i], rc);
			else
				verify_prepare(ev, &hashes, i ? id_at(p, i - 1) : NULL,
					       prev && !prev->rc ? prev->info.tree : NULL,
					       id_at(p, i), &p->slots[i]);
		}
		pthread_mutex_lock(&p->lock);
		for (size_t i = from; i < to; i++)
			p->slots[i].ready = 1;
		pthread_cond_signal(&p->handed);
	}
	pthread_mutex_unlock(&p->lock);
	free(mine.from);
	verify_hash_free(&hashes);
	lethe_evidence_free(ev);
	return NULL;
}

int verify_pool_start(verify_pool **out, const char *repository)
{
	verify_pool *p = calloc(1, sizeof(*p));
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (size_t)cpus;

	*out = NULL;
	if (!p)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	p->repository = repository;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->handed, NULL);
	pthread_cond_init(&p->room, NULL);
	atomic_init(&p->stop, 0);
	/* no worker at all (threads refused) leaves verify_pool_get to
	 * prepare each commit on the calling thread */
	while (p->nworkers < want && pthread_create(&p->workers[p->nworkers], NULL, work, p) == 0)
		p->nworkers++;
	*out = p;
	return 0;
}

int verify_pool_found(void *ctx, const char *oid)
{
	verify_pool *p = ctx;
	verify_prepared *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	pthread_mutex_lock(&p->lock);
	if ((rc = LETHE_VEC_RESERVE(p->found, 41 * (p->nfound + 1), p->capfound)) < 0 ||
	    (rc = LETHE_VEC_RESERVE(p->early, p->nfound + 1, p->capearly)) < 0) {
		pthread_mutex_unlock(&p->lock);
		free(v);
		return rc;
	}
	memcpy(p->found + 41 * p->nfound, oid, 41);
	p->early[p->nfound++] = v;
	if (p->waiting)
		pthread_cond_signal(&p->room);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int verify_pool_walked(verify_pool *p, size_t *n)
{
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	p->walked = 1;
	pthread_cond_broadcast(&p->room);
	while (p->visiting)
		pthread_cond_wait(&p->handed, &p->lock);
	/* no worker touches early[] or found[] any more */
	if (p->nfound && (!(p->ids = malloc(41 * p->nfound)) ||
			  !(p->slots = calloc(p->nfound, sizeof(*p->slots))))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	} else {
		p->n = p->nfound;
		for (size_t i = 0; i < p->n; i++) {
			size_t k = p->n - 1 - i;

			memcpy(p->ids + 41 * i, p->found + 41 * k, 41);
			/* a commit visited ahead moves into its slot */
			p->slots[i] = *p->early[k];
			free(p->early[k]);
			p->early[k] = NULL;
		}
		p->started = 1;
		pthread_cond_broadcast(&p->room);
	}
	pthread_mutex_unlock(&p->lock);
	*n = p->n;
	return rc;
}

verify_prepared *verify_pool_get(verify_pool *p, lethe_evidence *ev, size_t i)
{
	verify_prepared *v = &p->slots[i];

	if (!p->nworkers) {
		/* the previous slot is freed already: its tree is read again */
		verify_prepare(ev, &p->hashes, i ? id_at(p, i - 1) : NULL, NULL, id_at(p, i), v);
		return v;
	}
	pthread_mutex_lock(&p->lock);
	while (!v->ready)
		pthread_cond_wait(&p->handed, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return v;
}

void verify_pool_done(verify_pool *p, size_t i)
{
	if (!p->nworkers) {
		verify_prepared_free(&p->slots[i]);
		return;
	}
	/* the worker that prepared it frees it (see the invariants) */
	pthread_mutex_lock(&p->lock);
	p->taken = i + 1;
	if (p->waiting && p->next_chunk < p->taken + WINDOW)
		pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
}

void verify_pool_free(verify_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->stop, 1);
	pthread_cond_broadcast(&p->room);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i], NULL);
	for (size_t i = 0; i < p->n; i++)
		verify_prepared_free(&p->slots[i]);
	for (size_t k = 0; k < p->nfound; k++)
		if (p->early[k]) {
			verify_prepared_free(p->early[k]);
			free(p->early[k]);
		}
	free(p->early);
	free(p->found);
	free(p->ids);
	free(p->slots);
	verify_hash_free(&p->hashes);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->handed);
	pthread_cond_destroy(&p->room);
	free(p);
}
