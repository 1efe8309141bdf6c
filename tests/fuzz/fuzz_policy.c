/*
 * fuzz_policy.c - libFuzzer harness for the policy and configuration loaders:
 * the input is written as the only policy file of a folder and loaded with
 * lethe_policy_load, then written as lethe.yaml and loaded with
 * lethe_config_load.
 *
 * Invariants:
 *  - One temporary folder per process, made on the first input and removed
 *    at exit; every input overwrites the same two files, so nothing grows.
 *  - Everything a loader returns is freed (LeakSanitizer runs at exit and
 *    every leak is a finding).
 *  - The loaders' contract is asserted: success sets *out and leaves no
 *    diagnostic; a fault (LETHE_EDATA, LETHE_ECONFIG) leaves at least one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lethe/config.h"
#include "lethe/diag.h"
#include "lethe/error.h"
#include "lethe/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[4096], policies[4200], policy_file[4300], config_file[4200];

/* At exit: the two files and the two folders, nothing else. */
static void cleanup(void)
{
	unlink(policy_file);
	rmdir(policies);
	unlink(config_file);
	rmdir(dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	/* tests/fuzz/run points TMPDIR into its scratch folder, so that even a
	 * crashed process leaves nothing behind in /tmp. */
	snprintf(dir, sizeof(dir), "%s/lethe-fuzz-policy-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(policies, sizeof(policies), "%s/policies", dir);
	snprintf(policy_file, sizeof(policy_file), "%s/p.yaml", policies);
	snprintf(config_file, sizeof(config_file), "%s/lethe.yaml", dir);
	if (mkdir(policies, 0700) != 0)
		abort();
	atexit(cleanup);
}

/* Replace path's content with data (truncating): the same file every time. */
static void put(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

static void load_policy(void)
{
	lethe_diags diags = LETHE_DIAGS_INIT;
	lethe_policy *p = NULL;
	int rc = lethe_policy_load(&p, policies, &diags, 1);

	if (rc == 0 && (!p || diags.count != 0))
		abort();
	if (rc == LETHE_EDATA && diags.count == 0)
		abort();
	/* A partial policy holds only rules that parsed cleanly: each has its
	 * name, table and basis, and can be found by name (check and plan rely
	 * on both). */
	if (p)
		for (size_t i = 0; i < p->nrules; i++)
			if (!p->rules[i].name || !p->rules[i].table || !p->rules[i].basis ||
			    lethe_policy_rule(p, p->rules[i].name) == NULL)
				abort();
	lethe_diags_sort(&diags);
	lethe_policy_free(p);
	lethe_diags_free(&diags);
}

static void load_config(void)
{
	lethe_diags diags = LETHE_DIAGS_INIT;
	lethe_config *cfg = NULL;
	int rc = lethe_config_load(&cfg, config_file, &diags);

	if (rc == 0 && (!cfg || !cfg->database || !cfg->policies || diags.count != 0))
		abort();
	if (rc == LETHE_ECONFIG && (cfg || diags.count == 0))
		abort();
	lethe_config_free(cfg);
	lethe_diags_free(&diags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0])
		setup();
	put(policy_file, data, size);
	load_policy();
	put(config_file, data, size);
	load_config();
	lethe_error_clear();
	return 0;
}
