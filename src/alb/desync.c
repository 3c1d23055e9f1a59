/*
 * desync: the request classification ALB performs with AWS's HTTP Desync
 * Guardian (HDG), reproduced from HDG's documented tiers and its test corpus
 * (reference/alb-listener-rules.md §4.2; tests/data/desync-corpus).
 *
 * Two stages. desync_split_head tokenizes a raw head the way a lenient front
 * end would (request line, then header lines split at the first ':') and
 * reports what only the raw bytes show: bare LF line ends, folded lines,
 * whitespace-only lines, lines without a colon, a missing URI. (HDG's
 * PartialHeaderLine and MissingLastEmptyLine are not reported: a head may
 * legitimately be handed over without its empty line, desync.h.) desync_classify then judges the
 * tokens: the method, the URI, the version, every header, and finally the
 * message framing (Content-Length / Transfer-Encoding) as a whole.
 *
 * Every check yields a finding; the verdict is the most severe one. Among
 * findings of the same class, one about message framing beats any other,
 * and otherwise the first found wins (the order is: raw-line findings,
 * method, URI, version, headers in order, then whole-request framing). That
 * is what HDG's edge-cases.yaml requires: an odd URI or custom header must
 * not hide an ambiguous Content-Length, and a suspicious
 * "Transfer-Encoding " name is reported rather than the BothTeClPresent it
 * also causes.
 *
 * Pure: views point into the caller's head, and the only allocation is
 * growing the caller's header array. Names are compared by length first;
 * each header is scanned once (name, then value), and only framing values,
 * which are short, are parsed a second time.
 */
#include "alb/desync.h"

#include <stdint.h>
#include <string.h>

/* A check's outcome; framing: it concerns Content-Length/Transfer-Encoding. */
struct finding {
	enum desync_class cls;
	const char *reason;
	bool framing;
};

/* The classifier's state over one request. */
struct classify {
	struct finding best;
	size_t ncl;             /* well-formed Content-Length fields seen */
	uint64_t cl;            /* the first one's value */
	bool cl_dup;            /* a later one repeated that value */
	bool te;                /* a Transfer-Encoding field was seen */
	size_t nchunked;        /* "chunked" codings over all of them */
};

enum hdr_kind { HDR_OTHER, HDR_TE, HDR_CL };

enum http_ver { VER_09, VER_10, VER_11, VER_1X, VER_BAD };

static void finding_add(struct classify *st, enum desync_class cls, const char *reason,
			bool framing)
{
	struct finding *best = &st->best;

	if (cls > best->cls || (cls == best->cls && framing && !best->framing))
		*best = (struct finding){ cls, reason, framing };
}

static void verdict_merge(struct desync_verdict *v, enum desync_class cls, const char *reason)
{
	if (cls > v->cls)
		*v = (struct desync_verdict){ cls, reason };
}

static void framing_add(struct classify *st, enum desync_class cls, const char *reason)
{
	finding_add(st, cls, reason, true);
}

/* Nothing found later can replace it. */
static bool finding_final(const struct finding *f)
{
	return f->cls == DESYNC_SEVERE && f->framing;
}

static bool is_alnum(unsigned char c)
{
	return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9');
}

/* NUL, CR and LF end or split a line in some parser or other. */
static bool is_break(unsigned char c)
{
	return c == '\0' || c == '\r' || c == '\n';
}

/* RFC 5234 CTL (breaks and HTAB included). */
static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* A control character a field value may not hold: all but HTAB (RFC 7230
 * §3.2; obs-text, 0x80-0xFF, is allowed). */
static bool is_field_ctl(unsigned char c)
{
	return c != '\t' && is_ctl(c);
}

/* ---- header names ---- */

static const char te_folded[] = "transferencoding";
static const char cl_folded[] = "contentlength";

struct name_scan {
	bool breaks;            /* NUL, CR or LF */
	bool token;             /* a valid field-name */
	bool blank;             /* empty, or only SP/HTAB */
	size_t te, cl;          /* folded letters matched; SIZE_MAX once they differ */
};

/*
 * The lowercase ASCII letter or digit the bytes at p fold to, or 0 when they
 * fold to nothing (delimiters, whitespace, controls, other non-ASCII bytes);
 * *len gets how many bytes that was. Why: HDG flags names that "can be
 * normalized to Transfer-Encoding or Content-Length using common text
 * normalization techniques (sanitation, case normalization, delimiters
 * normalization)" (HDG docs/README.md, SuspiciousHeader). Unicode case
 * mapping reaches ASCII from three code points; the two that can spell these
 * names are ı (upper: I) and ſ (upper: S), HDG's own examples. (U+212A
 * KELVIN SIGN lowers to k, which neither name has, so it is skipped like any
 * other non-ASCII byte.)
 */
static char fold_char(const unsigned char *p, size_t n, size_t *len)
{
	static const struct {
		unsigned char utf8[2];
		char ascii;
	} to_ascii[] = {
		{ { 0xc4, 0xb1 }, 'i' },        /* U+0131 */
		{ { 0xc5, 0xbf }, 's' },        /* U+017F */
	};

	*len = 1;
	if (is_alnum(p[0]))
		return ascii_lower((char)p[0]);
	for (size_t i = 0; n >= 2 && i < ARRAY_LEN(to_ascii); i++) {
		if (p[0] == to_ascii[i].utf8[0] && p[1] == to_ascii[i].utf8[1]) {
			*len = 2;
			return to_ascii[i].ascii;
		}
	}
	return 0;
}

static size_t fold_step(const char *target, size_t matched, char c)
{
	return matched != SIZE_MAX && target[matched] == c ? matched + 1 : SIZE_MAX;
}

static struct name_scan name_scan(struct sv name)
{
	const unsigned char *p = (const unsigned char *)name.p;
	/* Fewer bytes than the shorter folded name cannot fold to either. */
	size_t fold = name.n >= sizeof(cl_folded) - 1 ? 0 : SIZE_MAX;
	struct name_scan s = { false, name.n > 0, true, fold, fold };
	size_t len;

	for (size_t i = 0; i < name.n; i += len) {
		len = 1;
		s.breaks |= is_break(p[i]);
		s.token &= is_tchar(p[i]);
		s.blank &= p[i] == ' ' || p[i] == '\t';
		if (s.te == SIZE_MAX && s.cl == SIZE_MAX)
			continue;
		char c = fold_char(p + i, name.n - i, &len);
		if (c) {
			s.te = fold_step(te_folded, s.te, c);
			s.cl = fold_step(cl_folded, s.cl, c);
		}
	}
	return s;
}

static enum hdr_kind hdr_exact_kind(struct sv name)
{
	if (name.n == 17 && sv_eq_cstr_nocase(name, "Transfer-Encoding"))
		return HDR_TE;
	if (name.n == 14 && sv_eq_cstr_nocase(name, "Content-Length"))
		return HDR_CL;
	return HDR_OTHER;
}

static enum hdr_kind hdr_folded_kind(const struct name_scan *s)
{
	if (s->te == sizeof(te_folded) - 1)
		return HDR_TE;
	if (s->cl == sizeof(cl_folded) - 1)
		return HDR_CL;
	return HDR_OTHER;
}

/* ---- framing values ---- */

static void check_cl(struct classify *st, struct sv value)
{
	uint64_t n;

	/* Why: anything but one decimal number, including the "1000,1000"
	 * list RFC 7230 §3.3.2 lets a recipient fold, is BadContentLength in
	 * HDG (alb-listener-rules.md §4.2; severe.yaml). */
	if (sv_to_u64(sv_trim(value), &n) < 0) {
		framing_add(st, DESYNC_SEVERE, "BadContentLength");
		return;
	}
	if (st->ncl++ == 0)
		st->cl = n;
	else if (n != st->cl)
		framing_add(st, DESYNC_SEVERE, "MultipleContentLength");
	else
		st->cl_dup = true;
}

/*
 * The transfer codings HDG classifies Compliant, alone, in lists and with
 * parameters ("gzip, deflate, identity, compress, chunked",
 * "chunked;custom_param": HDG's tests/rfc-compliant.yaml and
 * more-compliant-tests.yaml, not in lb's corpus copy), plus the
 * x-gzip/x-compress spellings RFC 7230 §4.2 makes equivalent (lb's choice;
 * HDG's tests do not show them). The order of codings is not judged here:
 * http_server answers 501 to anything but chunked or identity.
 */
static bool te_known(struct sv coding)
{
	static const char *const known[] = {
		"chunked", "gzip", "deflate", "compress", "identity", "x-gzip", "x-compress",
	};

	for (size_t i = 0; i < ARRAY_LEN(known); i++)
		if (sv_eq_cstr_nocase(coding, known[i]))
			return true;
	return false;
}

/* The number of "chunked" codings in a Transfer-Encoding value, or -1 when
 * it is not a list of known codings in printable ASCII. */
static int te_count_chunked(struct sv v)
{
	int nchunked = 0, ncodings = 0;

	for (size_t i = 0; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (is_field_ctl(c) || c >= 0x80)
			return -1;
	}
	for (struct sv rest = v; rest.p;) {
		struct sv elem, coding;
		rest = sv_cut(rest, ',', &elem);
		sv_cut(elem, ';', &coding);
		coding = sv_trim(coding);
		if (coding.n == 0 && sv_trim(elem).n == 0)
			continue;       /* empty list element (RFC 7230 §7) */
		if (!te_known(coding))
			return -1;
		nchunked += sv_eq_cstr_nocase(coding, "chunked");
		ncodings++;
	}
	return ncodings ? nchunked : -1;
}

static void check_te(struct classify *st, struct sv value)
{
	int nchunked = te_count_chunked(value);

	st->te = true;
	if (nchunked < 0) {
		/* Why: "unknown Transfer-Encoding value" is BadTransferEncoding
		 * (HDG docs/README.md; severe.yaml "xchunked", "chunked\x11"). */
		framing_add(st, DESYNC_SEVERE, "BadTransferEncoding");
		return;
	}
	st->nchunked += (size_t)nchunked;
	/* Why: RFC 7230 §3.3.1 forbids applying chunked twice; HDG counts
	 * across fields and within one list (severe.yaml). */
	if (st->nchunked > 1)
		framing_add(st, DESYNC_SEVERE, "MultipleTransferEncodingChunked");
}

/* ---- one header ---- */

enum value_kind { VALUE_CLEAN, VALUE_CTL, VALUE_BROKEN };

#define BYTES(b) (UINT64_C(0x0101010101010101) * (b))

/* Whether any of the 8 bytes in w is below 0x20 or is 0x7f: SWAR, with the
 * "has a byte less than n" test (exact for n <= 0x80). */
static bool word_has_ctl(uint64_t w)
{
	uint64_t below_space = (w - BYTES(0x20)) & ~w & BYTES(0x80);
	uint64_t del = w ^ BYTES(0x7f);

	return below_space | ((del - BYTES(0x01)) & ~del & BYTES(0x80));
}

static enum value_kind value_scan(struct sv v)
{
	enum value_kind kind = VALUE_CLEAN;
	size_t i = 0;

	/* Values are most of a head's bytes (cookies, user agents): skip
	 * clean 8-byte words before looking at single bytes. */
	for (uint64_t w; i + 8 <= v.n; i += 8) {
		memcpy(&w, v.p + i, 8);
		if (word_has_ctl(w))
			break;
	}
	for (; i < v.n; i++) {
		unsigned char c = (unsigned char)v.p[i];
		if (!is_ctl(c))
			continue;
		if (is_break(c))
			return VALUE_BROKEN;
		if (is_field_ctl(c))
			kind = VALUE_CTL;
	}
	return kind;
}

static void check_header(struct classify *st, const struct desync_header *h)
{
	enum hdr_kind kind = hdr_exact_kind(h->name);
	bool exact = kind != HDR_OTHER;
	struct name_scan s = { false, true, false, 0, 0 };

	if (!exact) {
		s = name_scan(h->name);
		kind = hdr_folded_kind(&s);
	}
	bool framing = kind != HDR_OTHER;
	enum value_kind value = value_scan(h->value);
	/* Why: "header containing null-character or CR" is BadHeader (HDG
	 * docs/README.md); severe.yaml treats LF the same. A broken header
	 * takes no further part, so a "\rContent-Length" cannot count twice. */
	if (s.breaks || value == VALUE_BROKEN) {
		finding_add(st, DESYNC_SEVERE, "BadHeader", framing);
		return;
	}
	/* Why: an empty or whitespace-only name, or one starting with ':', is
	 * EmptyHeader (HDG docs/README.md; ambiguous.yaml). */
	if (s.blank || h->name.p[0] == ':') {
		finding_add(st, DESYNC_AMBIGUOUS, "EmptyHeader", false);
		return;
	}
	if (framing && !exact) {
		/* Why: a near-miss of a framing name is SuspiciousHeader, and it
		 * still counts as that field, since some server down the chain
		 * will read it so: "Content-Length " next to a different
		 * Content-Length is MultipleContentLength (severe.yaml). */
		framing_add(st, DESYNC_AMBIGUOUS, "SuspiciousHeader");
	}
	if (kind == HDR_TE)
		check_te(st, h->value);
	else if (kind == HDR_CL)
		check_cl(st, h->value);
	else if (!s.token || value == VALUE_CTL)
		/* Why: a non-token name or a control character in the value of
		 * a non-essential header is NonCompliantHeader (HDG
		 * docs/README.md; bytes 0x80-0xFF are obs-text and compliant). */
		finding_add(st, DESYNC_ACCEPTABLE, "NonCompliantHeader", false);
}

/* ---- request line ---- */

static enum http_ver version_parse(struct sv v, bool *padded)
{
	struct sv t = sv_trim(v);

	*padded = t.n != v.n;
	if (t.n == 0)
		return VER_09;
	if (t.n != 8 || memcmp(t.p, "HTTP/", 5) != 0 || t.p[6] != '.')
		return VER_BAD;
	char major = t.p[5], minor = t.p[7];
	if (major == '0' && minor == '9')
		return VER_09;
	if (major != '1' || minor < '0' || minor > '9')
		return VER_BAD;
	return minor == '0' ? VER_10 : minor == '1' ? VER_11 : VER_1X;
}

static void check_uri(struct classify *st, struct sv uri)
{
	bool ctl = false, space = false;

	for (size_t i = 0; i < uri.n; i++) {
		unsigned char c = (unsigned char)uri.p[i];
		if (is_break(c)) {
			finding_add(st, DESYNC_SEVERE, "BadUri", false);
			return;
		}
		ctl |= is_ctl(c);
		space |= c == ' ';
	}
	if (ctl)
		finding_add(st, DESYNC_AMBIGUOUS, "AmbiguousUri", false);
	else if (space)
		finding_add(st, DESYNC_ACCEPTABLE, "SpaceInUri", false);
}

static enum http_ver check_request_line(struct classify *st, const struct desync_request *req)
{
	bool padded;
	enum http_ver ver = version_parse(req->version, &padded);

	if (!sv_is_token(req->method))
		finding_add(st, DESYNC_SEVERE, "BadMethod", false);
	check_uri(st, req->uri);
	if (ver == VER_BAD)
		finding_add(st, DESYNC_SEVERE, "BadVersion", false);
	/* Why: HTTP/0.9 is never Compliant, and HTTP/1.2-1.9 or extra spaces
	 * are NonCompliantVersion (HDG README "Supported HTTP versions"). */
	else if (ver == VER_09 || ver == VER_1X || padded)
		finding_add(st, DESYNC_ACCEPTABLE, "NonCompliantVersion", false);
	return ver;
}

/* ---- the message as a whole ---- */

static void check_framing(struct classify *st, const struct desync_request *req,
			  enum http_ver ver)
{
	bool get_head = sv_eq_cstr(req->method, "GET") || sv_eq_cstr(req->method, "HEAD");
	bool cl = st->ncl > 0;

	/* Why: HTTP/0.9 with CL or TE, and HTTP/1.0 with TE, are Ambiguous
	 * (HDG README "Supported HTTP versions"). */
	if (st->te && (ver == VER_09 || ver == VER_10))
		framing_add(st, DESYNC_AMBIGUOUS, "UndefinedTransferEncodingSemantics");
	if (cl && ver == VER_09)
		framing_add(st, DESYNC_AMBIGUOUS, "UndefinedContentLengthSemantics");
	/* Why: a GET/HEAD payload has no defined semantics (RFC 7231 §4.3);
	 * only Content-Length: 0 is tolerated, as GetHeadZeroContentLength
	 * (alb-listener-rules.md §4.2). */
	if (get_head && st->te)
		framing_add(st, DESYNC_AMBIGUOUS, "UndefinedTransferEncodingSemantics");
	if (get_head && cl && st->cl != 0)
		framing_add(st, DESYNC_AMBIGUOUS, "UndefinedContentLengthSemantics");
	/* Why: RFC 7230 §3.3.2 lets TE override CL, but the two together
	 * "ought to be handled as an error": BothTeClPresent. */
	if (st->te && cl)
		framing_add(st, DESYNC_AMBIGUOUS, "BothTeClPresent");
	if (st->cl_dup)
		framing_add(st, DESYNC_AMBIGUOUS, "DuplicateContentLength");
	if (get_head && cl && st->cl == 0)
		framing_add(st, DESYNC_ACCEPTABLE, "GetHeadZeroContentLength");
}

static struct desync_verdict classify_from(const struct desync_request *req,
					   struct finding start)
{
	struct classify st = { .best = start };
	enum http_ver ver = check_request_line(&st, req);

	for (size_t i = 0; i < req->nheaders && !finding_final(&st.best); i++)
		check_header(&st, &req->headers[i]);
	check_framing(&st, req, ver);
	return (struct desync_verdict){ st.best.cls, st.best.reason };
}

struct desync_verdict desync_classify(const struct desync_request *req)
{
	return classify_from(req, (struct finding){ DESYNC_COMPLIANT, NULL, false });
}

/* ---- raw heads ---- */

/* The line at *pos without its line end; advances *pos past the line end.
 * A line ended by LF alone is NonCrLfLineTermination: HDG allows it, "similar
 * to Nginx" (HDG docs/README.md). */
static struct sv head_line(const char *head, size_t len, size_t *pos, struct desync_verdict *pv)
{
	const char *p = head + *pos;
	size_t rest = len - *pos;
	const char *lf = rest ? memchr(p, '\n', rest) : NULL;
	size_t n = lf ? (size_t)(lf - p) : rest;

	*pos += lf ? n + 1 : n;
	if (lf && n && p[n - 1] == '\r')
		n--;
	else if (lf)
		verdict_merge(pv, DESYNC_ACCEPTABLE, "NonCrLfLineTermination");
	return (struct sv){ p, n };
}

/*
 * "METHOD SP URI SP VERSION". The method ends at the first SP and the
 * version starts after the last run of SPs, so a space inside the URI stays
 * in it (SpaceInUri) and doubled or trailing spaces land in the version
 * (NonCompliantVersion, "version which contains extra spaces", HDG
 * docs/README.md). Two parts are HTTP/0.9: the version is empty.
 */
static void split_request_line(struct sv line, struct desync_request *out,
			       struct desync_verdict *pv)
{
	struct sv rest = sv_cut(line, ' ', &out->method);
	size_t end = rest.n, uri_end, ver_start;

	if (!rest.p) {
		verdict_merge(pv, DESYNC_AMBIGUOUS, "MissingUri");
		return;
	}
	while (end && rest.p[end - 1] == ' ')
		end--;
	const char *sp = end ? memrchr(rest.p, ' ', end) : NULL;
	uri_end = sp ? (size_t)(sp - rest.p) : end;
	while (uri_end && rest.p[uri_end - 1] == ' ')
		uri_end--;
	ver_start = uri_end < rest.n ? uri_end + 1 : rest.n;
	out->uri = (struct sv){ rest.p, uri_end };
	out->version = (struct sv){ rest.p + ver_start, rest.n - ver_start };
	if (uri_end == 0)
		verdict_merge(pv, DESYNC_AMBIGUOUS, "MissingUri");
}

static bool line_blank(struct sv line)
{
	return sv_trim(line).n == 0;
}

void desync_split_head(const char *head, size_t len, struct desync_request *out,
		       struct desync_header **hdrs, size_t *cap, struct desync_verdict *pv)
{
	size_t pos = 0, n = 0;
	bool after_field = false, after_ct = false;
	struct sv line;

	*out = (struct desync_request){ SV_NULL, SV_NULL, SV_NULL, NULL, 0 };
	/* RFC 7230 §3.5: ignore empty lines before the request line. */
	do
		line = head_line(head, len, &pos, pv);
	while (line.n == 0 && pos < len);
	split_request_line(line, out, pv);

	while (pos < len && (line = head_line(head, len, &pos, pv)).n > 0) {
		bool fold = after_field && (line.p[0] == ' ' || line.p[0] == '\t');
		struct sv name, value;

		after_field = true;
		if (line_blank(line)) {
			/* Why: "a line with whitespaces only" is EmptyHeader
			 * (HDG docs/README.md); some servers end the head there. */
			verdict_merge(pv, DESYNC_AMBIGUOUS, "EmptyHeader");
			continue;
		}
		/* Why: obs-fold is MultilineHeader "except Content-Type" (HDG
		 * docs/README.md). A folded line with a colon is also taken
		 * as a header of its own, the way servers without folding
		 * read it (ALB forwards a folded line as a header, with a ':'
		 * inserted: alb-listener-rules.md §4.2), so a hidden
		 * " Transfer-Encoding: chunked" is still judged. */
		if (fold && !after_ct)
			verdict_merge(pv, DESYNC_AMBIGUOUS, "MultilineHeader");
		value = sv_cut(line, ':', &name);
		if (!value.p) {
			if (!fold)
				verdict_merge(pv, DESYNC_AMBIGUOUS, "MissingHeaderColon");
			continue;
		}
		xgrow(hdrs, cap, n + 1, sizeof(**hdrs));
		(*hdrs)[n++] = (struct desync_header){ name, sv_trim(value) };
		after_ct = name.n == 12 && sv_eq_cstr_nocase(name, "Content-Type");
	}
	out->headers = *hdrs;
	out->nheaders = n;
}

struct desync_verdict desync_classify_head(const char *head, size_t len,
					   struct desync_header **hdrs, size_t *cap)
{
	struct desync_verdict pv = { DESYNC_COMPLIANT, NULL };
	struct desync_request req;

	desync_split_head(head, len, &req, hdrs, cap, &pv);
	return classify_from(&req, (struct finding){ pv.cls, pv.reason, false });
}

/* ---- modes ---- */

enum desync_action desync_decide(enum desync_mode mode, enum desync_class cls)
{
	/* alb-listener-rules.md §4.2: monitor allows everything; strictest
	 * allows only Compliant; defensive blocks Severe and closes the
	 * connection after serving Ambiguous. */
	if (mode == DESYNC_MODE_MONITOR || cls == DESYNC_COMPLIANT)
		return DESYNC_ALLOW;
	if (mode == DESYNC_MODE_STRICTEST || cls == DESYNC_SEVERE)
		return DESYNC_BLOCK;
	return cls == DESYNC_AMBIGUOUS ? DESYNC_ALLOW_CLOSE : DESYNC_ALLOW;
}

const char *desync_class_name(enum desync_class cls)
{
	switch (cls) {
	case DESYNC_ACCEPTABLE:
		return "Acceptable";
	case DESYNC_AMBIGUOUS:
		return "Ambiguous";
	case DESYNC_SEVERE:
		return "Severe";
	case DESYNC_COMPLIANT:
	default:
		return NULL;
	}
}
