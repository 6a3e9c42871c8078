#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Blocks of at least 16 KiB; a larger request gets a block of its own. */
#define ARENA_BLOCK 16384

struct block {
	struct block *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct pn_arena {
	struct block *head;
	size_t total;
};

struct pn_arena *pn_arena_new(void)
{
	return calloc(1, sizeof(struct pn_arena));
}

/* Uninitialised memory: strndup fills it at once, so zeroing is waste. */
static void *alloc_raw(struct pn_arena *a, size_t n)
{
	struct block *b = a->head;
	size_t need = (n + 15) & ~(size_t)15;
	void *p;

	if (need < n)
		return NULL;
	if (!b || b->size - b->used < need) {
		size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;

		if (size > SIZE_MAX - sizeof(*b))
			return NULL;
		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->used = 0;
		b->size = size;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += need;
	a->total += n;
	return p;
}

void *pn_arena_alloc(struct pn_arena *a, size_t n)
{
	void *p = alloc_raw(a, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *pn_arena_strndup(struct pn_arena *a, const char *s, size_t n)
{
	/* n + 1 must not wrap to a zero-byte allocation. */
	char *p = n < SIZE_MAX ? alloc_raw(a, n + 1) : NULL;

	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *pn_arena_strdup(struct pn_arena *a, const char *s)
{
	return pn_arena_strndup(a, s, strlen(s));
}

void pn_arena_reset(struct pn_arena *a)
{
	struct block *b = a->head, *next;

	if (!b)
		return;
	/* Keep the oldest block of the default size; free the rest. */
	while (b->next) {
		next = b->next;
		free(b);
		b = next;
	}
	if (b->size != ARENA_BLOCK) {
		free(b);
		b = NULL;
	} else {
		b->used = 0;
	}
	a->head = b;
	a->total = 0;
}

size_t pn_arena_used(const struct pn_arena *a)
{
	return a->total;
}

void pn_arena_free(struct pn_arena **ap)
{
	struct block *b, *next;

	if (!*ap)
		return;
	for (b = (*ap)->head; b; b = next) {
		next = b->next;
		free(b);
	}
	free(*ap);
	*ap = NULL;
}
