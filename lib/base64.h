/* base64.h - streaming RFC 4648 base64 (RFC 2045 body rules).
 *
 * The decoder is fed any chunk size and keeps partial quanta between
 * calls.  Bytes outside the alphabet are skipped (RFC 2045 6.8 says so);
 * whitespace silently, anything else counted in `bad` so the caller can
 * record a defect.  Data after '=' padding is decoded as a new quantum
 * (real mail concatenates encoded blocks) and counted in `bad`.
 */
#ifndef PN_BASE64_H
#define PN_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pn_b64_decoder {
	uint32_t acc;
	int nchars;	/* sextets in acc (0-3) */
	int npad;	/* '=' seen in the current quantum */
	uint64_t bad;	/* non-alphabet, non-whitespace bytes skipped */
};

void pn_b64_decoder_init(struct pn_b64_decoder *d);
/* Decode len bytes into out, which must hold PN_B64_DECODED_MAX(len)
 * bytes.  Returns the number of bytes written. */
size_t pn_b64_decode(struct pn_b64_decoder *d, const char *in, size_t len,
		     char *out);
#define PN_B64_DECODED_MAX(n) ((n) / 4 * 3 + 3)
/* End of input: writes the bytes of a final unpadded quantum (at most 2),
 * returns how many; *truncated_out is set when a lone sextet remained
 * (not decodable).  The decoder is ready for a new stream afterwards;
 * `bad` keeps its count until pn_b64_decoder_init. */
size_t pn_b64_decode_finish(struct pn_b64_decoder *d, char *out,
			    bool *truncated_out);

struct pn_b64_encoder {
	unsigned char pend[3];
	int npend;
	size_t col;		/* characters on the current output line */
	size_t line_len;	/* 0: no line breaks; RFC 2045 bodies use 76 */
	const char *eol;	/* "\r\n" or "\n" */
};

void pn_b64_encoder_init(struct pn_b64_encoder *e, size_t line_len,
			 const char *eol);
/* Worst-case output size of encoding n bytes (including line breaks). */
size_t pn_b64_encoded_max(const struct pn_b64_encoder *e, size_t n);
size_t pn_b64_encode(struct pn_b64_encoder *e, const char *in, size_t len,
		     char *out);
/* Flush padding and, when line_len > 0 and the line is not empty, a final
 * eol.  out needs 4 + strlen(eol) bytes. */
size_t pn_b64_encode_finish(struct pn_b64_encoder *e, char *out);

#endif
