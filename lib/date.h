/* date.h - RFC 5322 dates and IMAP INTERNALDATE, both ways.
 *
 * Times are a UTC time_t plus the zone offset in minutes east of UTC as
 * written in the input (so a date can be printed back in its own zone).
 */
#ifndef PN_DATE_H
#define PN_DATE_H

#include <stddef.h>
#include <time.h>

#include "error.h"

/* RFC 5322 3.3 date-time, with the obsolete forms of 4.3 that real mail
 * uses: optional day-of-week, two- and three-digit years, missing seconds,
 * named zones (UT, GMT, EST ... military letters count as -0000), comments
 * and folding whitespace.  Returns 0 or -1 with err set. */
int pn_date_parse(const char *s, size_t len, time_t *utc_out,
		  int *tzoff_min_out, struct pn_error *err) PN_WUR;
/* "Wed, 25 Nov 2026 16:21:03 +0000"; out must hold 32 bytes. */
void pn_date_format(time_t utc, int tzoff_min, char *out);

/* IMAP date-time (RFC 3501 "date-time"): "25-Nov-2026 16:21:03 +0000",
 * with or without the surrounding quotes, day possibly space-padded.
 * This is imaplib's Internaldate2tuple. */
int pn_internaldate_parse(const char *s, size_t len, time_t *utc_out,
			  int *tzoff_min_out, struct pn_error *err) PN_WUR;
/* imaplib's Time2Internaldate: `"25-Nov-2026 16:21:03 +0000"` including
 * the double quotes; out must hold 32 bytes. */
void pn_internaldate_format(time_t utc, int tzoff_min, char *out);

/* The local zone's offset from UTC at time t, in minutes. */
int pn_local_tzoff(time_t t);

#endif
