/*
 * lethe/declarations.h - what the register declares about itself: the
 * `declarations:` header key of a policy folder (docs/policy-language.md,
 * "Declarations"). The rules say how long each table is kept and on what
 * statute; the declarations say the rest of what GDPR 13-15 and 30 require:
 * the controller and its contacts, the purposes with one legal basis each,
 * the categories of data (which tables hold them), recipients and transfers,
 * sources, data held outside the register, security, rights, and the
 * supervisory authority. `lethe notice`, the access summary and the erasure
 * answer are written from them.
 *
 * Invariants:
 *  - Every text a data subject or the public reads is a lethe_ltext with one
 *    translation per declared language; a declared language without its
 *    translation is a fault at load, never a fallback at print time.
 *  - Ids (purposes, categories) are [a-z0-9-]+ and unique in their list;
 *    every reference (a category's purpose and tables, a recipient's or an
 *    outside holding's purpose) names something declared; the table of every
 *    rule with a `subject` is in exactly one category. Faults carry
 *    FILE:LINE:COLUMN.
 *  - The policy owns the declarations (lethe_policy.declarations) and every
 *    string in them; marks point to the policy's own file names.
 */
#ifndef LETHE_DECLARATIONS_H
#define LETHE_DECLARATIONS_H

#include <stddef.h>
#include <stdio.h>
#include "diag.h"

/* The languages Lethe speaks (message catalogs in po/; English is the
 * catalogs' source language). */
typedef enum { LETHE_LANG_FI, LETHE_LANG_SV, LETHE_LANG_EN, LETHE_LANG_N } lethe_lang;

/* "fi", "sv", "en". */
const char *lethe_lang_code(lethe_lang l);
/* 0 with *out set, or -1 when code is not one of the above. */
int lethe_lang_parse(lethe_lang *out, const char *code);

/* A text in every declared language; text[l] NULL for an undeclared one. */
typedef struct {
	char *text[LETHE_LANG_N];
	lethe_mark mark;
} lethe_ltext;

/* The six lawful bases of GDPR art. 6(1)(a)-(f). */
typedef enum {
	LETHE_BASIS_CONSENT, LETHE_BASIS_CONTRACT, LETHE_BASIS_LEGAL_OBLIGATION,
	LETHE_BASIS_VITAL_INTERESTS, LETHE_BASIS_PUBLIC_TASK,
	LETHE_BASIS_LEGITIMATE_INTERESTS, LETHE_BASIS_N
} lethe_basis;

/* "consent", "contract", "legal-obligation", ... as the language spells them. */
const char *lethe_basis_name(lethe_basis b);
/* "GDPR art. 6(1)(a)" ... */
const char *lethe_basis_article(lethe_basis b);

typedef struct {
	char *id;
	lethe_ltext name;
	lethe_basis basis;      /* exactly one per purpose */
	char *law;              /* legal-obligation: the statute (required) */
	lethe_ltext interest;   /* legitimate-interests: the interest (required) */
	lethe_mark mark;
} lethe_purpose;

typedef struct {
	char *id;
	lethe_ltext name;
	size_t purpose;         /* index into purposes */
	lethe_ltext criteria;   /* optional: when the periods start, in words */
	char **tables;          /* the tables holding it (their rules give the periods) */
	size_t ntables;
	lethe_mark mark, purpose_mark;
} lethe_category;

typedef struct {
	char *name;             /* a company's name: not translated */
	lethe_ltext what;       /* what it receives and why */
	size_t purpose;
	lethe_ltext transfer;   /* optional: transfer outside the EU/EEA and its safeguard */
	lethe_mark mark, purpose_mark;
} lethe_recipient;

/* Data the notice names that this register does not hold. */
typedef struct {
	char *id;
	lethe_ltext name;
	lethe_ltext where;      /* who holds it and where */
	size_t purpose;
	lethe_ltext period;     /* its retention period or criteria */
	lethe_mark mark, purpose_mark;
} lethe_elsewhere;

typedef struct {
	char *name;             /* optional for a contact: a role's text may do */
	lethe_ltext role;       /* contact and data protection contact: who */
	char *email, *phone, *address, *web;
} lethe_party;

typedef struct lethe_declarations {
	unsigned languages;     /* bit (1u << lethe_lang) per declared language */
	lethe_ltext register_name;
	lethe_party controller;  /* name, business_id in `id`, address, email, web */
	char *business_id;
	lethe_party contact;     /* register inquiries */
	lethe_party dp_contact;  /* data protection contact (or officer) */
	lethe_party authority;   /* supervisory authority: name is an ltext role */
	lethe_ltext rights;      /* how to use the rights (own pages, customer service) */

	lethe_ltext *subjects; size_t nsubjects;   /* categories of data subjects */
	lethe_purpose *purposes; size_t npurposes;
	lethe_category *categories; size_t ncategories;
	lethe_recipient *recipients; size_t nrecipients;
	lethe_ltext *sources; size_t nsources;
	lethe_elsewhere *elsewhere; size_t nelsewhere;
	lethe_ltext *security; size_t nsecurity;
	lethe_ltext *cookies; size_t ncookies;

	lethe_mark mark;         /* the `declarations:` key */
} lethe_declarations;

/* The text in language l (never NULL for a declared language of a loaded
 * policy; NULL otherwise). */
const char *lethe_ltext_get(const lethe_ltext *t, lethe_lang l);

/* 1 when l is one of the declared languages. */
int lethe_declarations_speak(const lethe_declarations *d, lethe_lang l);

/* The category that holds table (any case), or NULL. */
const lethe_category *lethe_declarations_category_of(const lethe_declarations *d,
						     const char *table);

/* One line naming a party to f: name (NULL: its role in l), then its
 * e-mail, phone, address and web, comma-separated (the access summary's
 * contacts, the erasure answer's controller, contact and authority). */
void lethe_party_write(FILE *f, const lethe_party *c, const char *name, lethe_lang l);

/* A fault at m when language code is not one the declarations speak
 * (without declarations only en is spoken). 0 (fault or not) or
 * LETHE_ESOFTWARE when out of memory. */
int lethe_declarations_language_fault(const lethe_declarations *d, const char *code,
				      lethe_mark m, lethe_diags *diags);

#endif
