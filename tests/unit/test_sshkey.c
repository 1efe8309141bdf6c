/*
 * test_sshkey.c - OpenSSH Ed25519 key files against the real ssh-keygen (keys
 * it makes load in lethe, keys lethe writes load in ssh-keygen), the refusals
 * (encrypted, RSA, readable by others, symbolic link, damaged files) and
 * allowed-signers files.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include "lethe/error.h"
#include "lethe/sshkey.h"
#include "ssh_test_util.h"

/* --- keys made by ssh-keygen ------------------------------------------------- */

START_TEST(ssh_keygen_key_loads)
{
	char *dir = tmpdir(), *k = fmt("%s/K", dir), *pub, *line = NULL, *fp = NULL;
	char *cmd, *want_fp, *pubpath = fmt("%s/K.pub", dir);
	lethe_sshkey *key = NULL;
	size_t n;

	ck_assert_int_eq(run("ssh-keygen -q -t ed25519 -N '' -C test -f '%s'", k), 0);
	ck_assert_msg(lethe_sshkey_load(&key, k) == 0, "%s", lethe_error_last());
	ck_assert_str_eq(lethe_sshkey_comment(key), "test");
	ck_assert_int_eq(lethe_sshkey_public_line(&line, key), 0);
	pub = slurp(pubpath, &n); /* "ssh-ed25519 AAAA... test\n" */
	ck_assert_int_eq(strncmp(pub, line, strlen(line)), 0);
	ck_assert_int_eq(pub[strlen(line)], ' ');
	cmd = fmt("ssh-keygen -lf '%s.pub' | cut -d' ' -f2", k);
	want_fp = run_line(cmd);
	ck_assert_int_eq(lethe_sshkey_fingerprint(&fp, lethe_sshkey_public(key)), 0);
	ck_assert_str_eq(fp, want_fp);
	ck_assert_int_eq(strncmp(fp, "SHA256:", 7), 0);
	lethe_sshkey_free(key);
	free(line);
	free(fp);
	free(cmd);
	free(want_fp);
	free(pub);
	free(pubpath);
	free(k);
	rmtree(dir);
}
END_TEST

/* --- keys written by lethe --------------------------------------------------- */

START_TEST(lethe_key_accepted_by_ssh_keygen)
{
	char *dir = tmpdir(), *k = fmt("%s/lethe_key", dir), *line = NULL, *fp = NULL;
	char *cmd, *got, *pub;
	lethe_sshkey *key = NULL, *back = NULL;
	struct stat st;

	ck_assert_int_eq(lethe_sshkey_generate(&key, "lethe@example"), 0);
	ck_assert_msg(lethe_sshkey_write(key, k) == 0, "%s", lethe_error_last());
	ck_assert_int_eq(stat(k, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	pub = fmt("%s.pub", k);
	ck_assert_int_eq(stat(pub, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(lethe_sshkey_public_line(&line, key), 0);

	/* ssh-keygen -y derives the public key from lethe's private file */
	cmd = fmt("ssh-keygen -y -f '%s'", k);
	got = run_line(cmd);
	ck_assert_int_eq(strncmp(got, line, strlen(line)), 0);
	free(cmd);
	free(got);
	cmd = fmt("ssh-keygen -l -f '%s' | cut -d' ' -f2,3", pub);
	got = run_line(cmd);
	ck_assert_int_eq(lethe_sshkey_fingerprint(&fp, lethe_sshkey_public(key)), 0);
	ck_assert_int_eq(strncmp(got, fp, strlen(fp)), 0);
	ck_assert_str_eq(got + strlen(fp), " lethe@example");

	/* round trip through lethe */
	ck_assert_int_eq(lethe_sshkey_load(&back, k), 0);
	ck_assert_mem_eq(lethe_sshkey_public(back), lethe_sshkey_public(key), 32);
	ck_assert_str_eq(lethe_sshkey_comment(back), "lethe@example");

	/* never overwritten */
	ck_assert_int_eq(lethe_sshkey_write(key, k), LETHE_ECANTCREAT);
	lethe_sshkey_free(back);
	lethe_sshkey_free(key);
	free(cmd);
	free(got);
	free(line);
	free(fp);
	free(pub);
	free(k);
	rmtree(dir);
}
END_TEST

START_TEST(write_refuses_existing_pub_and_leaves_nothing)
{
	char *dir = tmpdir(), *k = fmt("%s/K", dir), *pub = fmt("%s/K.pub", dir);
	char *link = fmt("%s/L", dir);
	lethe_sshkey *key = NULL;
	struct stat st;

	ck_assert_int_eq(lethe_sshkey_generate(&key, ""), 0);
	spit(pub, "x", 1, 0644);
	ck_assert_int_eq(lethe_sshkey_write(key, k), LETHE_ECANTCREAT);
	ck_assert_int_eq(lstat(k, &st), -1); /* the private half was removed */
	ck_assert_int_eq(errno, ENOENT);
	/* a planted symbolic link is not followed */
	ck_assert_int_eq(symlink(k, link), 0);
	ck_assert_int_eq(lethe_sshkey_write(key, link), LETHE_ECANTCREAT);
	ck_assert_int_eq(lstat(k, &st), -1);
	lethe_sshkey_free(key);
	free(k);
	free(pub);
	free(link);
	rmtree(dir);
}
END_TEST

/* --- refusals ---------------------------------------------------------------- */

static void assert_load_fails(const char *path, int code, const char *needle)
{
	lethe_sshkey *key = NULL;
	int rc = lethe_sshkey_load(&key, path);

	ck_assert_msg(rc == code, "load '%s' gave %d (%s), want %d", path, rc,
		      lethe_error_last(), code);
	ck_assert_ptr_null(key);
	ck_assert_msg(strstr(lethe_error_last(), needle) != NULL, "'%s' lacks '%s'",
		      lethe_error_last(), needle);
}

START_TEST(encrypted_key_refused)
{
	char *dir = tmpdir(), *e = fmt("%s/E", dir);

	ck_assert_int_eq(run("ssh-keygen -q -t ed25519 -N secretpw -f '%s'", e), 0);
	assert_load_fails(e, LETHE_ENOINPUT, "protected by a passphrase");
	assert_load_fails(e, LETHE_ENOINPUT, "ssh-keygen -t ed25519 -N ''");
	free(e);
	rmtree(dir);
}
END_TEST

START_TEST(rsa_key_refused)
{
	char *dir = tmpdir(), *r = fmt("%s/R", dir);

	ck_assert_int_eq(run("ssh-keygen -q -t rsa -b 2048 -N '' -f '%s'", r), 0);
	assert_load_fails(r, LETHE_EDATA, "not an ed25519 key (type 'ssh-rsa')");
	free(r);
	rmtree(dir);
}
END_TEST

START_TEST(mode_missing_and_symlink_refused)
{
	char *dir = tmpdir(), *k = fmt("%s/K", dir), *l = fmt("%s/L", dir);
	char *want = fmt("private key '%s' is readable by others (mode 0644): chmod 600 '%s'", k, k);
	char *m = fmt("%s/missing", dir);

	ck_assert_int_eq(run("ssh-keygen -q -t ed25519 -N '' -f '%s'", k), 0);
	ck_assert_int_eq(chmod(k, 0644), 0);
	assert_load_fails(k, LETHE_ENOPERM, want);
	ck_assert_int_eq(chmod(k, 0640), 0);
	assert_load_fails(k, LETHE_ENOPERM, "(mode 0640)");
	ck_assert_int_eq(chmod(k, 0600), 0);
	ck_assert_int_eq(symlink(k, l), 0);
	assert_load_fails(l, LETHE_ENOPERM, "symbolic link");
	assert_load_fails(m, LETHE_ENOINPUT, "does not exist");
	free(k);
	free(l);
	free(want);
	free(m);
	rmtree(dir);
}
END_TEST

/* Parse an armoured variant of the decoded key blob. */
static int parse_blob(const unsigned char *bin, size_t len, lethe_sshkey **out)
{
	char *text = armour(bin, len, "OPENSSH PRIVATE KEY", 70);
	int rc = lethe_sshkey_parse(out, text, strlen(text), "K");

	free(text);
	return rc;
}

START_TEST(damaged_keys_refused_without_crashing)
{
	static const char garbage[] = "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n"
				      "-----END OPENSSH PRIVATE KEY-----\n";
	char *dir = tmpdir(), *k = fmt("%s/K", dir), *text;
	unsigned char *bin, *copy;
	size_t len, n, i, end;
	lethe_sshkey *key = NULL;

	ck_assert_int_eq(run("ssh-keygen -q -t ed25519 -N '' -C c -f '%s'", k), 0);
	text = slurp(k, &len);
	ck_assert_int_eq(lethe_sshkey_parse(&key, text, len, "K"), 0);
	lethe_sshkey_free(key);
	key = NULL;

	/* every truncation of the text that cuts into the END line fails;
	 * the parser gets an exact-size heap copy so ASan sees any overread */
	end = (size_t)(strstr(text, "-----END") - text) + strlen("-----END OPENSSH PRIVATE KEY-----");
	for (i = 0; i < end; i++) {
		char *t = malloc(i + 1);

		memcpy(t, text, i);
		ck_assert_int_eq(lethe_sshkey_parse(&key, t, i, "K"), LETHE_EDATA);
		free(t);
	}

	/* every truncation of the binary fails */
	bin = unarmour(text, &n);
	ck_assert_int_eq(parse_blob(bin, n, &key), 0);
	lethe_sshkey_free(key);
	key = NULL;
	for (i = 1; i < n; i++)
		ck_assert_msg(parse_blob(bin, i, &key) == LETHE_EDATA, "truncated at %zu accepted", i);

	/* every single-byte change: refused, or (comment, check ints both
	 * changed) a key with the same public key */
	copy = malloc(n);
	for (i = 0; i < n; i++) {
		memcpy(copy, bin, n);
		copy[i] ^= 0x41;
		if (parse_blob(copy, n, &key) == 0) {
			ck_assert_mem_eq(lethe_sshkey_public(key), bin + 62, 32);
			lethe_sshkey_free(key);
			key = NULL;
		}
	}
	/* the check ints (offset 98 and 102 in a one-key unencrypted file) differ */
	memcpy(copy, bin, n);
	copy[102] ^= 1;
	ck_assert_int_eq(parse_blob(copy, n, &key), LETHE_EDATA);
	ck_assert_ptr_nonnull(strstr(lethe_error_last(), "check values differ"));

	/* garbage */
	ck_assert_int_eq(lethe_sshkey_parse(&key, "", 0, "K"), LETHE_EDATA);
	ck_assert_int_eq(lethe_sshkey_parse(&key, garbage, strlen(garbage), "K"), LETHE_EDATA);
	ck_assert_ptr_null(key);
	free(copy);
	free(bin);
	free(text);
	free(k);
	rmtree(dir);
}
END_TEST

/* --- allowed signers --------------------------------------------------------- */

static lethe_sshkey *KA, *KB, *KC;

static void keys_setup(void)
{
	ck_assert_int_eq(lethe_sshkey_generate(&KA, "a"), 0);
	ck_assert_int_eq(lethe_sshkey_generate(&KB, "b"), 0);
	ck_assert_int_eq(lethe_sshkey_generate(&KC, "c"), 0);
}

static void keys_teardown(void)
{
	lethe_sshkey_free(KA);
	lethe_sshkey_free(KB);
	lethe_sshkey_free(KC);
}

static char *publine(const lethe_sshkey *k)
{
	char *s = NULL;

	ck_assert_int_eq(lethe_sshkey_public_line(&s, k), 0);
	return s;
}

static lethe_allowed_signers *signers(void)
{
	char *a = publine(KA), *b = publine(KB), *dir = tmpdir(), *path = fmt("%s/allowed", dir);
	char *text = fmt("# allowed signers of the evidence repository\n"
			 "\n"
			 "alice@example.com %s alice laptop\n"
			 "   *@example.org namespaces=\"file,backup\" %s\n"
			 "bob@example.com valid-before=\"20200101Z\" %s\n"
			 "carol@example.com valid-after=\"20990101\" %s\r\n"
			 "dave@example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ==\n"
			 "ca@example.com cert-authority %s\n"
			 "*@example.net,!eve@example.net %s",
			 a, b, b, a, b, a);
	lethe_allowed_signers *s = NULL;

	spit(path, text, strlen(text), 0644);
	ck_assert_msg(lethe_allowed_signers_load(&s, path) == 0, "%s", lethe_error_last());
	free(a);
	free(b);
	free(text);
	free(path);
	rmtree(dir);
	return s;
}

static void assert_refused(const lethe_allowed_signers *s, const char *who,
			   const lethe_sshkey *k, const char *ns, int64_t when,
			   const char *needle)
{
	int rc = lethe_allowed_signers_find(s, who, lethe_sshkey_public(k), ns, when);

	ck_assert_msg(rc == LETHE_EVERIFY, "%s allowed", who);
	ck_assert_msg(strstr(lethe_error_last(), needle) != NULL, "'%s' lacks '%s'",
		      lethe_error_last(), needle);
}

#define NOW ((int64_t)1767225600) /* 2026-01-01 */

START_TEST(allowed_signers_rules)
{
	lethe_allowed_signers *s = signers();
	const unsigned char *a = lethe_sshkey_public(KA), *b = lethe_sshkey_public(KB);
	char *fp = NULL, *want, *who = NULL;

	/* exact principal */
	ck_assert_int_eq(lethe_allowed_signers_find(s, "alice@example.com", a, "git", NOW), 0);
	assert_refused(s, "mallory@example.com", KA, "git", NOW,
		       "is not allowed for principal 'mallory@example.com'");
	assert_refused(s, "alice@example.com", KB, "git", NOW, "is not allowed for principal");
	/* wildcard, with a namespaces option that excludes git */
	ck_assert_int_eq(lethe_allowed_signers_find(s, "x@example.org", b, "file", NOW), 0);
	ck_assert_int_eq(lethe_allowed_signers_find(s, "x@example.org", b, "backup", NOW), 0);
	assert_refused(s, "x@example.org", KB, "git", NOW, "is not allowed to sign namespace 'git'");
	assert_refused(s, "x@example.com", KB, "file", NOW, "is not allowed for principal");
	/* validity */
	assert_refused(s, "bob@example.com", KB, "git", NOW, "signature time is after valid-before");
	ck_assert_int_eq(lethe_allowed_signers_find(s, "bob@example.com", b, "git", 1500000000), 0);
	assert_refused(s, "carol@example.com", KA, "git", NOW, "signature time is before valid-after");
	/* negated pattern */
	ck_assert_int_eq(lethe_allowed_signers_find(s, "zoe@example.net", a, "git", NOW), 0);
	assert_refused(s, "eve@example.net", KA, "git", NOW, "not allowed for principal");
	/* cert-authority and rsa lines give nothing */
	assert_refused(s, "ca@example.com", KB, "git", NOW, "not allowed for principal");
	/* unknown key */
	ck_assert_int_eq(lethe_sshkey_fingerprint(&fp, lethe_sshkey_public(KC)), 0);
	want = fmt("key %s is not an allowed signer", fp);
	assert_refused(s, "alice@example.com", KC, "git", NOW, want);
	/* principals for a key, as find-principals */
	ck_assert_int_eq(lethe_allowed_signers_principals_for_key(&who, s, a, "git", NOW), 0);
	ck_assert_str_eq(who, "alice@example.com,*@example.net,!eve@example.net");
	free(who);
	ck_assert_int_eq(lethe_allowed_signers_principals_for_key(&who, s, b, "git", NOW),
			 LETHE_ENOTFOUND);
	ck_assert_int_eq(lethe_allowed_signers_principals_for_key(&who, s, b, "file", NOW), 0);
	ck_assert_str_eq(who, "*@example.org");
	free(who);
	lethe_allowed_signers_free(s);
	free(fp);
	free(want);
}
END_TEST

static void assert_bad_file(const char *text, const char *needle)
{
	lethe_allowed_signers *s = NULL;
	int rc = lethe_allowed_signers_parse(&s, text, strlen(text), "allowed");

	ck_assert_msg(rc == LETHE_EDATA, "accepted: %s", text);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(lethe_error_last(), needle) != NULL, "'%s' lacks '%s'",
		      lethe_error_last(), needle);
}

START_TEST(allowed_signers_malformed)
{
	char *a = publine(KA), *t;
	lethe_allowed_signers *s = NULL;

	assert_bad_file("alice ssh-ed25519 notbase64!\n", "allowed:1: bad ssh-ed25519 key");
	t = fmt("# c\nalice frobnicate=\"1\" %s\n", a);
	assert_bad_file(t, "allowed:2: unsupported option");
	free(t);
	t = fmt("alice valid-after=\"2020130\" %s\n", a);
	assert_bad_file(t, "bad valid-after time");
	free(t);
	t = fmt("alice valid-before=\"20230230\" %s\n", a);
	assert_bad_file(t, "bad valid-before time");
	free(t);
	assert_bad_file("alice\n", "missing principals or key");
	assert_bad_file("alice namespaces=\"git\"\n", "missing key");
	/* a key blob of another type under the ssh-ed25519 name */
	assert_bad_file("alice ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAABAQ==\n", "bad ssh-ed25519 key");
	ck_assert_int_eq(lethe_allowed_signers_load(&s, "/nonexistent/allowed"), LETHE_ENOINPUT);
	/* empty file: valid, allows nobody */
	ck_assert_int_eq(lethe_allowed_signers_parse(&s, "", 0, "allowed"), 0);
	ck_assert_int_eq(lethe_allowed_signers_find(s, "alice", lethe_sshkey_public(KA), "git", NOW),
			 LETHE_EVERIFY);
	lethe_allowed_signers_free(s);
	lethe_allowed_signers_free(NULL);
	lethe_sshkey_free(NULL);
	free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sshkey");
	TCase *files = tcase_create("files"), *as = tcase_create("allowed_signers");
	SRunner *r;
	int failed;

	tcase_set_timeout(files, 60);
	tcase_add_test(files, ssh_keygen_key_loads);
	tcase_add_test(files, lethe_key_accepted_by_ssh_keygen);
	tcase_add_test(files, write_refuses_existing_pub_and_leaves_nothing);
	tcase_add_test(files, encrypted_key_refused);
	tcase_add_test(files, rsa_key_refused);
	tcase_add_test(files, mode_missing_and_symlink_refused);
	tcase_add_test(files, damaged_keys_refused_without_crashing);
	suite_add_tcase(s, files);
	tcase_add_checked_fixture(as, keys_setup, keys_teardown);
	tcase_add_test(as, allowed_signers_rules);
	tcase_add_test(as, allowed_signers_malformed);
	suite_add_tcase(s, as);
	r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
