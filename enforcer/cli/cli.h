/*
 * cli.h - the command layer: one cmd_<name>.c per command, dispatched from
 * main.c. Only this layer prints and chooses exit statuses.
 *
 * Commands that record evidence do it through a site (lethe/site.h): the
 * command layer parses, calls and prints, and owns no step of the protocol.
 *
 * Every command has the signature of lethe_cmd_fn: argv[0] is the command's
 * name, the global options (-c FILE) are already parsed into opts, and the
 * return value is the process exit status of the contract (0, 1, 64..78).
 */
#ifndef LETHE_CLI_H
#define LETHE_CLI_H

#include "lethe/config.h"
#include "lethe/declarations.h"
#include "lethe/diag.h"
#include "lethe/evidence.h"
#include "lethe/plan.h"
#include "lethe/sshkey.h"
#include "lethe/token.h"
#include "lethe/policy.h"
#include "lethe/site.h"
#include "lethe/status.h"
#include "lethe/subject.h"

typedef struct {
	const char *config_path;  /* -c FILE, or NULL */
	int quiet;
	int verbose;
} lethe_cli_opts;

typedef int (*lethe_cmd_fn)(const lethe_cli_opts *opts, int argc, char **argv);

/*
 * The command table (main.c): one entry per command, one per option. It is
 * the single source of the command line: cli_args.c parses with
 * getopt_long from it (global options anywhere, "did you mean" for
 * commands and options), prints `lethe help CMD` / `CMD --help` from it,
 * and cli_complete.c generates the bash, zsh and fish completions from it
 * (`lethe completion SHELL`, run at build time). lethe(1) documents each
 * entry (a test checks that every command and option appears there).
 */
typedef struct {
	const char *name;         /* long name without "--" */
	const char *value;        /* NULL: a flag; else the value's name, e.g. "FILE"; values
				   * named FILE, DIR or REPOSITORY complete as paths */
	const char *help;         /* one line */
	char letter;              /* the short option (-c), or 0 */
} cli_option;

typedef struct {
	const char *name;
	lethe_cmd_fn fn;
	const char *summary;      /* one line */
	const char *usage;        /* after "lethe [GLOBAL] "; lines separated by '\n' */
	const char *subcommands;  /* space-separated ("add list release"), or NULL */
	const cli_option *options; /* ends with { NULL } */
} cli_command;

extern const cli_command cli_commands[];
extern const cli_option cli_global_options[]; /* config, quiet, verbose, ... */

/* Parse argv with the table and run the command: the process exit status. */
int cli_main(int argc, char **argv);
/* `lethe completion bash|zsh|fish`: the completion script on stdout. */
int cli_completion(const char *shell);

int cmd_check(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_plan(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_demo(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_run(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_erase(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_access(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_suppressed(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_hold(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_init(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_verify(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_status(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_replay(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_requests(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_approve(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_prove(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_verify_proof(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_digest(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_report(const lethe_cli_opts *opts, int argc, char **argv);
int cmd_notice(const lethe_cli_opts *opts, int argc, char **argv);

/* What check, plan and run work on: the configuration, the policy, and the
 * register, loaded and checked against each other. */
typedef struct {
	lethe_config *cfg;
	lethe_policy *policy;
	struct lethe_backend *be;
} cli_register;

/* Locate and load the configuration, load the policy folder, open the
 * database (backend_flags, e.g. LETHE_BACKEND_READONLY) and check the policy
 * against its schema. Prints every fault; returns 0, or the exit status
 * (78 configuration, 66 missing file, 65 policy faults, ...) with r released. */
int cli_register_open(cli_register *r, const lethe_cli_opts *opts, unsigned backend_flags);
void cli_register_close(cli_register *r);
/* What the role of r's connection may change among the tables r's rules act
 * on (lethe_backend_write_access). */
int cli_register_write_access(lethe_warnings *found, cli_register *r);

/* --as-of: arg as YYYY-MM-DD, or today (UTC) when arg is NULL. 0 or 64. */
int cli_parse_as_of(lethe_day *out, const char *arg);
/* --received: arg as YYYY-MM-DD not after today (UTC), or today when arg is
 * NULL. 0 or 64 (said on stderr). */
int cli_parse_received(lethe_day *out, const char *arg);

/* Log levels: syslog priorities, written as "<N>" prefixes for journald. */
enum { CLI_ERR = 3, CLI_WARNING = 4, CLI_NOTICE = 5, CLI_INFO = 6, CLI_DEBUG = 7 };

/* One line on stderr. Under systemd (stderr is the JOURNAL_STREAM) lines get
 * a "<N>" priority prefix instead of "lethe: ". INFO lines are dropped with
 * --quiet, DEBUG lines shown only with --verbose. opts may be NULL. */
void cli_log(const lethe_cli_opts *opts, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether stderr is the journal's stream (JOURNAL_STREAM names it). */
int cli_to_journal(void);
/* A journal field: key (A-Z, 0-9, _) and value; a NULL value is left out. */
typedef struct {
	const char *key, *value;
} cli_journal_field;
/* One journal entry of these fields by the native protocol (cli_journal.c).
 * 0 sent; -1 not, and the caller writes its stderr line instead. */
int cli_journal_send(const cli_journal_field *fields, size_t n);

/* The plan's table on stdout; due_label heads the due column. */
void cli_print_plan(const lethe_plan *plan, const char *due_label);
/* Print a JSON value, indented, on stdout and release it (taken over, NULL
 * means out of memory). 0 or the exit status. */
struct json_t;
int cli_print_json(struct json_t *root);
/* A warning per rule with invalid clocks, with example keys. */
void cli_warn_invalid(const lethe_cli_opts *opts, const lethe_plan *plan);

/* The value of option argv[*i] ("--name V" or "--name=V", advancing *i past
 * V), or NULL when this argument is not that option; sets *missing when the
 * value is absent. */
const char *cli_option_value(int argc, char **argv, int *i, const char *name, int *missing);

/* Who acts for a record made on a person's behalf (hold, erase, replay):
 * by (--by), else the user who ran the command (under sudo the one who
 * called sudo), else NULL. */
const char *cli_actor(const char *by);

/* path made absolute against the current directory (lethe.yaml's own relative
 * paths are read against its folder, not where the command ran). 0, or the
 * exit status after printing why (64 too long, 74 no current directory).
 * out has PATH_MAX bytes. */
int cli_absolute(char *out, const char *path);

/* Each line of w (lethe/site.h returns warnings as data) as a warning. */
void cli_warnings(const lethe_cli_opts *opts, const lethe_warnings *w);

/* The progress line of long runs (cli_progress.c): shown only when stderr
 * is a terminal and not --quiet. cli_progress_update has the signature of
 * lethe_site_run_options.progress, with ctx a cli_progress. */
typedef struct {
	int enabled;
	int64_t start_ms, last_ms;
	int width;                /* of the widest line drawn; 0 nothing shown */
	int64_t done, total;      /* the last update's */
} cli_progress;
void cli_progress_start(cli_progress *p, const lethe_cli_opts *opts);
void cli_progress_update(void *ctx, int64_t done, int64_t total);
/* lethe_site_run_options.phase: the line names the phase at once. */
void cli_progress_phase(void *ctx, const char *phase);
void cli_progress_end(cli_progress *p);

/* What a run tells monitoring (cli_run_report.c). The record a run wrote:
 * the last of main when its seq is above seq_before (cli_run_last_seq
 * before the run, 0 without evidence); present 0 when it wrote none. */
typedef struct {
	int present;
	int64_t seq;
	char run_id[33], result[16], commit[41];
} cli_run_record;
int64_t cli_run_last_seq(lethe_evidence *ev);
void cli_run_record_read(cli_run_record *out, lethe_evidence *ev, int64_t seq_before);
/* The run's one summary line for the journal: run id, sequence, commit,
 * totals, result and exit status (NOTICE; WARNING when the run completed
 * but status is not 0; ERR when it failed). */
void cli_run_summary(const lethe_cli_opts *opts, const cli_run_record *rec,
		     const lethe_plan *plan, int dry_run, int status);
/* run --json's "run_id", "sequence", "commit" (null when none) and "result"
 * in root. 0 or -1. */
int cli_run_json_add(struct json_t *root, const cli_run_record *rec, int dry_run, int status);
typedef struct {
	const cli_run_record *rec;
	const lethe_plan *plan;          /* the run's counts; NULL when none */
	const lethe_status *st;          /* the status after the run; NULL when unknown */
	int dry_run, status;             /* status: the run's exit status */
} cli_run_metrics;
/* Node-exporter textfile metrics, written atomically to path (temporary
 * file and rename). 0, or the exit status after saying why. */
int cli_metrics_write(const char *path, const cli_run_metrics *m);

/* The reference policies for demo and init without --policies: the
 * installed LETHE_DATADIR/policies, else the source tree's (cli_paths.c). */
const char *cli_default_policies(void);

/* The language of answers and notices (cli_lang.c): arg (--lang), else
 * cfg's language, else en; refused unless the policy's declarations declare
 * it; sets the message locale and finds the catalog. 0 or the exit status. */
int cli_lang_use(lethe_lang *out, const char *arg, const lethe_config *cfg,
		 const lethe_policy *policy);

/* "lethe: MESSAGE\n" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the last library error and return its exit status. */
int cli_fail(int code);

/* Print every fault as FILE:LINE:COLUMN: message, sorted. */
void cli_print_diags(lethe_diags *d);

#endif
