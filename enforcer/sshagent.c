/*
 * sshagent.c - signing with an Ed25519 key held by ssh-agent (the agent
 * protocol, draft-miller-ssh-agent: SSH_AGENTC_REQUEST_IDENTITIES and
 * SSH_AGENTC_SIGN_REQUEST), so that a person whose key is protected by a
 * passphrase signs without lethe ever seeing the secret or the passphrase.
 * Internal to sshkey.c (sshagent.h).
 *
 * Invariants:
 *  - One connection per request, closed on every path; no state is kept
 *    between calls (the socket path is the caller's).
 *  - The agent's answer is untrusted: its length is bounded (AGENT_MAX, as
 *    OpenSSH's own limit) and it is read through sshwire's bounds-checked
 *    reader; a signature is accepted only as exactly "ssh-ed25519" and 64
 *    bytes, and is then checked against the public key before it is used,
 *    so a confused or hostile agent cannot make lethe write a bad signature.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "lethe/error.h"
#include "sshagent.h"
#include "sshwire.h"

#define AGENT_FAILURE 5
#define AGENTC_REQUEST_IDENTITIES 11
#define AGENT_IDENTITIES_ANSWER 12
#define AGENTC_SIGN_REQUEST 13
#define AGENT_SIGN_RESPONSE 14
#define AGENT_MAX (256 * 1024)

static int agent_connect(int *fd, const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (!sock || !*sock)
		return lethe_error_set(LETHE_ENOINPUT, "ssh-agent is not running here "
				       "(SSH_AUTH_SOCK is not set): start it and ssh-add the key");
	if (strlen(sock) >= sizeof(sa.sun_path))
		return lethe_error_set(LETHE_ENOINPUT, "SSH_AUTH_SOCK '%s' is too long", sock);
	strcpy(sa.sun_path, sock);
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return lethe_error_set(LETHE_EIO, "cannot make a socket: %s", strerror(errno));
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(*fd);
		return lethe_error_set(LETHE_ENOINPUT, "cannot reach ssh-agent at '%s': %s", sock,
				       strerror(e));
	}
	return 0;
}

static int io_all(int fd, unsigned char *p, size_t n, int writing)
{
	while (n > 0) {
		ssize_t k = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return lethe_error_set(LETHE_EIO, "ssh-agent: %s",
					       k == 0 ? "the agent closed the connection" :
					       strerror(errno));
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Send req[0..n) (already framed) and read one answer into *out (malloc'd,
 * the caller frees), without its length prefix. */
static int transact(unsigned char **out, size_t *out_len, const char *sock,
		    unsigned char *req, size_t n)
{
	unsigned char hdr[4];
	uint32_t len;
	int fd = -1, rc;

	*out = NULL;
	if ((rc = agent_connect(&fd, sock)) < 0)
		return rc;
	if ((rc = io_all(fd, req, n, 1)) < 0 || (rc = io_all(fd, hdr, 4, 0)) < 0)
		goto out;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > AGENT_MAX) {
		rc = lethe_error_set(LETHE_EIO, "ssh-agent: an answer of %u bytes", (unsigned)len);
		goto out;
	}
	if (!(*out = malloc(len))) {
		rc = lethe_error_set(LETHE_ESOFTWARE, "out of memory");
		goto out;
	}
	if ((rc = io_all(fd, *out, len, 0)) < 0) {
		free(*out);
		*out = NULL;
		goto out;
	}
	*out_len = len;
out:
	close(fd);
	return rc;
}

int lethe_sshagent_has(const char *sock, const unsigned char pk[32])
{
	unsigned char req[5] = { 0, 0, 0, 1, AGENTC_REQUEST_IDENTITIES }, *ans = NULL;
	unsigned char blob[SSHWIRE_ED25519_BLOB_LEN];
	const unsigned char *type, *b, *comment;
	size_t n = 0, bn = 0, cn = 0;
	sshwire_reader r;
	uint32_t count = 0;
	int rc, found = 0;

	if ((rc = transact(&ans, &n, sock, req, sizeof(req))) < 0)
		return rc;
	sshwire_ed25519_blob(blob, pk);
	sshwire_reader_init(&r, ans, n);
	if (sshwire_get_bytes(&r, &type, 1) != 0 || type[0] != AGENT_IDENTITIES_ANSWER ||
	    sshwire_get_u32(&r, &count) != 0) {
		free(ans);
		return lethe_error_set(LETHE_EIO, "ssh-agent did not list its keys");
	}
	for (uint32_t i = 0; i < count && r.ok && !found; i++) {
		sshwire_get_string(&r, &b, &bn);
		sshwire_get_string(&r, &comment, &cn);
		found = r.ok && bn == sizeof(blob) && !memcmp(b, blob, bn);
	}
	rc = r.ok || found ? 0 : lethe_error_set(LETHE_EIO, "ssh-agent: a malformed list of keys");
	free(ans);
	if (rc == 0 && !found)
		rc = LETHE_ENOTFOUND;
	return rc;
}

int lethe_sshagent_sign(unsigned char sig[64], const char *sock, const unsigned char pk[32],
			const void *data, size_t len)
{
	size_t n = 4 + 1 + 4 + SSHWIRE_ED25519_BLOB_LEN + 4 + len + 4, an = 0, sn = 0, bn = 0;
	unsigned char blob[SSHWIRE_ED25519_BLOB_LEN], *req, *ans = NULL;
	const unsigned char *type, *sblob, *s;
	sshwire_writer w;
	sshwire_reader r;
	int rc;

	if (len > AGENT_MAX / 2)
		return lethe_error_set(LETHE_ESOFTWARE, "ssh-agent: %zu bytes to sign", len);
	if (!(req = malloc(n)))
		return lethe_error_set(LETHE_ESOFTWARE, "out of memory");
	sshwire_ed25519_blob(blob, pk);
	sshwire_writer_init(&w, req, n);
	sshwire_put_u32(&w, (uint32_t)(n - 4));
	sshwire_put_bytes(&w, (const unsigned char[]){ AGENTC_SIGN_REQUEST }, 1);
	sshwire_put_string(&w, blob, sizeof(blob));
	sshwire_put_string(&w, data, len);
	sshwire_put_u32(&w, 0); /* flags: none (ed25519 has one signature type) */
	rc = w.ok && w.len == n ? transact(&ans, &an, sock, req, n)
				: lethe_error_set(LETHE_ESOFTWARE, "ssh-agent: request too long");
	free(req);
	if (rc < 0)
		return rc;
	sshwire_reader_init(&r, ans, an);
	if (sshwire_get_bytes(&r, &type, 1) == 0 && type[0] == AGENT_FAILURE) {
		free(ans);
		return lethe_error_set(LETHE_ENOPERM, "ssh-agent refused to sign (the key was removed, "
				       "or its use was not confirmed)");
	}
	if (!r.ok || type[0] != AGENT_SIGN_RESPONSE || sshwire_get_string(&r, &sblob, &bn) != 0 ||
	    sshwire_remaining(&r) != 0) {
		free(ans);
		return lethe_error_set(LETHE_EIO, "ssh-agent: a malformed answer to a signing request");
	}
	sshwire_reader_init(&r, sblob, bn);
	if (!sshwire_get_string_eq(&r, SSHWIRE_ED25519) || sshwire_get_string(&r, &s, &sn) != 0 ||
	    sn != 64 || sshwire_remaining(&r) != 0) {
		free(ans);
		return lethe_error_set(LETHE_EIO, "ssh-agent: the signature is not an ed25519 one");
	}
	memcpy(sig, s, 64);
	free(ans);
	if (crypto_sign_verify_detached(sig, data, len, pk) != 0)
		return lethe_error_set(LETHE_EIO, "ssh-agent: the signature does not match the key");
	return 0;
}
