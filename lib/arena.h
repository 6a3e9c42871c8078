/* arena.h - many small allocations with one lifetime, released at once. */
#ifndef PN_ARENA_H
#define PN_ARENA_H

#include <stddef.h>

struct pn_arena;

struct pn_arena *pn_arena_new(void);
/* Zeroed, 16-byte aligned memory valid until pn_arena_free(); NULL on
 * allocation failure. */
void *pn_arena_alloc(struct pn_arena *a, size_t n);
char *pn_arena_strndup(struct pn_arena *a, const char *s, size_t n);
char *pn_arena_strdup(struct pn_arena *a, const char *s);
/* Forget every allocation but keep the first block for reuse: the
 * per-response pattern of a parser, without a malloc/free each time. */
void pn_arena_reset(struct pn_arena *a);
/* Total bytes handed out (for tests and limits). */
size_t pn_arena_used(const struct pn_arena *a);
void pn_arena_free(struct pn_arena **a);

#endif
