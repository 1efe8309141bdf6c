/*
 * main.c - the command table: every command and option of lethe, one entry
 * each (cli.h, cli_command). Each command lives in its own cmd_<name>.c and
 * returns the exit status of the contract; cli_args.c parses argv against
 * this table, cli_complete.c makes the shell completions from it.
 *
 * Adding a command: a cmd_<name>.c, its options below, one line in
 * cli_commands[], its section in docs/man/lethe.1.scd. Adding an option: one
 * line in its command's options (the command reads it from argv as
 * "--name VALUE" or "--name").
 */
#include <malloc.h>
#include <stddef.h>
#include "cli.h"

#define END { NULL, NULL, NULL, 0 }

const cli_option cli_global_options[] = {
	{ "config", "FILE", "the configuration (else $LETHE_CONFIG, ./lethe.yaml, /etc/lethe/lethe.yaml)", 'c' },
	{ "quiet", NULL, "only warnings and errors on stderr", 'q' },
	{ "verbose", NULL, "also debugging messages", 'v' },
	{ "help", NULL, "this help, or a command's", 'h' },
	{ "version", NULL, "the version", 0 },
	END
};

static const cli_option no_options[] = { END };
static const cli_option plan_options[] = {
	{ "as-of", "YYYY-MM-DD", "plan as of that day (default today, UTC)", 0 },
	{ "json", NULL, "the plan as JSON on stdout", 0 },
	{ "compare", "DIR", "the impact of a draft policy set against the one in force", 0 },
	{ "policies", "DIR", "the same as --compare", 0 },
	{ "out", "FILE", "write the plan, signed, for run --plan", 0 },
	{ "key", "FILE", "sign the plan with this key (an approver's; default the site's)", 0 },
	{ "keys", "RULE", "list the keys the rule would dispose of (terminal only)", 0 },
	END
};
static const cli_option run_options[] = {
	{ "as-of", "YYYY-MM-DD", "dispose of what is due on that day (default today, UTC)", 0 },
	{ "dry-run", NULL, "change nothing, show what a run would do", 0 },
	{ "json", NULL, "the result as JSON on stdout", 0 },
	{ "max-rows-per-rule", "N", "refuse a rule that would dispose of more (0: no limit)", 0 },
	{ "allow-future-as-of", NULL, "accept an --as-of after today (disposes early)", 0 },
	{ "allow-clock-jump", NULL, "accept a clock far from the last evidence record, once", 0 },
	{ "plan", "FILE", "dispose of exactly the rows of this signed plan still due", 0 },
	{ "prometheus", "FILE", "after the run, write node-exporter textfile metrics to FILE", 0 },
	END
};
static const cli_option erase_options[] = {
	{ "subject", "KEY", "the data subject's key", 0 },
	{ "received", "YYYY-MM-DD", "the day the request arrived (default today)", 0 },
	{ "dry-run", NULL, "change nothing, show what would be erased", 0 },
	{ "json", NULL, "the result as JSON on stdout", 0 },
	{ "lang", "fi|sv|en", "the language of the answer (default lethe.yaml's language)", 0 },
	{ "by", "PRINCIPAL", "who erases (default the user), named in the record and commit subject", 0 },
	END
};
static const cli_option hold_options[] = {
	{ "reason", "TEXT", "why (kept in the register, never in the evidence)", 0 },
	{ "subject", "KEY", "hold one data subject's rows", 0 },
	{ "rule", "NAME", "hold a rule's rows", 0 },
	{ "where", "SQL", "only the rule's rows matching this condition", 0 },
	{ "until", "YYYY-MM-DD", "the hold ends that day", 0 },
	{ "by", "NAME", "who places or releases the hold (recorded in the evidence)", 0 },
	{ "json", NULL, "list as JSON", 0 },
	END
};
static const cli_option requests_options[] = {
	{ "kind", "access|erasure", "the kind of request", 0 },
	{ "subject", "KEY", "the data subject's key", 0 },
	{ "received", "YYYY-MM-DD", "the day the request arrived (default today)", 0 },
	{ "until", "YYYY-MM-DD", "the extended deadline (at most three months after receipt)", 0 },
	{ "reason", "TEXT", "why the deadline is extended", 0 },
	{ "json", NULL, "list as JSON", 0 },
	END
};
static const cli_option access_options[] = {
	{ "subject", "KEY", "the data subject's key", 0 },
	{ "output", "FILE", "the export, FILE.zip or FILE.tar.gz (never overwritten)", 0 },
	{ "received", "YYYY-MM-DD", "the day the request arrived", 0 },
	{ "lang", "fi|sv|en", "the language of the summary (default lethe.yaml's language)", 0 },
	{ "by", "PRINCIPAL", "who answers the request, named in the record and commit subject", 0 },
	END
};
static const cli_option replay_options[] = {
	{ "dry-run", NULL, "change nothing, show what would be erased again", 0 },
	{ "json", NULL, "the result as JSON on stdout", 0 },
	{ "by", "PRINCIPAL", "who replays (default the user), named in each intent and commit subject", 0 },
	END
};
static const cli_option demo_options[] = {
	{ "customers", "N", "how many customers (default 1000)", 0 },
	{ "seed", "N", "the random seed", 0 },
	{ "policies", "DIR", "the policy folder (default the reference policies)", 0 },
	{ "database", "URI", "write the shop into this PostgreSQL or MariaDB database", 0 },
	END
};
static const cli_option init_options[] = {
	{ "database", "FILE|URI", "the register (SQLite file, or a server's connection URI)", 0 },
	{ "policies", "DIR", "the policy folder (default the reference policies)", 0 },
	END
};
static const cli_option verify_options[] = {
	{ "allowed-signers", "FILE", "the auditor's own allowed-signers file", 0 },
	{ "json", NULL, "the report as JSON on stdout", 0 },
	{ "expect-at-least", "NNNNNNNN", "fail when the head record is older", 0 },
	{ "expect-head", "COMMIT", "fail when main does not reach this commit", 0 },
	{ "expect-from-register", NULL, "expect the head the register remembers", 0 },
	END
};
static const cli_option status_options[] = {
	{ "as-of", "YYYY-MM-DD", "count what is due from that day", 0 },
	{ "json", NULL, "as JSON (an error object on failure)", 0 },
	{ "exit-code", NULL, "exit 2 when there are warnings", 0 },
	END
};
static const cli_option approve_options[] = {
	{ "key", "FILE", "the approver's own SSH private key, or its .pub file (signed by ssh-agent)", 0 },
	{ "reason", "TEXT", "why the policy set is approved (recorded)", 0 },
	{ "json", NULL, "the record as JSON on stdout", 0 },
	END
};
static const cli_option prove_options[] = {
	{ "subject", "KEY", "the data subject's key", 0 },
	{ "output", "FILE", "the proof (never overwritten)", 0 },
	{ "as-of", "YYYY-MM-DD", "the proof as the evidence stood that day", 0 },
	END
};
static const cli_option verify_proof_options[] = {
	{ "allowed-signers", "FILE", "the auditor's own allowed-signers file", 0 },
	{ "pseudonym-key", "FILE", "also check the subject's digests with the site's key", 0 },
	{ "json", NULL, "the result as JSON on stdout", 0 },
	END
};
static const cli_option report_options[] = {
	{ "html", "DIR", "write the report into DIR (index.html)", 0 },
	{ "since", "YYYY-MM-DD", "only evidence from that day", 0 },
	{ "as-of", "YYYY-MM-DD", "the plan part as of that day", 0 },
	{ "language", "en|fi|sv", "the report's language (default lethe.yaml's, else the locale's)", 0 },
	{ "json", NULL, "the report's model as JSON on stdout", 0 },
	END
};
static const cli_option digest_options[] = {
	{ "table", "NAME", "the row's table", 0 },
	{ "rule", "NAME", "the rule whose table holds the row", 0 },
	{ "key", "KEY", "the row's key", 0 },
	{ "subject", "KEY", "a data subject's key instead of a row's", 0 },
	{ "json", NULL, "as JSON on stdout", 0 },
	END
};
static const cli_option notice_options[] = {
	{ "record", NULL, "the GDPR art. 30 record of processing instead of the notice", 0 },
	{ "format", "md|html", "Markdown (default) or HTML", 0 },
	{ "lang", "fi|sv|en", "the language (default lethe.yaml's language)", 0 },
	{ "policies", "DIR", "the policy folder (default the configured one)", 0 },
	{ "output", "FILE", "write to FILE instead of stdout", 0 },
	END
};
static const cli_option completion_options[] = { END };

const cli_command cli_commands[] = {
	{ "check", cmd_check, "validate lethe.yaml and every policy file against the database",
	  "check", NULL, no_options },
	{ "plan", cmd_plan, "show what a run would dispose of, today or --as-of DATE",
	  "plan [--as-of YYYY-MM-DD] [--json] [--out FILE [--key FILE]]\n"
	  "plan --compare DIR [--as-of YYYY-MM-DD] [--json]\nplan --keys RULE [--as-of YYYY-MM-DD]", NULL,
	  plan_options },
	{ "run", cmd_run, "dispose of what is due; --dry-run shows what it would do",
	  "run [--as-of YYYY-MM-DD] [--dry-run] [--json] [--max-rows-per-rule N]\n"
	  "    [--allow-future-as-of] [--allow-clock-jump] [--plan FILE] [--prometheus FILE]", NULL,
	  run_options },
	{ "erase", cmd_erase, "erase a data subject's data, keeping what must be kept",
	  "erase --subject KEY [--received YYYY-MM-DD] [--dry-run] [--json] [--lang fi|sv|en]"
	  " [--by PRINCIPAL]", NULL,
	  erase_options },
	{ "hold", cmd_hold, "legal holds: add, list, release",
	  "hold add --reason TEXT (--subject KEY | --rule NAME [--where SQL]) [--until YYYY-MM-DD]\n"
	  "    [--by NAME]\nhold list [--json]\nhold release ID --reason TEXT [--by NAME]", "add list release", hold_options },
	{ "requests", cmd_requests, "the register of requests: list, add, extend (GDPR 12(3))",
	  "requests [list] [--json]\n"
	  "requests add --kind access|erasure --subject KEY [--received YYYY-MM-DD]\n"
	  "requests extend ID --until YYYY-MM-DD --reason TEXT", "list add extend", requests_options },
	{ "access", cmd_access, "export a data subject's data and what is kept, why and until when",
	  "access --subject KEY --output FILE.zip|FILE.tar.gz [--received YYYY-MM-DD]\n"
	  "    [--lang fi|sv|en] [--by PRINCIPAL]", NULL,
	  access_options },
	{ "replay", cmd_replay, "after a restore from a backup, erase again what was erased since",
	  "replay [--dry-run] [--json] [--by PRINCIPAL]", NULL, replay_options },
	{ "suppressed", cmd_suppressed, "exit 0 when a contact value is on the suppression list",
	  "suppressed VALUE", NULL, no_options },
	{ "demo", cmd_demo, "write the reference shop's register and a lethe.yaml into DIR",
	  "demo DIR [--customers N] [--seed N] [--policies DIR] [--database URI]", NULL,
	  demo_options },
	{ "init", cmd_init, "create a site in DIR: lethe.yaml, keys, evidence repository",
	  "init DIR [--database FILE|URI] [--policies DIR]", NULL, init_options },
	{ "verify", cmd_verify, "check the evidence repository's signatures and records",
	  "verify [--allowed-signers FILE] [--json] [--expect-at-least NNNNNNNN]\n"
	  "    [--expect-head COMMIT] [--expect-from-register] [REPOSITORY]", NULL, verify_options },
	{ "status", cmd_status, "the last run, what becomes due soon, unpushed evidence, warnings",
	  "status [--as-of YYYY-MM-DD] [--json] [--exit-code]", NULL, status_options },
	{ "approve", cmd_approve, "approve the policy set in force with an approver's own key",
	  "approve --key FILE --reason TEXT [--json]", NULL, approve_options },
	{ "prove", cmd_prove, "write a proof of what the evidence says about one data subject",
	  "prove --subject KEY --output FILE [--as-of YYYY-MM-DD]", NULL, prove_options },
	{ "verify-proof", cmd_verify_proof, "check a subject's proof offline with the allowed signers",
	  "verify-proof FILE --allowed-signers FILE [--pseudonym-key FILE] [--json]", NULL,
	  verify_proof_options },
	{ "report", cmd_report, "write the compliance report: a static HTML page over evidence and plan",
	  "report --html DIR [--since YYYY-MM-DD] [--as-of YYYY-MM-DD] [--language en|fi|sv] [--json]",
	  NULL, report_options },
	{ "digest", cmd_digest, "a row's or subject's keyed digest, and the runs that disposed of it",
	  "digest (--table NAME | --rule NAME) --key KEY [--json]\ndigest --subject KEY [--json]", NULL,
	  digest_options },
	{ "notice", cmd_notice, "write the privacy notice or the GDPR 30 record of processing",
	  "notice [--record] [--format md|html] [--lang fi|sv|en] [--policies DIR] [--output FILE]",
	  NULL, notice_options },
	{ "help", NULL, "this list, or a command's options", "help [COMMAND]", NULL, no_options },
	{ "completion", NULL, "the completion script for bash, zsh or fish",
	  "completion bash|zsh|fish", "bash zsh fish", completion_options },
	{ NULL, NULL, NULL, NULL, NULL, NULL }
};

/* Blocks of MAP_FROM bytes or more are mapped and go back to the system when
 * freed. glibc's default raises that threshold to the largest block freed,
 * after which a run's batch arrays (megabytes each, freed after every
 * batch) come from the heap, which gives memory back only from its top: a
 * run's resident memory then stays at the largest it ever was, with the
 * batch arrays of one moment on top of the caches of another. Setting the
 * threshold turns that raising off. */
#define MAP_FROM (128 * 1024)

int main(int argc, char **argv)
{
	(void)mallopt(M_MMAP_THRESHOLD, MAP_FROM);
	return cli_main(argc, argv);
}
