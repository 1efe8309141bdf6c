/*
 * demo_words.h - internal to the demo module: the built-in Finnish word lists
 * the generator draws from, and the few text helpers that need them.
 *
 * Invariant: the lists are constant and their order never depends on anything
 * at run time, so the generator stays deterministic.
 */
#ifndef LETHE_DEMO_WORDS_H
#define LETHE_DEMO_WORDS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char *name;
	const char *prefix;  /* first two digits of its postcodes */
} demo_city;

extern const demo_city demo_cities[];
extern const size_t demo_ncities;


extern const char *const demo_first_names[], *const demo_last_names[],
	*const demo_streets[], *const demo_products[], *const demo_colours[],
	*const demo_consent_sources[], *const demo_segments[], *const demo_complaints[],
	*const demo_return_reasons[], *const demo_comments[], *const demo_urls[],
	*const demo_user_agents[];
extern const size_t demo_nfirst_names, demo_nlast_names, demo_nstreets,
	demo_nproducts, demo_ncolours, demo_nconsent_sources, demo_nsegments,
	demo_ncomplaints, demo_nreturn_reasons, demo_ncomments, demo_nurls,
	demo_nuser_agents;

/* Lower-case ASCII for an e-mail local part: ä, å -> a, ö -> o, other
 * non-ASCII bytes dropped. dst may equal src (the result is never longer). */
void demo_ascii_lower(char *dst, size_t size, const char *src);

/* A short Finnish chat transcript of kind 0..3 into buf. The person's fields
 * are NULL for an anonymous visitor; order_id 0 when the chat names none. */
void demo_chat_text(char *buf, size_t size, int kind, const char *name,
		    const char *first, const char *email, const char *phone,
		    int64_t order_id);

#endif
