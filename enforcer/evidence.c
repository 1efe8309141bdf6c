/*
 * evidence.c - the evidence store's repository and its writes: create, open,
 * signed commits on main, push.
 *
 * Invariants:
 *  - Every commit is built as git does with gpg.format=ssh: the unsigned text
 *    from git_commit_create_buffer, an SSHSIG in namespace "git" over exactly
 *    that text, stored as the gpgsig header. The armour's final newline is
 *    stripped first: libgit2 indents each "\n" of the header value, so a
 *    trailing one would leave a stray " " line that git never writes.
 *  - main only ever moves by compare-and-swap against the parent this commit
 *    was built on (for the first commit: main must not exist).
 *  - fsync of the git directory is on for every handle (libgit2's default is
 *    off): evidence must survive a crash right after a run.
 *  - Every git_libgit2_init (lethe_evidence_git_init) is paired with one
 *    git_libgit2_shutdown.
 *  - libgit2's repository owner check is off (git_start): reading is safe
 *    whoever owns the repository (libgit2 runs no hooks or configured
 *    programs, and every record is verified by its signature), so root's
 *    status and verify work on the service's repository. Writing is guarded
 *    by our own check instead (lethe_evidence_check_owner): a write by
 *    another user would leave objects the owner cannot change.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "evidence_impl.h"
#include "testhook.h"
#include "lethe/error.h"
#include "lethe/sshsig.h"

int lethe_evidence_git_fail(int code, const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return lethe_error_set(code, "%s: %s", what,
			       e && e->message ? e->message : "unknown git error");
}

/* libssh2's flag for libssh2_init: leave the crypto library's set-up to it. */
#define SSH2_INIT_NO_CRYPTO 0x0001

/* git_libgit2_init starts libssh2 (libgit2's ssh transport), which loads
 * OpenSSL's built-in engines: 1.5 MiB of resident memory in every run,
 * a twentieth of its budget, for an ssh remote it rarely has and OpenSSL 3
 * does not need (it sets itself up on first use). Where libgit2 came with
 * libssh2, libssh2 is started first without that; libgit2's own start then
 * only counts. Found by name in what is already loaded, so Lethe neither
 * links libssh2 nor needs it. */
static void start_ssh_without_engines(void)
{
	int (*ssh2_init)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "libssh2_init");

	if (ssh2_init)
		(void)ssh2_init(SSH2_INIT_NO_CRYPTO);
}

int lethe_evidence_git_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, start_ssh_without_engines);
	return git_libgit2_init();
}

static int git_start(void)
{
	if (lethe_evidence_git_init() < 0)
		return lethe_evidence_git_fail(LETHE_ESOFTWARE, "cannot initialise libgit2");
	if (git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1) < 0) {
		git_libgit2_shutdown();
		return lethe_evidence_git_fail(LETHE_ESOFTWARE, "cannot turn on fsync");
	}
	/* libgit2 caches trees only up to 4 KiB by default. A records/SSSSS/
	 * folder grows to 1,000 records (some 50 KiB) and readers that look
	 * records up by path (find, access, proofs) read it again for each:
	 * keep large trees. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, (int)GIT_OBJECT_TREE, (size_t)(4 << 20));
	/* ... but hold at most 16 MiB of objects (libgit2's default is 256 MiB,
	 * shared by every handle): verify reads every tree of the history once
	 * and keeps what the next commit needs itself (evidence_diff.c), so a
	 * large cache only grew its memory to some 400 MB, and the page faults
	 * of that growth cost more CPU than the cache saved. */
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)(16 << 20));
	/* the owner check, documented in git2/common.h: see the invariants */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	return 0;
}

/* The name of uid, or its number; out has 64 bytes. */
static void user_name(char out[64], uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	if (pw && pw->pw_name)
		snprintf(out, 64, "%s", pw->pw_name);
	else
		snprintf(out, 64, "%lu", (unsigned long)uid);
}

int lethe_evidence_check_owner(const char *dir)
{
	char owner[64], me[64];
	struct stat st;

	if (stat(dir, &st) != 0) {
		int e = errno;

		return lethe_error_set(e == ENOENT ? LETHE_ENOINPUT : LETHE_EIO,
				       "cannot open evidence repository '%s': %s", dir, strerror(e));
	}
	if (st.st_uid == geteuid())
		return 0;
	user_name(owner, st.st_uid);
	user_name(me, geteuid());
	return lethe_error_set(LETHE_ENOPERM, "evidence repository '%s' belongs to user '%s', not "
			       "to '%s': a write by '%s' would leave files '%s' cannot change; run "
			       "this command as '%s' (as root: systemd-run --pipe --wait -p User=%s "
			       "-p LoadCredential=... lethe ..., see lethe(1), OWNERSHIP); nothing "
			       "was changed", dir, owner, me, me, owner, owner, owner);
}

int lethe_evidence_create(const char *dir)
{
	git_repository_init_options o;
	git_repository *repo = NULL;
	int rc;

	if ((rc = git_start()) != 0)
		return rc;
	git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	o.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH |
		  GIT_REPOSITORY_INIT_NO_REINIT;
	o.initial_head = "main";
	rc = git_repository_init_ext(&repo, dir, &o);
	if (rc == GIT_EEXISTS)
		rc = lethe_error_set(LETHE_ECANTCREAT,
				     "cannot create evidence repository '%s': it already exists", dir);
	else if (rc < 0)
		rc = lethe_evidence_git_fail(LETHE_ECANTCREAT,
					     "cannot create evidence repository '%s'", dir);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

int lethe_evidence_open(lethe_evidence **out, const char *dir)
{
	lethe_evidence *ev = NULL;
	git_repository *repo = NULL;
	struct stat st;
	int rc, started = 0;

	if (stat(dir, &st) != 0) {
		int e = errno;

		return lethe_error_set(e == ENOENT ? LETHE_ENOINPUT : LETHE_EIO,
				       "cannot open evidence repository '%s': %s", dir, strerror(e));
	}
	if ((rc = git_start()) != 0)
		return rc;
	started = 1;
	rc = git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == GIT_ENOTFOUND) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "'%s' is not a git repository", dir);
		goto out;
	}
	if (rc < 0) {
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot open evidence repository '%s'", dir);
		goto out;
	}
	ev = calloc(1, sizeof(*ev));
	if (!ev || !(ev->dir = strdup(dir))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	ev->repo = repo;
	repo = NULL;
	*out = ev;
	ev = NULL;
	started = 0;
out:
	if (ev)
		free(ev->dir);
	free(ev);
	git_repository_free(repo);
	if (started)
		git_libgit2_shutdown();
	return rc;
}

void lethe_evidence_free(lethe_evidence *ev)
{
	if (!ev)
		return;
	lethe_evidence_forget_trees(ev);
	git_repository_free(ev->repo);
	if (ev->scratch)
		lethe_evidence_remove_scratch(ev->scratch);
	free(ev->scratch);
	free(ev->dir);
	free(ev);
	git_libgit2_shutdown();
}

void lethe_evidence_set_time(lethe_evidence *ev, int64_t unix_seconds)
{
	ev->fixed_time = unix_seconds;
}

void lethe_evidence_set_test_hook(lethe_evidence *ev, void (*fn)(void *ctx), void *ctx)
{
	ev->hook = fn;
	ev->hook_ctx = ctx;
}

/* Relative, '/'-separated, no empty, "." or ".." component, no ".git". */
static int check_path(const char *path)
{
	const char *p = path;

	if (!path || !*path)
		return lethe_error_set(LETHE_EUSAGE, "evidence path is empty");
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 4 && !strncasecmp(p, ".git", 4)))
			return lethe_error_set(LETHE_EUSAGE, "invalid evidence path '%s'", path);
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

/* The tree to start from: the parent's, or a freshly written empty one. */
static int base_tree(git_tree **out, git_repository *repo, git_commit *parent)
{
	git_treebuilder *b = NULL;
	git_oid oid;
	int rc = 0;

	if (parent) {
		if (git_commit_tree(out, parent) < 0)
			rc = lethe_evidence_git_fail(LETHE_EIO, "cannot read main's tree");
		return rc;
	}
	if (git_treebuilder_new(&b, repo, NULL) < 0 || git_treebuilder_write(&oid, b) < 0 ||
	    git_tree_lookup(out, repo, &oid) < 0)
		rc = lethe_evidence_write_fail(repo, 0, "cannot write the empty tree");
	git_treebuilder_free(b);
	return rc;
}

/*
 * *out = base with the changes: removals first (only of paths that exist, so
 * removing nothing is fine), then additions, in two git_tree_create_updated
 * calls because one call cannot both drop a folder and add files under it.
 */

/* A blob written piece by piece (lethe_evidence_change.stream); size counts
 * what was written, for the reason of a failure (evidence_why.c). */
typedef struct {
	git_writestream *ws;    /* length not known */
	git_odb_stream *odb_ws; /* length known */
	size_t size;
} stream_ctx;

static int stream_write(void *wctx, const void *buf, size_t len)
{
	stream_ctx *s = wctx;

	s->size += len;
	return s->ws->write(s->ws, buf, len) < 0 ? lethe_error_set(LETHE_EIO, "cannot write a blob") : 0;
}

/* A stream of known length goes straight into the object database, which
 * compresses and hashes it as it comes; libgit2's blob stream (length not
 * known) first keeps the whole stream in a temporary file, then reads it
 * back to write the object. */
static int odb_stream_write(void *wctx, const void *buf, size_t len)
{
	stream_ctx *s = wctx;

	s->size += len;
	if (git_odb_stream_write(s->odb_ws, buf, len) < 0)
		return lethe_evidence_git_fail(LETHE_EIO, "cannot write a blob");
	return 0;
}

static int write_stream(git_oid *id, size_t *size, git_repository *repo,
			const lethe_evidence_change *c)
{
	stream_ctx s = { NULL, NULL, 0 };
	git_odb *odb = NULL;
	int rc;

	if (c->len) {
		/* the stream may write on a thread of its own (write_pipe.h), whose
		 * git error this thread does not see: no older one may stand for it */
		git_error_clear();
		if (git_repository_odb(&odb, repo) < 0)
			return -1;
		rc = git_odb_open_wstream(&s.odb_ws, odb, c->len, GIT_OBJECT_BLOB);
		if (rc == 0 && (rc = c->stream(c->stream_ctx, odb_stream_write, &s)) == 0)
			rc = s.size != c->len ? lethe_error_set(LETHE_ESOFTWARE, "a blob of %zu bytes, not %zu",
								 s.size, c->len)
					      : git_odb_stream_finalize_write(id, s.odb_ws);
		*size = s.size;
		git_odb_stream_free(s.odb_ws);
		git_odb_free(odb);
		return rc < 0 ? -1 : 0;
	}
	if (git_blob_create_from_stream(&s.ws, repo, NULL) < 0)
		return -1;
	rc = c->stream(c->stream_ctx, stream_write, &s);
	/* libgit2 keeps the stream in a temporary file, then writes the object */
	*size = 2 * s.size;
	if (rc < 0) {
		s.ws->free(s.ws);
		return -1;
	}
	return git_blob_create_from_stream_commit(id, s.ws);
}

/* A blob written ahead (lethe_evidence_write_blob), which must be there. */
static int existing_blob(git_oid *id, git_repository *repo, const char *hex, const char *path)
{
	git_odb *odb = NULL;
	int there;

	if (git_oid_fromstrn(id, hex, strlen(hex)) < 0 || strlen(hex) != GIT_OID_HEXSZ)
		return lethe_error_set(LETHE_ESOFTWARE, "'%s': '%s' is not a blob id", path, hex);
	if (git_repository_odb(&odb, repo) < 0)
		return lethe_evidence_git_fail(LETHE_EIO, "cannot open the evidence's objects");
	there = git_odb_exists(odb, id);
	git_odb_free(odb);
	return there ? 0 : lethe_error_set(LETHE_EDATA, "cannot write '%s' into the evidence: its blob %s "
					   "is missing from the repository", path, hex);
}

int lethe_evidence_write_blob(char out_oid[41], lethe_evidence *ev, size_t len,
			      int (*stream)(void *ctx, int (*write)(void *wctx, const void *buf,
								    size_t len),
					    void *wctx),
			      void *ctx)
{
	lethe_evidence_change c = { .path = "", .len = len, .stream = stream, .stream_ctx = ctx };
	size_t size = len;
	git_oid id;
	int rc;

	if (!len)
		return lethe_error_set(LETHE_ESOFTWARE, "a blob written ahead needs its length");
	if ((rc = lethe_evidence_check_owner(ev->dir)) < 0)
		return rc;
	if (write_stream(&id, &size, ev->repo, &c) < 0)
		return lethe_evidence_write_fail(ev->repo, size, "cannot write a blob into the evidence");
	git_oid_tostr(out_oid, 41, &id);
	return 0;
}

static int apply_changes(git_tree **out, git_repository *repo, git_tree *base,
			 const lethe_evidence_change *changes, size_t n)
{
	git_tree_update *u = NULL;
	git_tree *mid = NULL;
	git_oid oid;
	size_t k = 0;
	int rc = 0;

	if (n && !(u = calloc(n, sizeof(*u))))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	for (size_t i = 0; i < n; i++) {
		git_tree_entry *e = NULL;

		if ((rc = check_path(changes[i].path)) != 0)
			goto out;
		if (!changes[i].remove && !changes[i].data && !changes[i].stream && !changes[i].blob) {
			rc = lethe_error_set(LETHE_EUSAGE, "evidence change '%s' has neither data nor remove",
					     changes[i].path);
			goto out;
		}
		if (!changes[i].remove || git_tree_entry_bypath(&e, base, changes[i].path) != 0)
			continue;
		git_tree_entry_free(e);
		u[k].action = GIT_TREE_UPDATE_REMOVE;
		u[k++].path = changes[i].path;
	}
	if (git_tree_create_updated(&oid, repo, base, k, u) < 0 ||
	    git_tree_lookup(&mid, repo, &oid) < 0) {
		rc = lethe_evidence_write_fail(repo, 0, "cannot remove files from the evidence tree");
		goto out;
	}
	k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t size = changes[i].len;

		if (changes[i].remove)
			continue;
		if (changes[i].blob) {
			if ((rc = existing_blob(&u[k].id, repo, changes[i].blob, changes[i].path)) < 0)
				goto out;
		} else if (changes[i].stream ? write_stream(&u[k].id, &size, repo, &changes[i]) < 0
				      : git_blob_create_from_buffer(&u[k].id, repo, changes[i].data,
								    changes[i].len) < 0) {
			rc = lethe_evidence_write_fail(repo, size, "cannot write '%s' into the evidence",
						       changes[i].path);
			goto out;
		}
		u[k].action = GIT_TREE_UPDATE_UPSERT;
		u[k].filemode = GIT_FILEMODE_BLOB;
		u[k++].path = changes[i].path;
	}
	if (git_tree_create_updated(&oid, repo, mid, k, u) < 0 ||
	    git_tree_lookup(out, repo, &oid) < 0)
		rc = lethe_evidence_write_fail(repo, 0, "cannot add files to the evidence tree");
out:
	git_tree_free(mid);
	free(u);
	return rc;
}

/* The unsigned commit text: "Lethe" <key comment> at the handle's time. */
static int commit_text(git_buf *text, lethe_evidence *ev, const lethe_sshkey *key,
		       git_tree *tree, git_commit *parent, const char *message)
{
	git_signature *who = NULL;
	const git_commit *parents[1] = { parent };
	char *msg = NULL;
	size_t ml = strlen(message);
	int64_t when = ev->fixed_time ? ev->fixed_time : (int64_t)time(NULL);
	int rc = 0;

	if (!(msg = malloc(ml + 2)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	memcpy(msg, message, ml);
	if (ml == 0 || message[ml - 1] != '\n')
		msg[ml++] = '\n';
	msg[ml] = '\0';
	if (git_signature_new(&who, "Lethe", lethe_sshkey_comment(key), (git_time_t)when, 0) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EDATA, "cannot make the commit's author");
		goto out;
	}
	if (git_commit_create_buffer(text, ev->repo, who, who, NULL, msg, tree,
				     parent ? 1 : 0, parents) < 0)
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot build the evidence commit");
out:
	git_signature_free(who);
	free(msg);
	return rc;
}

int lethe_evidence_commit(char out_oid[41], lethe_evidence *ev, const lethe_sshkey *key,
			  const lethe_evidence_change *changes, size_t n, const char *message)
{
	git_oid parent_oid, oid;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_reference *ref = NULL;
	git_buf text = { 0 };
	char *armour = NULL;
	size_t al;
	int rc, g;

	/* every write path ends here: an access export on a KEYS site too */
	if ((rc = lethe_evidence_check_owner(ev->dir)) < 0)
		return rc;
	g = git_reference_name_to_id(&parent_oid, ev->repo, LETHE_EVIDENCE_MAIN);
	if (g < 0 && g != GIT_ENOTFOUND) {
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot read main of '%s'", ev->dir);
		goto out;
	}
	if (g == 0 && git_commit_lookup(&parent, ev->repo, &parent_oid) < 0) {
		rc = lethe_evidence_git_fail(LETHE_EIO, "cannot read main of '%s'", ev->dir);
		goto out;
	}
	if ((rc = base_tree(&base, ev->repo, parent)) != 0 ||
	    (rc = apply_changes(&tree, ev->repo, base, changes, n)) != 0 ||
	    (rc = commit_text(&text, ev, key, tree, parent, message)) != 0 ||
	    (rc = lethe_sshsig_sign(&armour, key, "git", text.ptr, text.size)) != 0)
		goto out;
	al = strlen(armour);
	while (al && armour[al - 1] == '\n')
		armour[--al] = '\0';
	if (git_commit_create_with_signature(&oid, ev->repo, text.ptr, armour, NULL) < 0) {
		rc = lethe_evidence_write_fail(ev->repo, text.size, "cannot write the evidence commit");
		goto out;
	}
	if (ev->hook)
		ev->hook(ev->hook_ctx);
	g = parent ? git_reference_create_matching(&ref, ev->repo, LETHE_EVIDENCE_MAIN, &oid, 1,
						   &parent_oid, "lethe: evidence")
		   : git_reference_create(&ref, ev->repo, LETHE_EVIDENCE_MAIN, &oid, 0,
					  "lethe: evidence");
	if (g == GIT_EMODIFIED || g == GIT_EEXISTS || g == GIT_ELOCKED) {
		rc = lethe_error_set(LETHE_ETEMPFAIL, "evidence repository changed during the run");
		goto out;
	}
	if (g < 0) {
		rc = lethe_evidence_write_fail(ev->repo, 0, "cannot move main of '%s'", ev->dir);
		goto out;
	}
	git_oid_tostr(out_oid, 41, &oid);
out:
	git_reference_free(ref);
	free(armour);
	git_buf_dispose(&text);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	return rc;
}

/* --- push ------------------------------------------------------------------- */

int lethe_evidence_remote(git_remote **out, lethe_evidence *ev, const char *url)
{
	git_remote_create_options o;

	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = ev->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	return git_remote_create_with_opts(out, url, &o);
}

/* libgit2 reports a ref the remote refused here, not as push's return value. */
static int push_status(const char *refname, const char *status, void *data)
{
	char **why = data;

	if (status && !*why && asprintf(why, "remote refused '%s': %s", refname, status) < 0)
		*why = NULL;
	return 0;
}

int lethe_evidence_push(lethe_evidence *ev, const char *remote_url, char **why)
{
	git_remote *remote = NULL;
	git_push_options po;
	char *spec = LETHE_EVIDENCE_MAIN ":" LETHE_EVIDENCE_MAIN;
	git_strarray specs = { &spec, 1 };
	char *reason = NULL;
	int rc = 0, failed = 0;

	*why = NULL;
	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	po.callbacks.push_update_reference = push_status;
	po.callbacks.payload = &reason;
	if (lethe_evidence_remote(&remote, ev, remote_url) < 0 ||
	    git_remote_push(remote, &specs, &po) < 0) {
		const git_error *e = git_error_last();

		failed = 1;
		free(reason);
		reason = NULL;
		if (asprintf(&reason, "%s", e && e->message ? e->message : "unknown git error") < 0)
			reason = NULL;
	}
	if (reason || failed) {
		rc = lethe_error_set(LETHE_EIO, "cannot push evidence to '%s': %s", remote_url,
				     reason ? reason : "out of memory");
		*why = reason;
	}
	git_remote_free(remote);
	return rc;
}
