/* harness.h - the C side of tests/integration/dovecot.py: start a
 * throwaway Dovecot on 127.0.0.1, read what it printed, stop it by PID.
 *
 * With POSTERN_TEST_DOVECOT set to an info.json (dovecot.py run ...), the
 * running instance is used and left running.
 */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct harness {
	bool started;		/* we started it: we stop it */
	bool ok;		/* usable; else why says what failed */
	char why[1024];
	char dir[512];
	char host[64];
	uint16_t imap_port, imaps_port;	/* STARTTLS offered / implicit */
	char user[64], password[128];	/* alice */
	char user2[64], password2[128];	/* bob */
	char ca[512];		/* CA that signed the server certificate */
	char self_signed_cert[512], self_signed_key[512];
	char wrong_host_cert[512], wrong_host_key[512];
	char server_cert[512], server_key[512];
	char mail_root[512];
	char config[512];
	char preauth_cmd[1024];	/* PREAUTH as alice over stdin/stdout */
	int pid;
};

/* Start (or attach to) Dovecot.  0, or -1 with h->why filled. */
int harness_start(struct harness *h);
/* Stop what we started and remove its directory. */
void harness_stop(struct harness *h);

/* Small helpers for tests: read a whole file (malloc'd, NUL-terminated). */
char *harness_slurp(const char *path, size_t *len_out);

#endif
