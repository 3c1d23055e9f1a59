/*
 * util: allocation that never fails, string views, arenas and clocks.
 *
 * Out of memory is fatal in lb (x* functions abort with a message), so callers
 * never check for NULL from them. A string view (struct sv) borrows bytes it
 * does not own and is not NUL-terminated.
 */
#ifndef LB_UTIL_H
#define LB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grows *v (elements of size) so that it holds at least need; returns new capacity. */
void xgrow(void *v, size_t *cap, size_t need, size_t size);

struct sv {
	const char *p;
	size_t n;
};

#define SV(lit) ((struct sv){ (lit), sizeof(lit) - 1 })

/* An http(s) URL split: scheme://host[:port][/path?query]. */
struct url_parts {
	bool https;
	int port;             /* 443 or 80 when the URL names none */
	const char *path;     /* into the URL, with its query; "/" when it has no path */
	struct sv authority;  /* host[:port] as written, for the Host header */
	char host[256];       /* NUL-terminated, without an IPv6 literal's brackets */
};

/* Returns 0, or -1 when the host is empty or too long or the port out of range. */
int url_split(const char *url, struct url_parts *u);
#define SV_NULL ((struct sv){ NULL, 0 })
/* printf("%.*s", SV_ARG(v)) */
#define SV_ARG(v) (int)(v).n, (v).p

struct sv sv_from(const char *s);
bool sv_eq(struct sv a, struct sv b);
bool sv_eq_nocase(struct sv a, struct sv b);
bool sv_eq_cstr(struct sv a, const char *s);
bool sv_eq_cstr_nocase(struct sv a, const char *s);
bool sv_starts_with_nocase(struct sv a, const char *prefix);
/* Trims spaces and horizontal tabs on both ends. */
struct sv sv_trim(struct sv a);
/* Splits at the first c: *head gets what precedes it; returns what follows it
 * (SV_NULL with p == NULL when c is absent, and *head is all of a). */
struct sv sv_cut(struct sv a, char c, struct sv *head);
/* The line of text starting at *pos, without its "\n" or "\r\n"; *pos moves past
 * it. False once *pos is at the end. */
bool sv_next_line(struct sv text, size_t *pos, struct sv *line);
/* Parses a decimal unsigned number that fills a entirely; -1 on anything else. */
int sv_to_u64(struct sv a, uint64_t *out);
char *sv_dup(struct sv a);

static inline char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* RFC 9110 §5.6.2 tchar: what a token (a method, a header name) is made of. */
static inline bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Whether a is a token: one tchar or more. */
bool sv_is_token(struct sv a);

/*
 * An arena owns many small allocations freed together, e.g. everything a
 * loaded configuration points to. arena_release frees them all.
 */
struct arena {
	struct arena_chunk *head;
	struct arena_cleanup *cleanups;
};

void *arena_alloc(struct arena *a, size_t n);   /* zeroed, 16-byte aligned */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Runs fn(p) when the arena is released (last registered, first run): for
 * objects a library allocates itself, such as compiled regexes. */
void arena_defer(struct arena *a, void (*fn)(void *), void *p);
void arena_release(struct arena *a);

/* Microseconds: monotonic for durations, wall clock for timestamps. */
int64_t time_mono_us(void);
int64_t time_wall_us(void);
/* "2026-11-28T07:11:35.123456Z" into out (at least 28 bytes). */
void time_iso8601_us(int64_t wall_us, char out[28]);
/* "Sat, 28 Nov 2026 07:11:35 GMT" into out (at least 30 bytes). */
void time_http_date(int64_t wall_s, char out[30]);

/* s into out (size bytes, size >= 1), cut to fit, always NUL-terminated;
 * returns the length copied. snprintf("%s") without the format parsing. */
size_t str_copy(char *out, size_t size, const char *s);
/* The strings up to a NULL, one after another, in a new allocation. */
char *str_join(const char *s, ...) __attribute__((sentinel));

/* Lower-case hex of n bytes into out (2n bytes plus NUL). */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* v in decimal, NUL-terminated; returns its length. */
size_t dec_u64(uint64_t v, char out[21]);
/* us (>= 0) as milliseconds with two decimals ("1234.57"), half a hundredth up. */
size_t dec_ms2(int64_t us, char out[24]);

/* A small fast PRNG (xoshiro256**), seeded from the kernel. Not for secrets. */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r);
void rng_seed_fixed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
void rng_bytes(struct rng *r, uint8_t *out, size_t n);
/* A random UUID (version 4), the form of Lambda's request ids: 36 characters and a NUL. */
void rng_uuid(struct rng *r, char out[37]);
/* Uniform double in [0, 1). */
double rng_unit(struct rng *r);

#endif
