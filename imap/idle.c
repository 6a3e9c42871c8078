/* idle.c - IDLE (RFC 2177): start, receive pushes through imap_poll,
 * DONE.  Servers drop an idle client after 30 minutes (RFC 2177 says to
 * re-issue IDLE at least every 29), so imap_poll re-IDLEs on a timer. */
#include "imap_p.h"

#include <stdint.h>

#define DEFAULT_REIDLE_S 1740

int imap_idle_start(struct imap_conn *c, unsigned reidle_s,
		    struct pn_error *err)
{
	return imap_idle_start_tagged(c, NULL, reidle_s, err);
}

int imap_idle_start_tagged(struct imap_conn *c, const char *tag,
			   unsigned reidle_s, struct pn_error *err)
{
	struct pn_error tmp;
	struct imap_result res;
	struct imap_cmd *cmd;
	int rc;

	if (!err)
		err = &tmp;
	if (c->idle_cmd)
		return pn_error_set(err, PN_EINVAL, "IDLE: already idling");
	if (!imap_caps_has(c->caps, "IDLE"))
		return pn_error_set(err, PN_EUNSUPPORTED, "IDLE: %s does not "
				    "offer IDLE", c->peer);
	cmd = imap_cmd_new(c, "IDLE", tag);
	if (!cmd)
		return pn_error_set(err, PN_ENOMEM, "out of memory");
	c->got_continue = false;
	if (imap_cmd_send(cmd, err) < 0)
		return -1;
	rc = imap_cmd_wait_continue(cmd, err);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		/* Refused: the tagged NO/BAD is already here. */
		if (imap_cmd_wait(cmd, &res, err) < 0)
			return -1;
		return imap_cmd_result_error("IDLE", &res, err);
	}
	c->idle_cmd = cmd;
	c->reidle_s = reidle_s ? reidle_s : DEFAULT_REIDLE_S;
	c->idle_since_ms = imap_now_ms();
	return 0;
}

int imap_idle_done(struct imap_conn *c, struct pn_error *err)
{
	struct pn_error tmp;
	struct imap_result res;
	struct imap_cmd *cmd = c->idle_cmd;

	if (!err)
		err = &tmp;
	if (!cmd)
		return pn_error_set(err, PN_EINVAL, "IDLE: not idling");
	c->idle_cmd = NULL;
	if (imap_conn_send_line(c, "DONE", 4, false, err) < 0 ||
	    imap_cmd_wait(cmd, &res, err) < 0)
		return -1;
	return imap_cmd_result_error("IDLE", &res, err);
}

unsigned imap_idle_due_ms(const struct imap_conn *c)
{
	double left;

	if (!c->idle_cmd)
		return UINT32_MAX;
	left = c->idle_since_ms + c->reidle_s * 1000.0 - imap_now_ms();
	return left <= 0 ? 0 : (unsigned)left;
}

int imap_idle_tick(struct imap_conn *c, struct pn_error *err)
{
	unsigned reidle = c->reidle_s;

	if (!c->idle_cmd || imap_idle_due_ms(c) > 0)
		return 0;
	imap_trace_note(c, "re-IDLE after %u s", reidle);
	if (imap_idle_done(c, err) < 0)
		return -1;
	return imap_idle_start(c, reidle, err);
}
