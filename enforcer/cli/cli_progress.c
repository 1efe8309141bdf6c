/*
 * cli_progress.c - a progress line for long runs: its phase (disposing,
 * clean-up, signing, pushing), rows done, rate, time left, redrawn in place
 * with "\r" on stderr. Once every due row is disposed the line names the
 * phase that follows instead of a rate and "0 s left": the clean-up (residue,
 * VACUUM), signing and pushing can take longer than the last batches.
 *
 * Invariants: nothing is ever printed unless stderr is a terminal (the
 * journal and redirected output never see it); at most one redraw per
 * CLI_PROGRESS_MS; cli_progress_end leaves the line empty, so the messages
 * that follow start at column 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

#define CLI_PROGRESS_MS 250

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cli_progress_start(cli_progress *p, const lethe_cli_opts *opts)
{
	p->enabled = isatty(STDERR_FILENO) && !(opts && opts->quiet);
	p->start_ms = now_ms();
	p->last_ms = 0;
	p->width = 0;
	p->done = p->total = 0;
}

/* Draw text, padded over the previous line. */
static void draw(cli_progress *p, int n)
{
	if (n < p->width)
		fprintf(stderr, "%*s", p->width - n, "");
	if (n > p->width)
		p->width = n;
	fflush(stderr);
}

void cli_progress_phase(void *ctx, const char *phase)
{
	cli_progress *p = ctx;

	if (!p->enabled)
		return;
	p->last_ms = now_ms();
	draw(p, fprintf(stderr, "\rlethe: %s: %" PRId64 " of %" PRId64 " rows disposed", phase,
			p->done, p->total));
}

void cli_progress_update(void *ctx, int64_t done, int64_t total)
{
	cli_progress *p = ctx;
	int64_t t = now_ms(), elapsed;
	double rate;
	int n;

	p->done = done;
	p->total = total;
	if (!p->enabled || total <= 0)
		return;
	/* the last batch: what follows is the clean-up, shown at once */
	if (done >= total) {
		cli_progress_phase(p, "clean-up");
		return;
	}
	if (t - p->last_ms < CLI_PROGRESS_MS)
		return;
	p->last_ms = t;
	elapsed = t - p->start_ms;
	rate = elapsed > 0 ? (double)done * 1000.0 / (double)elapsed : 0.0;
	n = fprintf(stderr, "\rlethe: disposing: %" PRId64 " of %" PRId64 " rows (%d%%), %.0f rows/s, ",
		    done, total, (int)(done * 100 / total), rate);
	if (rate > 0)
		n += fprintf(stderr, "about %.0f s left", (double)(total - done) / rate);
	else
		n += fprintf(stderr, "time left unknown");
	draw(p, n);
}

void cli_progress_end(cli_progress *p)
{
	if (!p->enabled || !p->width)
		return;
	fprintf(stderr, "\r%*s\r", p->width, "");
	fflush(stderr);
	p->width = 0;
}
