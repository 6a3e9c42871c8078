/* sv.h - string views: pointer plus length, owning nothing.
 *
 * Parsers hand these out pointing into their input; a view is valid as
 * long as the bytes it points at.
 */
#ifndef PN_SV_H
#define PN_SV_H

#include <stdbool.h>
#include <stddef.h>

struct pn_sv {
	const char *p;
	size_t len;
};

#define PN_SV_LIT(s) ((struct pn_sv){ (s), sizeof(s) - 1 })

struct pn_sv pn_sv_from(const char *s);	/* from a C string (NULL -> empty) */
struct pn_sv pn_sv_make(const char *p, size_t len);
bool pn_sv_eq(struct pn_sv a, struct pn_sv b);
bool pn_sv_eq_ci(struct pn_sv a, struct pn_sv b);	/* ASCII case-insensitive */
bool pn_sv_eq_cstr_ci(struct pn_sv a, const char *s);
bool pn_sv_starts_with_ci(struct pn_sv s, const char *prefix);
struct pn_sv pn_sv_trim(struct pn_sv s);	/* strip SP, HTAB, CR, LF both ends */
/* Split at the first byte c: returns the part before, leaves *s after it.
 * When c is absent the whole view is returned and *s becomes empty. */
struct pn_sv pn_sv_chop(struct pn_sv *s, char c);
/* Index of c in s or -1. */
long pn_sv_find(struct pn_sv s, char c);
/* malloc'd NUL-terminated copy, NULL on allocation failure. */
char *pn_sv_dup(struct pn_sv s);
/* malloc'd ASCII-lower-cased copy. */
char *pn_sv_dup_lower(struct pn_sv s);

#endif
