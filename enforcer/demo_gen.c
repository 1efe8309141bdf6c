/*
 * demo_gen.c - the reference shop's synthetic register (Minime.fi, Nisuva Oy):
 * Finnish customers with orders, invoices, payments, deliveries, returns,
 * complaints, consents, bans, marketing profiles, chats, feedback, page events,
 * change history and the register's share of the books (the sales journal
 * entries exported to accounting, one per invoice), from LETHE_DEMO_FIRST_DAY to LETHE_DEMO_LAST_DAY.
 *
 * Invariants:
 *  - Deterministic: every choice comes from one splitmix64 stream seeded by
 *    the caller, in a fixed order (the sales journal draws nothing from it:
 *    its entries follow from the invoices, so adding it changed no other row); the history is fixed, not relative to
 *    today, so the same seed gives the same rows on any day.
 *  - No timestamp is later than the end of LETHE_DEMO_LAST_DAY, and every
 *    "after" timestamp (closed, ended, withdrawn, delivered) is not before its
 *    "before" one.
 *  - Errors are sticky: the first failing insert is kept in g->rc, later
 *    inserts are skipped, and demo_generate returns it. This keeps the row
 *    code flat (one line per row) without losing the first failure.
 *  - The scenario the policies need is always present: some orders older than
 *    ten full fiscal years carry a complaint that is still open, so deleting
 *    them is blocked (at least three when the register has such orders).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "demo_gen.h"
#include "demo_words.h"
#include "lethe/calendar.h"
#include "lethe/demo.h"
#include "lethe/error.h"

#define DAY_SECONDS 86400
#define NPRODUCTS 48
#define MAX_ORDERS 8
#define TS_LEN 32  /* "YYYY-MM-DD HH:MM:SS" with room the compiler can prove */

typedef struct {
	demo_sink *sink;
	uint64_t rng;
	int rc;
	lethe_day first, last;
	lethe_day old_orders_end;  /* orders before it are > 10 fiscal years old */
	int64_t next_id[DEMO_NTABLES];
	int64_t price[NPRODUCTS];
	int old_open_complaints;
} gen;

typedef struct {
	char first[32], name[96], email[128], phone[24];
	char street[80], postcode[8], city[32];
	char dstreet[80], dpostcode[8], dcity[32];  /* delivery address, "" if none */
} person;

typedef struct {
	int64_t id;
	int64_t ts;
	const char *status;
} order_info;

/* --- randomness and time ------------------------------------------------- */

static uint64_t next_u64(gen *g)
{
	uint64_t z = (g->rng += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0); the modulo bias is irrelevant for demo data. */
static int64_t rnd(gen *g, int64_t n)
{
	return (int64_t)(next_u64(g) % (uint64_t)n);
}

static int chance(gen *g, int percent)
{
	return rnd(g, 100) < percent;
}

static const char *pick(gen *g, const char *const *list, size_t n)
{
	return list[rnd(g, (int64_t)n)];
}

#define PICK(g, list) pick((g), (list), sizeof(list) / sizeof((list)[0]))

static int64_t day_start(lethe_day d)
{
	return (int64_t)d * DAY_SECONDS;
}

static int64_t end_ts(const gen *g)
{
	return day_start(g->last + 1) - 1;
}

/* A timestamp uniform in [a, b] (b >= a assumed, clamped otherwise). */
static int64_t ts_between(gen *g, int64_t a, int64_t b)
{
	return b <= a ? a : a + rnd(g, b - a + 1);
}

/* a + between lo and hi days (random time of day within), or -1 when that is
 * after the end of the history: the event has not happened yet. */
static int64_t ts_after(gen *g, int64_t a, int lo_days, int hi_days)
{
	int64_t t = a + (int64_t)lo_days * DAY_SECONDS +
		    rnd(g, (int64_t)(hi_days - lo_days + 1) * DAY_SECONDS);

	return t > end_ts(g) ? -1 : t;
}

static void fmt_ts(char buf[TS_LEN], int64_t ts)
{
	char day[11];
	int64_t s = ts % DAY_SECONDS;

	lethe_day_format((lethe_day)(ts / DAY_SECONDS), day);
	snprintf(buf, TS_LEN, "%s %02d:%02d:%02d", day, (int)(s / 3600),
		 (int)(s / 60 % 60), (int)(s % 60));
}

/* --- rows --------------------------------------------------------------- */

static lethe_value vi(int64_t i)
{
	lethe_value v = { .type = LETHE_VALUE_INTEGER, .i = i };

	return v;
}

/* Text, or NULL when s is NULL or an empty string. */
static lethe_value vt(const char *s)
{
	lethe_value v = { .type = LETHE_VALUE_NULL };

	if (s && *s) {
		v.type = LETHE_VALUE_TEXT;
		v.s = s;
		v.len = strlen(s);
	}
	return v;
}

/* Id, or NULL when 0. */
static lethe_value vid(int64_t id)
{
	lethe_value v = { .type = LETHE_VALUE_NULL };

	return id ? vi(id) : v;
}

/* Insert a row with the table's next id; returns the id (0 after an error). */
static int64_t add_row(gen *g, demo_table t, const lethe_value *vals, size_t n)
{
	int64_t id;

	if (g->rc)
		return 0;
	id = ++g->next_id[t];
	g->rc = demo_sink_row(g->sink, t, id, vals, n);
	return g->rc ? 0 : id;
}

#define ROW(g, t, ...) add_row((g), (t), (lethe_value[]){ __VA_ARGS__ }, \
	sizeof((lethe_value[]){ __VA_ARGS__ }) / sizeof(lethe_value))

/* --- people -------------------------------------------------------------- */

static void make_address(gen *g, char *street, size_t slen, char postcode[8],
			 char city[32])
{
	const demo_city *c = &demo_cities[rnd(g, (int64_t)demo_ncities)];
	int no = 1 + (int)rnd(g, 60);

	if (chance(g, 60))
		snprintf(street, slen, "%s %d %c %d", pick(g, demo_streets, demo_nstreets),
			 no, (char)('A' + rnd(g, 4)), 1 + (int)rnd(g, 40));
	else
		snprintf(street, slen, "%s %d", pick(g, demo_streets, demo_nstreets), no);
	snprintf(postcode, 8, "%s%02d0", c->prefix, (int)rnd(g, 100));
	snprintf(city, 32, "%s", c->name);
}

static void make_phone(gen *g, char buf[24])
{
	snprintf(buf, 24, "+358 4%d %03d %04d", (int)rnd(g, 10), (int)rnd(g, 1000),
		 (int)rnd(g, 10000));
}

static void make_person(gen *g, person *p, int64_t id)
{
	static const char *const domains[] = { "example.com", "example.net", "example.org" };
	const char *last = pick(g, demo_last_names, demo_nlast_names);
	char a[32], b[48];

	snprintf(p->first, sizeof(p->first), "%s", pick(g, demo_first_names, demo_nfirst_names));
	snprintf(p->name, sizeof(p->name), "%s %s", p->first, last);
	demo_ascii_lower(a, sizeof(a), p->first);
	demo_ascii_lower(b, sizeof(b), last);
	/* The id keeps e-mails unique without a lookup. */
	snprintf(p->email, sizeof(p->email), "%s.%s%lld@%s", a, b, (long long)id,
		 PICK(g, domains));
	make_phone(g, p->phone);
	make_address(g, p->street, sizeof(p->street), p->postcode, p->city);
	p->dstreet[0] = p->dpostcode[0] = p->dcity[0] = '\0';
	if (chance(g, 40))
		make_address(g, p->dstreet, sizeof(p->dstreet), p->dpostcode, p->dcity);
}

static void random_hex(gen *g, char *buf, int nbytes)
{
	for (int i = 0; i < nbytes; i++)
		snprintf(buf + 2 * i, 3, "%02x", (unsigned)rnd(g, 256));
}

/* --- the pieces of one customer ------------------------------------------ */

static void gen_products(gen *g)
{
	for (int i = 0; i < NPRODUCTS; i++) {
		char sku[16], name[96];

		g->price[i] = 490 + 100 * rnd(g, 60);
		snprintf(sku, sizeof(sku), "MM-%04d", 1001 + i);
		snprintf(name, sizeof(name), "%s, %s",
			 demo_products[i % demo_nproducts],
			 demo_colours[(i / demo_nproducts + i) % demo_ncolours]);
		ROW(g, DEMO_PRODUCTS, vt(sku), vt(name), vi(g->price[i]));
	}
}

/* Consents on 1-3 channels (~30% withdrawn), sometimes a ban that withdraws
 * the banned channel's consent, and a marketing profile when any consent was
 * ever given. */
static void gen_marketing(gen *g, int64_t cid, int64_t t_created,
			  int64_t t_active)
{
	static const char *const channels[] = { "email", "sms", "post" };
	int64_t given[3] = { -1, -1, -1 }, withdrawn[3] = { -1, -1, -1 };
	int64_t ban = -1;
	int ban_ch = 0, any = 0;

	if (chance(g, 85)) {
		int k = 1 + (int)rnd(g, 3), skip = (int)rnd(g, 3);

		for (int c = 0; c < 3 && k > 0; c++) {
			if (k < 3 && c == skip)
				continue;
			k--;
			given[c] = ts_between(g, t_created, t_created + 30 * DAY_SECONDS);
			if (given[c] > end_ts(g))
				given[c] = end_ts(g);
			if (chance(g, 30))
				withdrawn[c] = ts_between(g, given[c], end_ts(g));
		}
	}
	if (chance(g, 5)) {
		ban_ch = (int)rnd(g, 2);  /* email or sms: the channels with a token */
		ban = ts_between(g, t_created, end_ts(g));
		if (given[ban_ch] >= 0 && given[ban_ch] <= ban &&
		    (withdrawn[ban_ch] < 0 || withdrawn[ban_ch] > ban))
			withdrawn[ban_ch] = ban;
	}
	for (int c = 0; c < 3; c++) {
		char tg[TS_LEN], tw[TS_LEN];

		if (given[c] < 0)
			continue;
		any = 1;
		fmt_ts(tg, given[c]);
		if (withdrawn[c] >= 0)
			fmt_ts(tw, withdrawn[c]);
		ROW(g, DEMO_CONSENTS, vi(cid), vt(channels[c]), vt(tg),
		    vt(withdrawn[c] >= 0 ? tw : NULL),
		    vt(pick(g, demo_consent_sources, demo_nconsent_sources)));
	}
	if (ban >= 0) {
		char tb[TS_LEN], token[65];

		fmt_ts(tb, ban);
		random_hex(g, token, 32);
		/* A fifth of the bans outlived the account link (SET NULL). */
		ROW(g, DEMO_MARKETING_BANS, vid(chance(g, 20) ? 0 : cid),
		    vt(channels[ban_ch]), vt(tb), vt(ban_ch == 0 ? token : NULL),
		    vt(ban_ch == 1 ? token : NULL));
	}
	if (any) {
		char tu[TS_LEN], seg[96];

		fmt_ts(tu, t_active);
		snprintf(seg, sizeof(seg), "%s,%s", pick(g, demo_segments, demo_nsegments),
			 pick(g, demo_segments, demo_nsegments));
		ROW(g, DEMO_MARKETING_PROFILES, vi(cid), vt(seg), vt(tu));
	}
}

static void gen_complaint(gen *g, int64_t cid, int64_t oid, int64_t t_order, int open)
{
	int64_t opened = ts_after(g, t_order, 3, 60), closed;
	char to[TS_LEN], tc[TS_LEN];

	if (opened < 0)
		return;
	closed = open ? -1 : ts_after(g, opened, 5, 60);
	fmt_ts(to, opened);
	if (closed >= 0)
		fmt_ts(tc, closed);
	ROW(g, DEMO_COMPLAINTS, vi(cid), vid(oid),
	    vt(pick(g, demo_complaints, demo_ncomplaints)), vt(to),
	    vt(closed >= 0 ? tc : NULL));
}

/* One order with its lines, and as its status implies: invoice and payment,
 * delivery, return, and (for a few old orders) a complaint still open. */
static order_info gen_order(gen *g, int64_t cid, const person *p, int64_t ts)
{
	order_info o = { 0, ts, "delivered" };
	int nlines = 1 + (int)rnd(g, 4), prod[4], qty[4];
	int64_t total = 0, inv = 0;
	lethe_day day = (lethe_day)(ts / DAY_SECONDS);
	char t[TS_LEN], t2[TS_LEN], num[32];

	if (g->last - day < 3)
		o.status = "open";
	else if (g->last - day < 14)
		o.status = "paid";
	else if (chance(g, 4))
		o.status = "cancelled";
	else if (chance(g, 5))
		o.status = "returned";
	for (int i = 0; i < nlines; i++) {
		prod[i] = (int)rnd(g, NPRODUCTS);
		qty[i] = 1 + (int)(rnd(g, 10) / 7);
		total += qty[i] * g->price[prod[i]];
	}
	fmt_ts(t, ts);
	o.id = ROW(g, DEMO_ORDERS, vi(cid), vt(t), vt(o.status), vi(total));
	for (int i = 0; i < nlines; i++)
		ROW(g, DEMO_ORDER_LINES, vi(o.id), vi(prod[i] + 1), vi(qty[i]),
		    vi(g->price[prod[i]]));
	if (strcmp(o.status, "open") != 0) {
		static const char *const methods[] = { "klarna", "klarna", "card", "card", "bank" };
		const char *m = PICK(g, methods);
		int64_t paid = ts_after(g, ts, 0, strcmp(m, "bank") ? 0 : 3);
		char ref[40] = "";
		int y, mo, d;

		lethe_day_to_ymd(day, &y, &mo, &d);
		snprintf(num, sizeof(num), "%d-%08lld", y,
			 (long long)g->next_id[DEMO_INVOICES] + 1);
		inv = ROW(g, DEMO_INVOICES, vi(o.id), vt(num), vt(t), vt(p->name),
			  vt(p->street), vt(p->postcode), vt(p->city));
		{
			char entry[11], customer[24];

			lethe_day_format(day, entry);
			snprintf(customer, sizeof(customer), "A%07lld", (long long)cid);
			ROW(g, DEMO_SALES_JOURNAL, vt(entry), vt(customer), vt(num), vt("3000"),
			    vi(total));
		}
		if (!strcmp(m, "klarna")) {
			memcpy(ref, "KL-", 3);
			random_hex(g, ref + 3, 12);
		}
		fmt_ts(t2, paid < 0 ? end_ts(g) : paid);
		ROW(g, DEMO_PAYMENTS, vi(inv), vt(m), vt(ref), vt(t2), vi(total));
	}
	if (!strcmp(o.status, "delivered") || !strcmp(o.status, "returned")) {
		int posti = chance(g, 70), gift = chance(g, 10), home = p->dstreet[0] == 0;
		int64_t delivered = ts_after(g, ts, 1, 5);
		char track[32], gift_name[96];

		if (posti)
			snprintf(track, sizeof(track), "JJFI64%014lld", (long long)rnd(g, 100000000000000LL));
		else
			snprintf(track, sizeof(track), "MH%012lld", (long long)rnd(g, 1000000000000LL));
		snprintf(gift_name, sizeof(gift_name), "%s %s",
			 pick(g, demo_first_names, demo_nfirst_names),
			 pick(g, demo_last_names, demo_nlast_names));
		if (delivered < 0)  /* not possible for orders a week old; stay in range */
			delivered = end_ts(g);
		fmt_ts(t2, delivered);
		ROW(g, DEMO_DELIVERIES, vi(o.id), vt(posti ? "Posti" : "Matkahuolto"),
		    vt(track), vt(gift ? gift_name : p->name), vt(home ? p->street : p->dstreet),
		    vt(home ? p->postcode : p->dpostcode), vt(t2));
		if (!strcmp(o.status, "returned")) {
			int64_t opened = ts_after(g, delivered, 1, 14), closed;
			char t3[TS_LEN];

			if (opened < 0)
				opened = end_ts(g);
			closed = ts_after(g, opened, 2, 30);
			fmt_ts(t2, opened);
			if (closed >= 0)
				fmt_ts(t3, closed);
			ROW(g, DEMO_RETURNS, vi(o.id), vt(pick(g, demo_return_reasons, demo_nreturn_reasons)),
			    vt(t2), vt(closed >= 0 ? t3 : NULL));
		}
	}
	if (day < g->old_orders_end && g->old_open_complaints < 12 &&
	    (g->old_open_complaints < 3 || chance(g, 2))) {
		g->old_open_complaints++;
		gen_complaint(g, cid, o.id, ts, 1);
	}
	return o;
}

static void gen_chat(gen *g, int64_t cid, const person *p, int64_t ts, int64_t oid)
{
	char text[512], t1[TS_LEN], t2[TS_LEN];
	int64_t ended = ts + 120 + rnd(g, 40 * 60);

	if (ended > end_ts(g))
		ended = end_ts(g);
	demo_chat_text(text, sizeof(text), (int)rnd(g, 4), p ? p->name : NULL,
		       p ? p->first : NULL, p ? p->email : NULL, p ? p->phone : NULL, oid);
	fmt_ts(t1, ts);
	fmt_ts(t2, ended);
	ROW(g, DEMO_CHAT_TRANSCRIPTS, vid(cid), vt(t1), vt(t2), vt(text));
}

static void gen_page_event(gen *g, int64_t cid, const char *postcode, int64_t ts)
{
	char t[TS_LEN], ip[48];

	snprintf(ip, sizeof(ip), "%d.%d.%d.%d", 1 + (int)rnd(g, 223), (int)rnd(g, 256),
		 (int)rnd(g, 256), 1 + (int)rnd(g, 254));
	fmt_ts(t, ts);
	ROW(g, DEMO_PAGE_EVENTS, vid(cid), vt(t), vt(pick(g, demo_urls, demo_nurls)),
	    vt(ip), vt(pick(g, demo_user_agents, demo_nuser_agents)), vt(postcode));
}

static void gen_change(gen *g, int64_t cid, const person *p, int64_t ts)
{
	static const char *const fields[] = { "email", "phone", "street", "name" };
	const char *f = PICK(g, fields), *now;
	char old[96], t[TS_LEN], pc[8], city[32];

	if (!strcmp(f, "email")) {
		snprintf(old, sizeof(old), "%.60s@example.net", p->first);
		demo_ascii_lower(old, sizeof(old), old);
		now = p->email;
	} else if (!strcmp(f, "phone")) {
		make_phone(g, old);
		now = p->phone;
	} else if (!strcmp(f, "street")) {
		make_address(g, old, sizeof(old), pc, city);
		now = p->street;
	} else {
		snprintf(old, sizeof(old), "%s %s", p->first,
			 pick(g, demo_last_names, demo_nlast_names));
		now = p->name;
	}
	fmt_ts(t, ts);
	ROW(g, DEMO_CHANGE_HISTORY, vi(cid), vt(t), vt(f), vt(old), vt(now));
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static void gen_customer(gen *g, int64_t cid)
{
	person p;
	lethe_day created = g->first + (lethe_day)rnd(g, g->last - g->first + 1), active;
	int64_t t_created, t_active, ts[MAX_ORDERS];
	order_info orders[MAX_ORDERS];
	int norders, n;
	char tc[TS_LEN], tl[TS_LEN], tp[TS_LEN], num[24];

	make_person(g, &p, cid);
	/* Nearly half are still active; the others stopped at some point. */
	active = chance(g, 45) ? g->last - (lethe_day)rnd(g, 60)
			       : created + (lethe_day)rnd(g, g->last - created + 1);
	if (active < created)
		active = created;
	t_created = ts_between(g, day_start(created), day_start(created + 1) - 1);
	t_active = ts_between(g, t_created, day_start(active + 1) - 1);
	norders = (int)rnd(g, MAX_ORDERS);
	for (int i = 0; i < norders; i++)
		ts[i] = ts_between(g, t_created, t_active);
	qsort(ts, (size_t)norders, sizeof(ts[0]), cmp_i64);
	/* Some active customers are buying right now: open and paid orders. */
	if (norders && active >= g->last - 13 && chance(g, 25))
		ts[norders - 1] = ts_between(g, day_start(g->last - 13) > ts[norders - 1] ?
					     day_start(g->last - 13) : ts[norders - 1], t_active);

	snprintf(num, sizeof(num), "A%07lld", (long long)cid);
	fmt_ts(tc, t_created);
	fmt_ts(tl, t_active);
	if (norders)
		fmt_ts(tp, ts[norders - 1]);
	ROW(g, DEMO_CUSTOMERS, vt(num), vt(p.name), vt(p.email),
	    vt(chance(g, 90) ? p.phone : NULL), vt(tc), vt(chance(g, 95) ? tl : NULL),
	    vt(norders ? tp : NULL));
	ROW(g, DEMO_ADDRESSES, vi(cid), vt("billing"), vt(p.street), vt(p.postcode), vt(p.city));
	if (p.dstreet[0])
		ROW(g, DEMO_ADDRESSES, vi(cid), vt("delivery"), vt(p.dstreet), vt(p.dpostcode),
		    vt(p.dcity));
	gen_marketing(g, cid, t_created, t_active);
	for (int i = 0; i < norders; i++)
		orders[i] = gen_order(g, cid, &p, ts[i]);

	if (chance(g, 3)) {
		const order_info *o = norders ? &orders[rnd(g, norders)] : NULL;

		gen_complaint(g, cid, o ? o->id : 0, o ? o->ts : t_created, 0);
	}
	if (chance(g, 15)) {
		const order_info *o = norders ? &orders[rnd(g, norders)] : NULL;
		int64_t r = ts_after(g, o ? o->ts : t_created, 3, 20);
		char tr[TS_LEN];

		if (r >= 0) {
			fmt_ts(tr, r);
			ROW(g, DEMO_FEEDBACK, vi(cid), vid(o ? o->id : 0), vt(tr),
			    vi(1 + rnd(g, 5) / 2 + rnd(g, 3)),
			    vt(chance(g, 60) ? pick(g, demo_comments, demo_ncomments) : NULL));
		}
	}
	if (chance(g, 20))
		for (n = 1 + (int)rnd(g, 2); n > 0; n--)
			gen_chat(g, cid, &p, ts_between(g, t_created, t_active),
				 norders ? orders[rnd(g, norders)].id : 0);
	if (chance(g, 5))  /* a visitor who never logged in */
		gen_chat(g, 0, NULL, ts_between(g, t_created, end_ts(g)), 0);
	for (n = (int)rnd(g, 21); n > 0; n--)
		gen_page_event(g, cid, p.postcode, ts_between(g, t_created, t_active));
	for (n = (int)rnd(g, 5); n > 0; n--)
		gen_page_event(g, 0, chance(g, 50) ? NULL : p.postcode,
			       ts_between(g, t_created, end_ts(g)));
	for (n = (int)rnd(g, 4); n > 0; n--)
		gen_change(g, cid, &p, ts_between(g, t_created, t_active));
}

int demo_generate(demo_sink *sink, int64_t customers, uint64_t seed)
{
	gen g;
	int y, m, d;

	memset(&g, 0, sizeof(g));
	g.sink = sink;
	g.rng = seed;
	if (lethe_day_parse(&g.first, LETHE_DEMO_FIRST_DAY) ||
	    lethe_day_parse(&g.last, LETHE_DEMO_LAST_DAY))
		return lethe_error_set(LETHE_ESOFTWARE, "bad demo history bounds");
	/* Orders of fiscal year Y (ending 12-31) are due for deletion after
	 * (Y+10)-12-31; on the last day those of years < last year - 10 are. */
	lethe_day_to_ymd(g.last, &y, &m, &d);
	if (lethe_day_from_ymd(&g.old_orders_end, y - 10, 1, 1))
		return lethe_error_set(LETHE_ESOFTWARE, "bad demo history bounds");
	gen_products(&g);
	for (int64_t c = 1; c <= customers && !g.rc; c++)
		gen_customer(&g, c);
	return g.rc;
}
