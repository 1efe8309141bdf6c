/*
 * sshagent.h - internal to sshkey.c: Ed25519 signatures made by ssh-agent
 * (the agent protocol over the Unix socket SSH_AUTH_SOCK names). Not a
 * public header: callers hold a lethe_sshkey (lethe_sshkey_load_any).
 */
#ifndef LETHE_SSHAGENT_H
#define LETHE_SSHAGENT_H

#include <stddef.h>

/* 0 when the agent at sock holds the ed25519 key pk, LETHE_ENOTFOUND (no
 * error set) when it does not; LETHE_ENOINPUT when no agent is reachable
 * (sock NULL or empty: none is running), LETHE_EIO for a broken answer. */
int lethe_sshagent_has(const char *sock, const unsigned char pk[32]);

/* The agent's Ed25519 signature of data[0..len) by pk, checked against pk.
 * LETHE_ENOPERM when the agent refuses (key gone, confirmation denied). */
int lethe_sshagent_sign(unsigned char sig[64], const char *sock, const unsigned char pk[32],
			const void *data, size_t len);

#endif
