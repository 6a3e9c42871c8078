/* account_cmd.c - `postern accounts`: check the config file and show
 * what each account would do, without connecting or running anything.
 *
 * The password source is shown as the argv that would be executed, so a
 * quoting mistake in password_command is visible before it matters.
 */
#include "cli.h"

#include <string.h>
#include <unistd.h>

#include "../imap/imap.h"

static const char CMD[] = "postern accounts";

static const char *tls_name(int tls)
{
	switch (tls) {
	case IMAP_TLS_IMPLICIT: return "implicit";
	case IMAP_TLS_STARTTLS: return "starttls";
	case IMAP_TLS_NONE: return "none";
	}
	return "default";
}

static const char *pw_source(const struct cli_account *a)
{
	if (a->password_argv)
		return "command";
	if (a->netrc)
		return "netrc";
	if (a->password)
		return "config";
	return a->tunnel ? "none" : "prompt";
}

static void json_account(struct cli_json *j, const struct cli_account *a)
{
	size_t i;

	cli_json_obj_begin(j);
	cli_json_key(j, "name");
	cli_json_str(j, a->name);
	cli_json_key(j, "host");
	cli_json_str(j, a->host);
	cli_json_key(j, "port");
	if (a->port)
		cli_json_u64(j, a->port);
	else
		cli_json_null(j);
	cli_json_key(j, "tunnel");
	cli_json_str(j, a->tunnel);
	cli_json_key(j, "tls");
	cli_json_str(j, tls_name(a->tls));
	cli_json_key(j, "user");
	cli_json_str(j, a->user);
	cli_json_key(j, "auth");
	cli_json_str(j, a->auth ? a->auth : "auto");
	cli_json_key(j, "password");
	cli_json_str(j, pw_source(a));
	cli_json_key(j, "password_command");
	if (a->password_argv) {
		cli_json_arr_begin(j);
		for (i = 0; a->password_argv[i]; i++)
			cli_json_str(j, a->password_argv[i]);
		cli_json_arr_end(j);
	} else {
		cli_json_null(j);
	}
	cli_json_key(j, "mailbox");
	cli_json_str(j, a->mailbox);
	cli_json_obj_end(j);
	cli_json_newline(j);
}

static void plain_account(struct cli_json *j, const struct cli_account *a)
{
	bool tty = isatty(STDOUT_FILENO);
	size_t i;

	cli_puts(stdout, tty, a->name);
	fputs(": ", stdout);
	if (a->tunnel) {
		fputs("tunnel ", stdout);
		cli_puts(stdout, tty, a->tunnel);
	} else {
		cli_puts(stdout, tty, a->host);
		if (a->port)
			printf(":%u", a->port);
	}
	printf(", tls %s, user ", tls_name(a->tls));
	cli_puts(stdout, tty, a->user ? a->user : "-");
	printf(", auth %s, password %s", a->auth ? a->auth : "auto",
	       pw_source(a));
	if (a->password_argv) {
		fputs(" ", stdout);
		cli_json_arr_begin(j);
		for (i = 0; a->password_argv[i]; i++)
			cli_json_str(j, a->password_argv[i]);
		cli_json_arr_end(j);
	}
	putchar('\n');
}

static int run(bool json)
{
	struct cli_config cfg = { 0 };
	struct cli_json j;
	struct pn_error err;
	char path[4096];
	size_t i;

	pn_error_clear(&err);
	if (cli_config_path(path, sizeof(path), &err) < 0 ||
	    cli_config_load(CMD, path, &cfg, &err) < 0) {
		cli_error(CMD, "%s", err.msg);
		if (cfg.path)
			cli_config_free(&cfg);
		return CLI_FAIL;
	}
	if (!cfg.found) {
		cli_error(CMD, "no config file %s (see postern-config(5))", path);
		cli_config_free(&cfg);
		return CLI_FAIL;
	}
	for (i = 0; i < cfg.n; i++) {
		cli_json_init(&j, stdout);
		if (json)
			json_account(&j, &cfg.acc[i]);
		else
			plain_account(&j, &cfg.acc[i]);
	}
	cli_config_free(&cfg);
	return cli_finish_stdout(CMD, CLI_OK);
}

int cli_accounts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			cli_help(CMD, stdout);
			return CLI_OK;
		default:
			return cli_getopt_error(CMD, c, argv, opts);
		}
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	return run(json);
}
