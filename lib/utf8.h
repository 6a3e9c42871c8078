/* utf8.h - UTF-8 validation and the terminal sanitiser.
 *
 * Everything that came from mail passes pn_sanitize_term() before it
 * reaches a terminal: no escape sequence, C0/C1 control, DEL, bidi
 * override or invalid byte from a message may change what the terminal
 * does.  Replacements are visible (U+FFFD for invalid bytes, U+241B-style
 * control pictures for controls) so nothing is silently hidden.
 */
#ifndef PN_UTF8_H
#define PN_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Decode one code point at s.  Returns the number of bytes used (1-4) and
 * sets *cp_out; returns 0 for an invalid or truncated sequence (overlong
 * forms, surrogates and values above U+10FFFF are invalid). */
int pn_utf8_decode(const char *s, size_t len, uint32_t *cp_out);
/* Encode cp into out (at least 4 bytes); returns bytes written, 0 if cp is
 * not a Unicode scalar value. */
int pn_utf8_encode(uint32_t cp, char *out);
bool pn_utf8_valid(const char *s, size_t len);
/* Append ISO-8859-1 bytes as UTF-8. */
int pn_latin1_to_utf8(const char *s, size_t len, struct pn_buf *out) PN_WUR;
/* Append s to out, replacing each invalid UTF-8 byte with U+FFFD. */
int pn_utf8_repair(const char *s, size_t len, struct pn_buf *out) PN_WUR;

enum pn_sanitize_flags {
	PN_SAN_KEEP_NEWLINE = 1 << 0,	/* keep LF (CRLF becomes LF) */
	PN_SAN_KEEP_TAB = 1 << 1,	/* keep HT */
};

/* Append a terminal-safe rendering of s (bytes of any kind) to out:
 * - invalid UTF-8 bytes become U+FFFD;
 * - C0 controls, DEL and C1 controls (U+0080-U+009F) become their control
 *   picture (U+2400 + c, U+2421 for DEL) or U+FFFD for C1, except LF/HT
 *   when the flags keep them; a lone CR is dropped;
 * - ESC never passes, so no CSI/OSC/DCS sequence survives;
 * - bidi embedding/override/isolate controls (U+202A-U+202E,
 *   U+2066-U+2069), U+200E/U+200F and U+FEFF are dropped.
 * Returns 0, or -1 if out cannot grow. */
int pn_sanitize_term(const char *s, size_t len, unsigned flags,
		     struct pn_buf *out) PN_WUR;

#endif
