/*
 * util: the few helpers every other file uses. No I/O beyond reading the clock
 * and the kernel's random source, no state beyond what callers pass in.
 */
#include "base/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

static void oom(size_t n)
{
	fprintf(stderr, "lb: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void xgrow(void *v, size_t *cap, size_t need, size_t size)
{
	void **pv = v;
	size_t c = *cap;

	if (need <= c)
		return;
	if (c < 8)
		c = 8;
	while (c < need)
		c *= 2;
	*pv = xrealloc(*pv, c * size);
	*cap = c;
}

struct sv sv_from(const char *s)
{
	return (struct sv){ s, s ? strlen(s) : 0 };
}

bool sv_eq(struct sv a, struct sv b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool sv_is_token(struct sv a)
{
	for (size_t i = 0; i < a.n; i++)
		if (!is_tchar((unsigned char)a.p[i]))
			return false;
	return a.n > 0;
}

bool sv_eq_nocase(struct sv a, struct sv b)
{
	return a.n == b.n && (a.n == 0 || strncasecmp(a.p, b.p, a.n) == 0);
}

bool sv_eq_cstr(struct sv a, const char *s)
{
	return sv_eq(a, sv_from(s));
}

/* Compares as it walks s (no strlen first): most calls differ at the first byte. */
bool sv_eq_cstr_nocase(struct sv a, const char *s)
{
	size_t i;

	for (i = 0; i < a.n; i++)
		if (!s[i] || ascii_lower(a.p[i]) != ascii_lower(s[i]))
			return false;
	return s[i] == '\0';
}

bool sv_starts_with_nocase(struct sv a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.n >= n && strncasecmp(a.p, prefix, n) == 0;
}

struct sv sv_trim(struct sv a)
{
	while (a.n && (a.p[0] == ' ' || a.p[0] == '\t')) {
		a.p++;
		a.n--;
	}
	while (a.n && (a.p[a.n - 1] == ' ' || a.p[a.n - 1] == '\t'))
		a.n--;
	return a;
}

struct sv sv_cut(struct sv a, char c, struct sv *head)
{
	const char *q = a.n ? memchr(a.p, c, a.n) : NULL;

	if (!q) {
		*head = a;
		return SV_NULL;
	}
	*head = (struct sv){ a.p, (size_t)(q - a.p) };
	return (struct sv){ q + 1, a.n - (size_t)(q - a.p) - 1 };
}

bool sv_next_line(struct sv text, size_t *pos, struct sv *line)
{
	size_t i = *pos, end;
	const char *nl;

	if (i >= text.n)
		return false;
	nl = memchr(text.p + i, '\n', text.n - i);
	end = nl ? (size_t)(nl - text.p) : text.n;
	*line = (struct sv){ text.p + i, end - i };
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	*pos = end + 1;
	return true;
}

int sv_to_u64(struct sv a, uint64_t *out)
{
	uint64_t v = 0;

	if (a.n == 0)
		return -1;
	for (size_t i = 0; i < a.n; i++) {
		unsigned d = (unsigned char)a.p[i] - '0';
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

char *sv_dup(struct sv a)
{
	return xstrndup(a.p ? a.p : "", a.n);
}

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	_Alignas(16) unsigned char mem[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 4000 ? n : 4000;
		c = xmalloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->mem + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

struct arena_cleanup {
	struct arena_cleanup *next;
	void (*fn)(void *);
	void *p;
};

void arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
	struct arena_cleanup *c = arena_alloc(a, sizeof(*c));

	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
}

void arena_release(struct arena *a)
{
	/* The records live in the chunks: run them all before freeing any. */
	for (struct arena_cleanup *c = a->cleanups; c; c = c->next)
		c->fn(c->p);
	a->cleanups = NULL;
	while (a->head) {
		struct arena_chunk *next = a->head->next;
		free(a->head);
		a->head = next;
	}
}

int64_t time_mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t time_wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Writes v (0 <= v < 10^width) as width decimal digits; returns the end. */
static char *put_digits(char *out, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return out + width;
}

static struct tm utc_tm(int64_t wall_s)
{
	time_t s = (time_t)wall_s;
	struct tm tm;

	gmtime_r(&s, &tm);
	return tm;
}

void time_iso8601_us(int64_t wall_us, char out[28])
{
	struct tm tm = utc_tm(wall_us / 1000000);
	char *p = out;

	p = put_digits(p, (unsigned)(tm.tm_year + 1900) % 10000, 4);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_digits(p, (unsigned)tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_sec, 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)(wall_us % 1000000), 6);
	*p++ = 'Z';
	*p = '\0';
}

void time_http_date(int64_t wall_s, char out[30])
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm = utc_tm(wall_s);
	char *p = out;

	memcpy(p, days + 3 * tm.tm_wday, 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	p = put_digits(p, (unsigned)tm.tm_mday, 2);
	*p++ = ' ';
	memcpy(p, months + 3 * tm.tm_mon, 3);
	p += 3;
	*p++ = ' ';
	p = put_digits(p, (unsigned)(tm.tm_year + 1900) % 10000, 4);
	*p++ = ' ';
	p = put_digits(p, (unsigned)tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)tm.tm_sec, 2);
	memcpy(p, " GMT", 5);
}

size_t str_copy(char *out, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(out, s, n);
	out[n] = '\0';
	return n;
}

char *str_join(const char *s, ...)
{
	va_list ap;
	size_t n = 0;
	char *out, *o;

	va_start(ap, s);
	for (const char *p = s; p; p = va_arg(ap, const char *))
		n += strlen(p);
	va_end(ap);
	o = out = xmalloc(n + 1);
	va_start(ap, s);
	for (const char *p = s; p; p = va_arg(ap, const char *)) {
		size_t k = strlen(p);
		memcpy(o, p, k);
		o += k;
	}
	va_end(ap);
	*o = '\0';
	return out;
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

size_t dec_u64(uint64_t v, char out[21])
{
	char d[20], *p = d + sizeof(d);
	size_t n;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10));
	n = (size_t)(d + sizeof(d) - p);
	memcpy(out, p, n);
	out[n] = '\0';
	return n;
}

size_t dec_ms2(int64_t us, char out[24])
{
	uint64_t hundredths = us > 0 ? ((uint64_t)us + 5) / 10 : 0;
	size_t n = dec_u64(hundredths / 100, out);

	out[n++] = '.';
	out[n++] = (char)('0' + hundredths % 100 / 10);
	out[n++] = (char)('0' + hundredths % 10);
	out[n] = '\0';
	return n;
}

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void rng_seed_fixed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

void rng_seed(struct rng *r)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time_wall_us() ^ (uint64_t)time_mono_us() << 20;
	rng_seed_fixed(r, seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

void rng_bytes(struct rng *r, uint8_t *out, size_t n)
{
	while (n) {
		uint64_t v = rng_next(r);
		size_t k = n < 8 ? n : 8;
		memcpy(out, &v, k);
		out += k;
		n -= k;
	}
}

void rng_uuid(struct rng *r, char out[37])
{
	uint8_t b[16];

	rng_bytes(r, b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);  /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);  /* variant 1 */
	/* 8-4-4-4-12 hex digits: each hex_encode's NUL is overwritten by a dash. */
	hex_encode(b, 4, out);
	out[8] = '-';
	hex_encode(b + 4, 2, out + 9);
	out[13] = '-';
	hex_encode(b + 6, 2, out + 14);
	out[18] = '-';
	hex_encode(b + 8, 2, out + 19);
	out[23] = '-';
	hex_encode(b + 10, 6, out + 24);
}

double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

int url_split(const char *url, struct url_parts *u)
{
	const char *p, *end, *colon;
	size_t n;

	u->https = strncmp(url, "https://", 8) == 0;
	p = url + (u->https ? 8 : strncmp(url, "http://", 7) == 0 ? 7 : 0);
	end = p + strcspn(p, "/?#");
	u->authority = (struct sv){ p, (size_t)(end - p) };
	u->path = *end == '/' ? end : "/";
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (!rb || (size_t)(rb - p - 1) >= sizeof(u->host))
			return -1;
		n = (size_t)(rb - p - 1);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		memcpy(u->host, p + 1, n);
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		n = (size_t)((colon ? colon : end) - p);
		if (n == 0 || n >= sizeof(u->host))
			return -1;
		memcpy(u->host, p, n);
	}
	u->host[n] = '\0';
	u->port = colon ? atoi(colon + 1) : u->https ? 443 : 80;
	return u->port > 0 && u->port < 65536 ? 0 : -1;
}
