/* qp.h - streaming quoted-printable (RFC 2045 6.7) for bodies.
 *
 * The decoder undoes =XX and soft line breaks ("=" before CRLF or LF, with
 * optional transport padding between), strips trailing whitespace before a
 * hard line break (rule 3), and passes malformed escapes through literally
 * counting them in `bad` (RFC 2045 6.7 note: be robust).  Line endings are
 * kept as they are in the input.
 */
#ifndef PN_QP_H
#define PN_QP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pn_qp_decoder {
	char held[80];	/* undecided bytes: '=' + 0-1 hex, or trailing WS */
	size_t nheld;
	uint64_t bad;
};

void pn_qp_decoder_init(struct pn_qp_decoder *d);
/* Decode into out, which must hold len + sizeof(d->held) bytes. */
size_t pn_qp_decode(struct pn_qp_decoder *d, const char *in, size_t len,
		    char *out);
/* End of input: flushes held bytes (a dangling '=' is a soft break). */
size_t pn_qp_decode_finish(struct pn_qp_decoder *d, char *out);
#define PN_QP_DECODED_MAX(n) ((n) + 80)

struct pn_qp_encoder {
	size_t col;
	bool binary;		/* CR and LF are data, encoded as =0D =0A */
	bool pending_cr;	/* text mode: saw CR, waiting to see LF */
	char ws;		/* held trailing space/tab, 0 if none */
	const char *eol;
};

/* Text mode (binary = false): input line breaks (CRLF or LF) become eol.
 * Output lines are at most 76 characters, soft breaks as "=" eol. */
void pn_qp_encoder_init(struct pn_qp_encoder *e, bool binary, const char *eol);
/* out must hold pn_qp_encoded_max(len) bytes. */
size_t pn_qp_encoded_max(size_t len);
size_t pn_qp_encode(struct pn_qp_encoder *e, const char *in, size_t len,
		    char *out);
/* Flush held state.  out must hold 16 bytes. */
size_t pn_qp_encode_finish(struct pn_qp_encoder *e, char *out);

#endif
