/*
 * write_pipe.c - a writer on a thread of its own (write_pipe.h).
 *
 * Invariants:
 *  - Slots [tail, head) (modulo LETHE_WRITE_PIPE_SLOTS) hold buffers not
 *    yet written; head and tail only grow, under lock. The writer takes
 *    slot tail without the lock while it writes it: the producer never
 *    fills a slot until tail has passed it.
 *  - failed is set once, by the writer, with its message copied: the
 *    error state (lethe_error_last) is per thread.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "lethe/error.h"
#include "write_pipe.h"

struct lethe_write_pipe {
	pthread_mutex_t lock;
	pthread_cond_t cond;    /* a slot written, a slot filled, or finishing */
	pthread_t thread;
	int (*write)(void *wctx, const void *buf, size_t len);
	void *wctx;
	unsigned char *slot[LETHE_WRITE_PIPE_SLOTS];
	size_t cap[LETHE_WRITE_PIPE_SLOTS], len[LETHE_WRITE_PIPE_SLOTS];
	size_t head, tail;      /* buffers handed over, buffers written */
	int finishing;          /* no buffer comes any more */
	int stop;               /* the producer failed: write nothing more */
	int failed;             /* the writer's failure (a negative code), or 0 */
	char *why;              /* its message */
};

static void *writer(void *arg)
{
	lethe_write_pipe *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		size_t s;
		int rc;

		while (p->tail == p->head && !p->finishing && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop || p->tail == p->head)
			break;
		s = p->tail % LETHE_WRITE_PIPE_SLOTS;
		pthread_mutex_unlock(&p->lock);
		rc = p->write(p->wctx, p->slot[s], p->len[s]);
		pthread_mutex_lock(&p->lock);
		if (rc < 0) {
			p->failed = rc;
			p->why = strdup(lethe_error_last());
			pthread_cond_broadcast(&p->cond);
			break;
		}
		p->tail++;
		pthread_cond_broadcast(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int lethe_write_pipe_start(lethe_write_pipe **out, int (*write)(void *wctx, const void *buf, size_t len),
			   void *wctx)
{
	lethe_write_pipe *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	p->write = write;
	p->wctx = wctx;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	if (pthread_create(&p->thread, NULL, writer, p) != 0) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return 0;
	}
	*out = p;
	return 0;
}

int lethe_write_pipe_write(void *ctx, const void *buf, size_t len)
{
	lethe_write_pipe *p = ctx;
	size_t s;

	if (!len)      /* nothing to write: a byte stream is the same without it */
		return 0;
	pthread_mutex_lock(&p->lock);
	while (p->head - p->tail == LETHE_WRITE_PIPE_SLOTS && !p->failed)
		pthread_cond_wait(&p->cond, &p->lock);
	if (p->failed) {
		pthread_mutex_unlock(&p->lock);
		return p->failed;
	}
	s = p->head % LETHE_WRITE_PIPE_SLOTS;
	pthread_mutex_unlock(&p->lock);
	/* slot s is the producer's until head passes it */
	if (len > p->cap[s]) {
		unsigned char *b = realloc(p->slot[s], len);

		if (!b)
			return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		p->slot[s] = b;
		p->cap[s] = len;
	}
	memcpy(p->slot[s], buf, len);
	p->len[s] = len;
	pthread_mutex_lock(&p->lock);
	p->head++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int lethe_write_pipe_finish(lethe_write_pipe *p, int rc)
{
	if (!p)
		return rc;
	pthread_mutex_lock(&p->lock);
	p->finishing = 1;
	p->stop = rc < 0;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	/* a producer that failed because the writer did has no message of
	 * its own: the writer's is the one */
	if (p->failed)
		rc = lethe_error_set(p->failed, "%s", p->why ? p->why : "out of memory");
	for (size_t i = 0; i < LETHE_WRITE_PIPE_SLOTS; i++)
		free(p->slot[i]);
	free(p->why);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return rc;
}
