/*
 * test_sshsig.c - SSH signatures against the real ssh-keygen -Y: lethe's
 * signatures verify there, ssh-keygen's verify in lethe, and any change of
 * message, signature or namespace fails; damaged blobs are refused without
 * crashing (run under ASan too).
 */
#include <check.h>
#include "lethe/error.h"
#include "lethe/sshkey.h"
#include "lethe/sshsig.h"
#include "ssh_test_util.h"

static const char MSG[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nevidence\n";

/* A folder with F (the message) and, when keygen, K made by ssh-keygen. */
static char *setup_dir(int keygen)
{
	char *dir = tmpdir(), *f = fmt("%s/F", dir);

	spit(f, MSG, strlen(MSG), 0644);
	if (keygen)
		ck_assert_int_eq(run("ssh-keygen -q -t ed25519 -N '' -C test -f '%s/K'", dir), 0);
	free(f);
	return dir;
}

static lethe_sshkey *load(const char *dir, const char *name)
{
	char *p = fmt("%s/%s", dir, name);
	lethe_sshkey *k = NULL;

	ck_assert_msg(lethe_sshkey_load(&k, p) == 0, "%s", lethe_error_last());
	free(p);
	return k;
}

static void assert_verify_fails(const char *armour, size_t alen, const char *ns,
				const void *msg, size_t len, const char *needle)
{
	unsigned char pk[32] = { 7 };
	int rc = lethe_sshsig_verify(pk, armour, alen, ns, msg, len);

	ck_assert_msg(rc == LETHE_EVERIFY, "verified (rc %d)", rc);
	ck_assert_int_eq(pk[0], 7); /* untouched */
	ck_assert_msg(strstr(lethe_error_last(), needle) != NULL, "'%s' lacks '%s'",
		      lethe_error_last(), needle);
}

START_TEST(lethe_signature_verifies_in_ssh_keygen)
{
	char *dir = setup_dir(0), *k = fmt("%s/K", dir), *sig = NULL, *line = NULL;
	char *allowed = fmt("%s/allowed", dir), *text, *sigpath = fmt("%s/F.sig", dir);
	lethe_sshkey *key = NULL;
	unsigned char *bin;
	size_t n;

	ck_assert_int_eq(lethe_sshkey_generate(&key, "lethe"), 0);
	ck_assert_int_eq(lethe_sshsig_sign(&sig, key, "file", MSG, strlen(MSG)), 0);
	spit(sigpath, sig, strlen(sig), 0644);
	ck_assert_int_eq(lethe_sshkey_public_line(&line, key), 0);
	text = fmt("test@example %s\n", line);
	spit(allowed, text, strlen(text), 0644);
	ck_assert_int_eq(run("ssh-keygen -Y verify -f '%s' -I test@example -n file -s '%s' "
			     "< '%s/F' >/dev/null 2>&1", allowed, sigpath, dir), 0);
	ck_assert_int_eq(run("ssh-keygen -Y verify -f '%s' -I test@example -n git -s '%s' "
			     "< '%s/F' >/dev/null 2>&1", allowed, sigpath, dir), 255);
	/* one byte changed in the file */
	ck_assert_int_eq(run("sed -i 's/evidence/evidencf/' '%s/F'", dir), 0);
	ck_assert_int_eq(run("ssh-keygen -Y verify -f '%s' -I test@example -n file -s '%s' "
			     "< '%s/F' >/dev/null 2>&1", allowed, sigpath, dir), 255);

	/* the armour is ssh-keygen's: 70 columns, git's blob is 173 bytes */
	ck_assert_int_eq(strncmp(sig, "-----BEGIN SSH SIGNATURE-----\n", 30), 0);
	ck_assert_int_eq(strcspn(sig + 30, "\n"), 70);
	ck_assert_str_eq(sig + strlen(sig) - 29, "\n-----END SSH SIGNATURE-----\n");
	free(sig);
	ck_assert_int_eq(lethe_sshsig_sign(&sig, key, "git", MSG, strlen(MSG)), 0);
	bin = unarmour(sig, &n);
	ck_assert_uint_eq(n, 173);
	free(bin);
	ck_assert_int_eq(lethe_sshsig_sign(&sig, key, "", MSG, 1), LETHE_EUSAGE);

	lethe_sshkey_free(key);
	free(sig);
	free(line);
	free(text);
	free(allowed);
	free(sigpath);
	free(k);
	rmtree(dir);
}
END_TEST

START_TEST(ssh_keygen_signature_verifies_in_lethe)
{
	char *dir = setup_dir(1), *sigpath = fmt("%s/F.sig", dir), *sig, *bad;
	lethe_sshkey *key = load(dir, "K"), *other = NULL;
	unsigned char pk[32], *bin;
	char msg[sizeof(MSG)];
	size_t n, alen;

	ck_assert_int_eq(run("ssh-keygen -q -Y sign -f '%s/K' -n file '%s/F' 2>/dev/null", dir, dir), 0);
	sig = slurp(sigpath, &alen);
	ck_assert_msg(lethe_sshsig_verify(pk, sig, alen, "file", MSG, strlen(MSG)) == 0, "%s",
		      lethe_error_last());
	ck_assert_mem_eq(pk, lethe_sshkey_public(key), 32);

	/* one byte of the message */
	memcpy(msg, MSG, sizeof(MSG));
	msg[3] ^= 1;
	assert_verify_fails(sig, alen, "file", msg, strlen(msg), "bad signature");
	/* wrong namespace */
	assert_verify_fails(sig, alen, "git", MSG, strlen(MSG), "namespace 'file' is not 'git'");
	/* one byte of the signature itself (the blob's last byte) */
	bin = unarmour(sig, &n);
	bin[n - 1] ^= 1;
	bad = armour(bin, n, "SSH SIGNATURE", 70);
	assert_verify_fails(bad, strlen(bad), "file", MSG, strlen(MSG), "bad signature");
	free(bad);
	bin[n - 1] ^= 1;
	/* any base64 width is fine: one long line, 64 columns, CRLF */
	bad = armour(bin, n, "SSH SIGNATURE", 0);
	ck_assert_int_eq(lethe_sshsig_verify(pk, bad, strlen(bad), "file", MSG, strlen(MSG)), 0);
	free(bad);
	bad = armour(bin, n, "SSH SIGNATURE", 64);
	ck_assert_int_eq(lethe_sshsig_verify(pk, bad, strlen(bad), "file", MSG, strlen(MSG)), 0);
	free(bad);
	free(sig);

	/* another key's signature verifies and names that key */
	ck_assert_int_eq(run("ssh-keygen -q -t ed25519 -N '' -f '%s/O' && rm '%s/F.sig' && "
			     "ssh-keygen -q -Y sign -f '%s/O' -n file '%s/F' 2>/dev/null",
			     dir, dir, dir, dir), 0);
	other = load(dir, "O");
	sig = slurp(sigpath, &alen);
	ck_assert_int_eq(lethe_sshsig_verify(pk, sig, alen, "file", MSG, strlen(MSG)), 0);
	ck_assert_mem_eq(pk, lethe_sshkey_public(other), 32);
	ck_assert_int_ne(memcmp(pk, lethe_sshkey_public(key), 32), 0);
	free(sig);

	/* sha256 signatures are accepted too */
	ck_assert_int_eq(run("rm '%s/F.sig' && ssh-keygen -q -Y sign -f '%s/K' -n file "
			     "-O hashalg=sha256 '%s/F' 2>/dev/null", dir, dir, dir), 0);
	sig = slurp(sigpath, &alen);
	ck_assert_int_eq(lethe_sshsig_verify(pk, sig, alen, "file", MSG, strlen(MSG)), 0);
	ck_assert_mem_eq(pk, lethe_sshkey_public(key), 32);
	assert_verify_fails(sig, alen, "file", msg, strlen(msg), "bad signature");

	lethe_sshkey_free(key);
	lethe_sshkey_free(other);
	free(bin);
	free(sig);
	free(sigpath);
	rmtree(dir);
}
END_TEST

START_TEST(damaged_signatures_refused_without_crashing)
{
	lethe_sshkey *key = NULL;
	lethe_sshsig_blob b;
	unsigned char pk[32], *bin, *copy;
	char *sig = NULL, *bad;
	size_t n, i, alen;

	ck_assert_int_eq(lethe_sshkey_generate(&key, ""), 0);
	ck_assert_int_eq(lethe_sshsig_sign(&sig, key, "git", MSG, strlen(MSG)), 0);
	alen = strlen(sig);
	ck_assert_int_eq(lethe_sshsig_verify(pk, sig, alen, "git", MSG, strlen(MSG)), 0);
	bin = unarmour(sig, &n);
	ck_assert_int_eq(lethe_sshsig_parse(&b, bin, n), 0);
	ck_assert_str_eq(b.hash, "sha512");
	ck_assert_uint_eq(b.ns_len, 3);

	/* every truncation of the blob (exact-size heap copies for ASan) */
	for (i = 0; i < n; i++) {
		copy = malloc(i + 1);
		memcpy(copy, bin, i);
		ck_assert_int_eq(lethe_sshsig_parse(&b, copy, i), LETHE_EVERIFY);
		free(copy);
	}
	/* every single-byte change fails verification */
	copy = malloc(n);
	for (i = 0; i < n; i++) {
		memcpy(copy, bin, n);
		copy[i] ^= 0x20;
		bad = armour(copy, n, "SSH SIGNATURE", 70);
		ck_assert_msg(lethe_sshsig_verify(pk, bad, strlen(bad), "git", MSG, strlen(MSG)) ==
			      LETHE_EVERIFY, "byte %zu changed and still verified", i);
		free(bad);
	}
	/* every truncation of the armour text that cuts into the END line */
	for (i = 0; i + 1 < alen; i++) {
		char *t = malloc(i + 1);

		memcpy(t, sig, i);
		ck_assert_int_eq(lethe_sshsig_verify(pk, t, i, "git", MSG, strlen(MSG)), LETHE_EVERIFY);
		free(t);
	}
	/* specific reasons */
	memcpy(copy, bin, n);
	copy[9] = 2; /* version */
	bad = armour(copy, n, "SSH SIGNATURE", 70);
	assert_verify_fails(bad, strlen(bad), "git", MSG, strlen(MSG), "version is not 1");
	free(bad);
	assert_verify_fails("garbage", 7, "git", MSG, strlen(MSG), "malformed ssh signature");
	bad = fmt("%s trailing", sig);
	assert_verify_fails(bad, strlen(bad), "git", MSG, strlen(MSG), "text after the end line");
	free(bad);

	lethe_sshkey_free(key);
	free(copy);
	free(bin);
	free(sig);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sshsig");
	TCase *tc = tcase_create("sshsig");
	SRunner *r;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, lethe_signature_verifies_in_ssh_keygen);
	tcase_add_test(tc, ssh_keygen_signature_verifies_in_lethe);
	tcase_add_test(tc, damaged_signatures_refused_without_crashing);
	suite_add_tcase(s, tc);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
