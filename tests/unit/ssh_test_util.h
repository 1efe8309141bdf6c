/*
 * ssh_test_util.h - helpers shared by test_sshkey.c and test_sshsig.c: temp
 * folders, files, running OpenSSH's ssh-keygen, and base64 re-armouring so a
 * test can damage the binary inside an armour.
 *
 * Everything is static inline so each test program takes only what it uses.
 */
#ifndef LETHE_SSH_TEST_UTIL_H
#define LETHE_SSH_TEST_UTIL_H

#include <check.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* printf into a malloc'd string. */
static inline char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, f);
	ck_assert_int_ge(vasprintf(&s, f, ap), 0);
	va_end(ap);
	return s;
}

static inline char *tmpdir(void)
{
	char tmpl[] = "/tmp/lethe-ssh-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	return strdup(tmpl);
}

static inline void rmtree(char *dir)
{
	char *cmd = fmt("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(dir);
}

/* Run a shell command, return its exit status (-1 when killed). */
static inline int run(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline int run(const char *f, ...)
{
	va_list ap;
	char *cmd = NULL;
	int st;

	va_start(ap, f);
	ck_assert_int_ge(vasprintf(&cmd, f, ap), 0);
	va_end(ap);
	st = system(cmd);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* First line of a command's stdout, newline removed; malloc'd. */
static inline char *run_line(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char buf[4096] = "";

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), p));
	ck_assert_int_eq(pclose(p), 0);
	buf[strcspn(buf, "\n")] = '\0';
	return strdup(buf);
}

/* The whole file, NUL-terminated, malloc'd. */
static inline char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = malloc(1 << 20);
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(s, 1, (1 << 20) - 1, f);
	fclose(f);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

static inline void spit(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

/* Decode the base64 between the first "-----\n" and the next "-----". */
static inline unsigned char *unarmour(const char *text, size_t *len)
{
	const char *b = strstr(text, "-----\n") + 6, *e = strstr(b, "-----");
	size_t cap = (size_t)(e - b);
	unsigned char *bin = malloc(cap);

	ck_assert_int_eq(sodium_base642bin(bin, cap, b, (size_t)(e - b), "\r\n", len,
					   NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	return bin;
}

/* Armour bin under label, base64 lines of width wrap (0 = one line). */
static inline char *armour(const unsigned char *bin, size_t len, const char *label,
			   size_t wrap)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL), n, i;
	char *b64 = malloc(cap), *out = malloc(2 * cap + 200);
	size_t o;

	sodium_bin2base64(b64, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
	n = strlen(b64);
	o = (size_t)sprintf(out, "-----BEGIN %s-----\n", label);
	for (i = 0; i < n; i++) {
		out[o++] = b64[i];
		if (wrap && (i + 1) % wrap == 0 && i + 1 < n)
			out[o++] = '\n';
	}
	sprintf(out + o, "\n-----END %s-----\n", label);
	free(b64);
	return out;
}

#endif
