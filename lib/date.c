#include "date.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char wdays[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

/* A cursor over the input; what names the parser in error messages. */
struct cur {
	const char *s;
	size_t len, pos;
	const char *what;
	struct pn_error *err;
};

/* The offending token: its first byte, then up to the next blank,
 * comment or separator. */
static int token_len(const struct cur *c, size_t at)
{
	size_t n = 1;

	while (at + n < c->len && n < 20 && !strchr(" \t\r\n(,:-\"",
						   c->s[at + n]))
		n++;
	return (int)n;
}

static int fail_at(struct cur *c, size_t at, const char *problem)
{
	if (at >= c->len)
		return pn_error_set(c->err, PN_EPARSE, "%s: %s at end",
				    c->what, problem);
	pn_error_set(c->err, PN_EPARSE, "%s: %s '%.*s'", c->what, problem,
		     token_len(c, at), c->s + at);
	return pn_error_at(c->err, (int64_t)at, 0);
}

static int peek(const struct cur *c)
{
	return c->pos < c->len ? (unsigned char)c->s[c->pos] : -1;
}

static int expect(struct cur *c, char ch)
{
	if (peek(c) == (unsigned char)ch) {
		c->pos++;
		return 0;
	}
	if (c->pos >= c->len)
		return pn_error_set(c->err, PN_EPARSE,
				    "%s: expected '%c' at end", c->what, ch);
	pn_error_set(c->err, PN_EPARSE, "%s: expected '%c', found '%.*s'",
		     c->what, ch, token_len(c, c->pos), c->s + c->pos);
	return pn_error_at(c->err, (int64_t)c->pos, 0);
}

/* RFC 5322 3.2.2 CFWS: folding white space and nested comments with
 * quoted-pairs. */
static int skip_cfws(struct cur *c)
{
	for (;;) {
		int ch = peek(c);

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
			c->pos++;
		} else if (ch == '(') {
			size_t start = c->pos, depth = 0;

			do {
				ch = peek(c);
				if (ch < 0)
					return fail_at(c, start,
						       "unterminated comment");
				if (ch == '\\')
					c->pos++;
				else if (ch == '(')
					depth++;
				else if (ch == ')')
					depth--;
				c->pos++;
			} while (depth > 0);
		} else {
			return 0;
		}
	}
}

/* A run of letters; returns its length. */
static size_t word(struct cur *c)
{
	size_t start = c->pos;

	while (c->pos < c->len && isalpha((unsigned char)c->s[c->pos]))
		c->pos++;
	return c->pos - start;
}

/* A run of digits, at most 9 (more is an error for every field). */
static int number(struct cur *c, int *val_out, size_t *ndigits_out)
{
	size_t start = c->pos;
	int v = 0;

	while (c->pos < c->len && isdigit((unsigned char)c->s[c->pos]) &&
	       c->pos - start < 9)
		v = v * 10 + (c->s[c->pos++] - '0');
	*val_out = v;
	*ndigits_out = c->pos - start;
	if (c->pos < c->len && isdigit((unsigned char)c->s[c->pos]))
		return -1;
	return *ndigits_out > 0 ? 0 : -1;
}

static int month_index(const char *p, size_t n)
{
	if (n != 3)
		return -1;
	for (int i = 0; i < 12; i++)
		if (strncasecmp(p, months[i], 3) == 0)
			return i;
	return -1;
}

static bool is_wday(const char *p, size_t n)
{
	static const char *const full[7] = {
		"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
		"Friday", "Saturday",
	};

	for (int i = 0; i < 7; i++)
		if ((n == 3 && strncasecmp(p, wdays[i], 3) == 0) ||
		    (n == strlen(full[i]) && strncasecmp(p, full[i], n) == 0))
			return true;
	return false;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in(int year, int mon)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30,
				   31, 31, 30, 31, 30, 31 };

	return d[mon] + (mon == 1 && leap(year));
}

/* RFC 5322 4.3 obs-zone: named US zones; military letters carry no
 * reliable information (RFC 1123 5.2.14), so they count as -0000. */
static int named_zone(const char *p, size_t n, int *off_out)
{
	static const struct {
		const char *name;
		int hours;
	} z[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "UTC", 0 }, { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};

	for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++) {
		if (n == strlen(z[i].name) &&
		    strncasecmp(p, z[i].name, n) == 0) {
			*off_out = z[i].hours * 60;
			return 0;
		}
	}
	if (n == 1 && toupper((unsigned char)*p) != 'J') {
		*off_out = 0;
		return 0;
	}
	return -1;
}

struct fields {
	int year, mon, day, hour, min, sec, off;
};

static int zone(struct cur *c, int *off_out)
{
	size_t at = c->pos, nd, n;
	int ch = peek(c), v;

	if (ch == '+' || ch == '-') {
		c->pos++;
		if (number(c, &v, &nd) < 0 || nd != 4 || v / 100 > 23 ||
		    v % 100 > 59)
			return fail_at(c, at, "bad zone");
		*off_out = (v / 100 * 60 + v % 100) * (ch == '-' ? -1 : 1);
		return 0;
	}
	if (ch < 0) {
		/* No zone at all: as good as -0000 (RFC 5322 3.3). */
		*off_out = 0;
		return 0;
	}
	n = word(c);
	if (n == 0 || named_zone(c->s + at, n, off_out) < 0)
		return fail_at(c, at, "bad zone");
	return 0;
}

/* RFC 5322 4.3 obs-year: two digits are 1950-2049, three add 1900. */
static int year(struct cur *c, int *year_out)
{
	size_t at = c->pos, nd;
	int v;

	if (number(c, &v, &nd) < 0 || nd < 2 || nd > 4)
		return fail_at(c, at, "bad year");
	if (nd == 2)
		v += v < 50 ? 2000 : 1900;
	else if (nd == 3)
		v += 1900;
	*year_out = v;
	return 0;
}

/* Hour ":" minute [":" second], CFWS allowed around ':' (obs-time). */
static int time_of_day(struct cur *c, struct fields *f)
{
	size_t at = c->pos, nd;

	if (number(c, &f->hour, &nd) < 0 || nd > 2 || f->hour > 23)
		return fail_at(c, at, "bad hour");
	if (skip_cfws(c) < 0)
		return -1;
	if (peek(c) != ':')
		return expect(c, ':');
	c->pos++;
	if (skip_cfws(c) < 0)
		return -1;
	at = c->pos;
	if (number(c, &f->min, &nd) < 0 || nd > 2 || f->min > 59)
		return fail_at(c, at, "bad minute");
	f->sec = 0;
	if (skip_cfws(c) < 0)
		return -1;
	if (peek(c) != ':')
		return 0;	/* seconds are optional */
	c->pos++;
	if (skip_cfws(c) < 0)
		return -1;
	at = c->pos;
	/* 60 is a leap second (RFC 5322 3.3); timegm carries it over. */
	if (number(c, &f->sec, &nd) < 0 || nd > 2 || f->sec > 60)
		return fail_at(c, at, "bad second");
	return 0;
}

/* [day-of-week [","]] day month year */
static int calendar_date(struct cur *c, struct fields *f)
{
	size_t at = c->pos, nd, n, day_at;

	if (peek(c) >= 0 && isalpha(peek(c))) {
		n = word(c);
		if (!is_wday(c->s + at, n))
			return fail_at(c, at, "bad day-of-week");
		if (skip_cfws(c) < 0)
			return -1;
		if (peek(c) == ',')
			c->pos++;
		if (skip_cfws(c) < 0)
			return -1;
	}
	day_at = c->pos;
	if (number(c, &f->day, &nd) < 0 || nd > 2 || f->day < 1)
		return fail_at(c, day_at, "bad day");
	if (skip_cfws(c) < 0)
		return -1;
	at = c->pos;
	f->mon = month_index(c->s + at, word(c));
	if (f->mon < 0)
		return fail_at(c, at, "bad month");
	if (skip_cfws(c) < 0 || year(c, &f->year) < 0)
		return -1;
	if (f->day > days_in(f->year, f->mon))
		return fail_at(c, day_at, "bad day");
	return 0;
}

static void to_utc(const struct fields *f, time_t *utc_out, int *tzoff_out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = f->year - 1900;
	tm.tm_mon = f->mon;
	tm.tm_mday = f->day;
	tm.tm_hour = f->hour;
	tm.tm_min = f->min;
	tm.tm_sec = f->sec;
	*utc_out = timegm(&tm) - (time_t)f->off * 60;
	if (tzoff_out)
		*tzoff_out = f->off;
}

int pn_date_parse(const char *s, size_t len, time_t *utc_out,
		  int *tzoff_min_out, struct pn_error *err)
{
	struct cur c = { s, len, 0, "date", err };
	struct fields f = { 0 };

	if (skip_cfws(&c) < 0 || calendar_date(&c, &f) < 0 ||
	    skip_cfws(&c) < 0 || time_of_day(&c, &f) < 0 ||
	    skip_cfws(&c) < 0 || zone(&c, &f.off) < 0 || skip_cfws(&c) < 0)
		return -1;
	if (c.pos < len)
		return fail_at(&c, c.pos, "junk after date");
	to_utc(&f, utc_out, tzoff_min_out);
	return 0;
}

/* Split a zone offset into sign, hours and minutes, clamped to what
 * the 4-digit form can say. */
static void zone_parts(int tzoff, char *sign, int *h, int *m)
{
	*sign = tzoff < 0 ? '-' : '+';
	if (tzoff < 0)
		tzoff = -tzoff;
	if (tzoff > 99 * 60 + 59)
		tzoff = 99 * 60 + 59;
	*h = tzoff / 60;
	*m = tzoff % 60;
}

/* Broken-down local time of utc in the zone; false when out of range. */
static bool local_tm(time_t utc, int tzoff, struct tm *tm)
{
	time_t t = utc + (time_t)tzoff * 60;

	return gmtime_r(&t, tm) && tm->tm_year >= -1900 &&
	       tm->tm_year <= 9999 - 1900;
}

void pn_date_format(time_t utc, int tzoff_min, char *out)
{
	struct tm tm;
	char sign;
	int h, m;

	if (!local_tm(utc, tzoff_min, &tm)) {
		tzoff_min = 0;
		local_tm(0, 0, &tm);
	}
	zone_parts(tzoff_min, &sign, &h, &m);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d",
		 wdays[tm.tm_wday % 7], tm.tm_mday % 100,
		 months[tm.tm_mon % 12], (tm.tm_year + 1900) % 10000,
		 tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100, sign,
		 h % 100, m % 100);
}

/* Exactly ndigits digits, at most max. */
static int fixed(struct cur *c, size_t ndigits, int max, int *out,
		 const char *problem)
{
	size_t at = c->pos, nd;

	if (number(c, out, &nd) < 0 || nd != ndigits || *out > max)
		return fail_at(c, at, problem);
	return 0;
}

/* RFC 3501 9: date-time = DQUOTE date-day-fixed "-" date-month "-"
 * date-year SP time SP zone DQUOTE; date-day-fixed = (SP DIGIT) / 2DIGIT.
 * A one-digit day without the space is accepted too. */
static int imap_date(struct cur *c, struct fields *f)
{
	size_t at, nd, day_at;

	if (peek(c) == ' ')
		c->pos++;
	day_at = c->pos;
	if (number(c, &f->day, &nd) < 0 || nd > 2 || f->day < 1)
		return fail_at(c, day_at, "bad day");
	if (expect(c, '-') < 0)
		return -1;
	at = c->pos;
	f->mon = month_index(c->s + at, word(c));
	if (f->mon < 0)
		return fail_at(c, at, "bad month");
	if (expect(c, '-') < 0 ||
	    fixed(c, 4, 9999, &f->year, "bad year") < 0)
		return -1;
	if (f->day > days_in(f->year, f->mon))
		return fail_at(c, day_at, "bad day");
	return 0;
}

int pn_internaldate_parse(const char *s, size_t len, time_t *utc_out,
			  int *tzoff_min_out, struct pn_error *err)
{
	struct cur c = { s, len, 0, "INTERNALDATE", err };
	struct fields f = { 0 };
	bool quoted = peek(&c) == '"';

	c.pos += quoted;
	if (imap_date(&c, &f) < 0 ||
	    expect(&c, ' ') < 0 ||
	    fixed(&c, 2, 23, &f.hour, "bad hour") < 0 ||
	    expect(&c, ':') < 0 ||
	    fixed(&c, 2, 59, &f.min, "bad minute") < 0 ||
	    expect(&c, ':') < 0 ||
	    fixed(&c, 2, 60, &f.sec, "bad second") < 0 ||
	    expect(&c, ' ') < 0)
		return -1;
	if (peek(&c) != '+' && peek(&c) != '-')
		return fail_at(&c, c.pos, "bad zone");
	if (zone(&c, &f.off) < 0)
		return -1;
	if (quoted && expect(&c, '"') < 0)
		return -1;
	if (c.pos < len)
		return fail_at(&c, c.pos, "junk after date");
	to_utc(&f, utc_out, tzoff_min_out);
	return 0;
}

void pn_internaldate_format(time_t utc, int tzoff_min, char *out)
{
	struct tm tm;
	char sign;
	int h, m;

	if (!local_tm(utc, tzoff_min, &tm)) {
		tzoff_min = 0;
		local_tm(0, 0, &tm);
	}
	zone_parts(tzoff_min, &sign, &h, &m);
	/* Day space-padded: RFC 3501 date-day-fixed. */
	snprintf(out, 32, "\"%2d-%s-%04d %02d:%02d:%02d %c%02d%02d\"",
		 tm.tm_mday % 100, months[tm.tm_mon % 12],
		 (tm.tm_year + 1900) % 10000, tm.tm_hour % 100, tm.tm_min % 100,
		 tm.tm_sec % 100, sign, h % 100, m % 100);
}

int pn_local_tzoff(time_t t)
{
	struct tm tm;

	if (!localtime_r(&t, &tm))
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}
