/*
 * lethe/demo.h - the reference shop of the seed privacy notice (Minime.fi,
 * Nisuva Oy): a synthetic, deterministic SQLite register and a lethe.yaml.
 */
#ifndef LETHE_DEMO_H
#define LETHE_DEMO_H

#include <stdint.h>

typedef struct {
	int64_t customers;        /* default 1000 */
	uint64_t seed;            /* default 1; same seed, same bytes of data */
	const char *policies_dir; /* written into lethe.yaml as `policies:` */
	/* non-NULL: a PostgreSQL connection (URI or key/value string) to write
	 * the shop into instead of dir/shop.sqlite; lethe.yaml names it */
	const char *database;
} lethe_demo_options;

#define LETHE_DEMO_OPTIONS_INIT { 1000, 1, NULL, NULL }

/* The last day of the demo's history; fixed so the register is deterministic. */
#define LETHE_DEMO_LAST_DAY "2026-10-31"
#define LETHE_DEMO_FIRST_DAY "2015-01-01"

/* Create dir (if needed), write dir/shop.sqlite and dir/lethe.yaml.
 * LETHE_ECANTCREAT when dir/shop.sqlite already exists or cannot be made. */
int lethe_demo_write(const char *dir, const lethe_demo_options *opts);

#endif
