/*
 * expr_lex.c - a user expression stays one expression.
 *
 * Lethe builds its statements by pasting user expressions between its own
 * parentheses: "SELECT ... WHERE (\n" expr "\n) AND key > :lethe_after ...".
 * An expression such as `customer_id) OR (1` closes Lethe's parenthesis and
 * turns the rest of the statement into its own: every subject matches, the
 * paging condition is lost. Preparing the expression alone cannot tell, as
 * `x) OR (1` is valid inside any pair of parentheses.
 *
 * Why the test below is sound. SQLite splits a statement into tokens before
 * it parses (tokenize.c, sqlite3GetToken), and parentheses can only pair up
 * as tokens. This file walks the expression with the same lexical rules for
 * everything that can hide a '(' , ')' or ';' from the parser or hide our
 * own text from it:
 *   - '...' strings, "..." and `...` identifiers: the delimiter doubled is an
 *     escaped delimiter, anything else up to the next delimiter is inside;
 *     x'..' blobs end at the first quote too, so they cover the same bytes
 *     (a blob followed by a string is the same bytes as one string with a
 *     doubled quote);
 *   - [...] identifiers: up to the first ']', no escape;
 *   - `--` comments: up to the next newline (Lethe always follows the
 *     expression with "\n", so such a comment ends inside the expression);
 *   - block comments: up to the first star-slash after the opening pair;
 *   - '$', '@', ':', '#', '?' start parameters, whose Tcl form `$a(...)`
 *     may contain parentheses and quotes: refused outright (parameters are
 *     refused anyway: they would run as NULL). Expressions Lethe composed
 *     itself may hold its own ":lethe_name", accepted only where SQLite's
 *     token is exactly that (no "::", no "(" after it).
 * Outside those, every '(' and ')' byte is a parenthesis token (no other
 * SQLite token contains them) and every ';' ends a statement. The text is
 * refused when a quote, identifier or block comment is left open at its end
 * (it would swallow Lethe's closing text), when a ')' has no '(' before it in
 * the expression, when a '(' is left open, and on any ';'. What remains is a
 * token sequence whose parentheses pair up among themselves, so Lethe's "("
 * pairs with Lethe's ")" and the parser must reduce everything between them
 * as the one parenthesised term it stands in; SQLite itself then says
 * whether that term is a valid expression (check_expr prepares it).
 */
#include <ctype.h>
#include <string.h>
#include "expr_lex.h"

/* The end of a quoted run starting at p (p[0] is the delimiter), just past
 * the closing delimiter, or NULL when it is not closed. */
static const char *skip_quoted(const char *p)
{
	char delim = *p++;

	for (; *p; p++) {
		if (*p != delim)
			continue;
		if (p[1] != delim)
			return p + 1;
		p++; /* a doubled delimiter stands for itself */
	}
	return NULL;
}

/* The length of Lethe's own parameter ":lethe_name" at p, or 0. SQLite's
 * tokenizer takes identifier characters after the ':', then a "::" or a Tcl
 * "(...)" suffix: with neither following, the token is exactly this. */
static size_t own_parameter(const char *p)
{
	size_t n = 7;

	if (strncmp(p, ":lethe_", 7) != 0)
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	if (p[n] == '(' || p[n] == ':' || p[n] == '$' || (unsigned char)p[n] >= 0x80)
		return 0;
	return n;
}

static const char *escape(const char *expr, int composed)
{
	const char *p = expr, *q, *paren = NULL;
	long depth = 0;

	while (*p) {
		switch (*p) {
		case '-':
			if (p[1] == '-') {
				q = strchr(p, '\n');
				p = q ? q + 1 : p + strlen(p);
				continue;
			}
			break;
		case '/':
			if (p[1] == '*') {
				if (!(q = strstr(p + 2, "*/")))
					return "unterminated comment";
				p = q + 2;
				continue;
			}
			break;
		case '\'':
		case '"':
		case '`':
			if (!(p = skip_quoted(p)))
				return "unterminated quoted string or name";
			continue;
		case '[':
			if (!(q = strchr(p, ']')))
				return "unterminated [name]";
			p = q + 1;
			continue;
		case '(':
			depth++;
			break;
		case ')':
			/* go on: a ';' later says more about what was meant */
			if (--depth < 0 && !paren)
				paren = "')' closes a parenthesis the expression did not open";
			break;
		case ';':
			return "more than one statement";
		case ':':
			if (composed && (q = p + own_parameter(p)) != p) {
				p = q;
				continue;
			}
			return "parameters (?, :name) are not allowed";
		case '?':
		case '$':
		case '@':
		case '#':
			return "parameters (?, :name) are not allowed";
		default:
			break;
		}
		p++;
	}
	if (paren)
		return paren;
	if (depth > 0)
		return "'(' is never closed";
	return NULL;
}

const char *lethe_expr_escape(const char *expr)
{
	return escape(expr, 0);
}

const char *lethe_expr_escape_composed(const char *expr)
{
	return escape(expr, 1);
}
