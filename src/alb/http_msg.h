/*
 * http_msg: the request and response as lb's pure code sees them, plus the
 * standard pieces ALB puts on the wire: reason phrases, its nginx-style error
 * pages, and response head serialization.
 *
 * A struct http_request is filled by http_server (or by `lb explain`) and read
 * by everything else. Every view in it points into memory the request owns
 * (head, body, headers), valid until the request is reset or released.
 */
#ifndef LB_HTTP_MSG_H
#define LB_HTTP_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "alb/desync.h"
#include "base/util.h"

struct http_header {
	struct sv name;
	struct sv value;
};

/* How a message's body is delimited on the wire. */
enum http_framing {
	HTTP_FRAMING_NONE,       /* no body (HEAD, 1xx, 204, 304, or a length of 0) */
	HTTP_FRAMING_LENGTH,     /* Content-Length */
	HTTP_FRAMING_CHUNKED,    /* Transfer-Encoding: chunked */
	HTTP_FRAMING_CLOSE,      /* until the connection closes (responses only) */
};

/* Mutual-TLS header values (alb-http-targets-and-tls.md §2.6.2), by header. */
enum http_mtls_value {
	HTTP_MTLS_CLIENTCERT, HTTP_MTLS_SERIAL, HTTP_MTLS_ISSUER, HTTP_MTLS_SUBJECT,
	HTTP_MTLS_VALIDITY, HTTP_MTLS_LEAF, HTTP_MTLS_COUNT
};

/*
 * What an HTTPS connection negotiated, for the access log, the
 * x-amzn-tls-* and mTLS headers. Filled once the handshake is done; owned
 * by the connection, which outlives its requests.
 */
struct http_tls {
	const char *protocol;   /* "TLSv1.2", as OpenSSL names it (static storage) */
	const char *cipher;     /* "ECDHE-RSA-AES128-GCM-SHA256" (static storage) */
	char sni[256];          /* the client's server name, "" without SNI */
	bool sni_matched;       /* the certificate was chosen by that name (not the default) */
	char cert_arn[160];     /* the certificate presented */
	char alpn[16];          /* "http/1.1", "h2", or "" */
	int mtls_mode;          /* enum mtls_mode (config.h): 0 off */
	char *mtls[HTTP_MTLS_COUNT]; /* header values (NULL: header not sent) */
};

struct http_request {
	/* Request line, as sent. */
	struct sv method;
	struct sv target;       /* the request-target: "/a%20b?x=1", or absolute-form */
	struct sv path;         /* target without "?query" (and without scheme://authority) */
	struct sv query;        /* after the first '?', up to '#' */
	bool has_query;         /* a '?' was present (the query may still be empty) */
	struct sv uri_host;     /* authority of an absolute-form target, else empty */
	int version;            /* 9, 10 or 11 for HTTP/0.9, 1.0, 1.1 */

	/* Header fields in arrival order: names and values as sent (values without
	 * surrounding whitespace). */
	struct http_header *headers;
	size_t nheaders, cap_headers;

	struct buf head;        /* owns the bytes the views above point into */
	bool keep_body;         /* set by the router once the head is known: store the body */
	bool stream_body;       /* set by the router instead: pass the body on as it arrives */
	struct buf body;        /* the body (de-chunked) when keep_body, at most body.max bytes */
	bool body_too_large;    /* more than body.max arrived; the excess was discarded */
	bool keep_trailers;     /* set with stream_body or keep_body: store a chunked body's trailers */
	struct buf trailers;    /* then its trailer fields, "name: value\n" each, up to HTTP_TRAILERS_MAX */
	uint64_t body_bytes;    /* every body byte received, kept or not */
	uint64_t received_bytes; /* bytes read from the wire for this request */
	uint64_t sent_bytes;    /* bytes of its answer queued for the client */

	/* The connection it came on. */
	int peer_family;        /* AF_INET or AF_INET6 (v4-mapped addresses count as AF_INET) */
	uint8_t peer_addr[16];
	char peer_ip[46];
	uint16_t peer_port;
	uint16_t local_port;    /* the listener's port */
	int listener;           /* index of the listener in the configuration */
	bool https;
	const struct http_tls *tls; /* NULL unless https */
	const char *conn_trace_id; /* "TID_" + 32 hex, per connection */

	int64_t start_wall_us;  /* when its first byte arrived */
	int64_t start_mono_us;
	struct desync_verdict desync;
	bool keep_alive;        /* the client allows another request on this connection */
	bool expect_continue;
	enum http_framing framing;  /* how the body is delimited: NONE, LENGTH or CHUNKED */
	uint64_t content_length;    /* HTTP_FRAMING_LENGTH */

	void *io;               /* http_server's connection (opaque to others) */
	void *route;            /* the router's state for this request (opaque to others) */
};

/* What a request keeps of its trailer fields (keep_trailers); the rest is dropped. */
#define HTTP_TRAILERS_MAX 8192

void http_request_init(struct http_request *req);
/* A trailer field's value (keep_trailers; case-insensitive name), or SV_NULL. */
struct sv http_request_trailer(const struct http_request *req, const char *name);
/* Forgets the request's contents, keeping its memory for the next one. */
void http_request_reset(struct http_request *req);
void http_request_release(struct http_request *req);
/* Appends a header (views must point into req->head or outlive req). */
void http_request_add_header(struct http_request *req, struct sv name, struct sv value);
/* Sets target, path, query, has_query and uri_host from a request-target. */
void http_request_set_target(struct http_request *req, struct sv target);
/* The first header with this name (case-insensitive), or NULL. */
const struct http_header *http_request_header(const struct http_request *req, const char *name);
/* The host a request is for: an absolute-form target's authority, else the
 * first Host header; without any port. SV_NULL when there is none. */
struct sv http_request_host(const struct http_request *req);
/* "HTTP/1.1" etc. */
const char *http_version_str(int version);


/*
 * A response as received from a target or an endpoint: its head, parsed by
 * net/h1_read. The views point into head.
 */
struct http_reply {
	int status;
	struct sv reason;
	int version;            /* 10 or 11 */
	struct http_header *headers;
	size_t nheaders, cap_headers;
	struct buf head;
	bool keep_alive;        /* the sender allows another exchange on the connection */
	bool upgrade;           /* 101 Switching Protocols */
	bool no_body;           /* no body follows the head (HEAD, 1xx, 204, 304) */
	enum http_framing framing;
	uint64_t content_length;   /* HTTP_FRAMING_LENGTH */
	uint64_t body_bytes;       /* body bytes received so far */
};

void http_reply_init(struct http_reply *r);
/* Forgets the reply, keeping its memory. */
void http_reply_reset(struct http_reply *r);
void http_reply_release(struct http_reply *r);
/* The first header named name (case-insensitive) among h[0..n), or NULL. */
const struct http_header *http_header_find(const struct http_header *h, size_t n, const char *name);

struct http_response {
	int status;
	struct sv reason;        /* empty: http_reason(status) */
	struct sv content_type;  /* empty: no Content-Type header */
	const struct http_header *headers;  /* further headers, in order */
	size_t nheaders;
	struct sv body;
	bool has_date;           /* headers include a Date: do not add one */
	bool close;              /* close the connection after this response */
	bool bare;               /* no Server header: an answer of lb's Lambda APIs, not ALB's */
};

/* The reason phrase ALB sends for a status ("" for codes it has none for). */
const char *http_reason(int status);
/* ALB's HTML page for an error status it generates itself (static storage). */
struct sv http_error_page(int status);
/*
 * Appends the response head to out, in ALB's order: status line, Server
 * (unless resp->bare), Date (unless resp->has_date), Content-Type, Content-Length, Connection,
 * then resp->headers. head_request: the request was HEAD (Content-Length is
 * still that of the body, which is not sent). date is an IMF-fixdate.
 */
void http_response_head(struct buf *out, const struct http_response *resp, const char *date,
			bool keep_alive, bool head_request);
/* Whether a response with this status to this method carries a body. */
bool http_response_has_body(int status, bool head_request);

#endif
