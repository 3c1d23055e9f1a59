/*
 * h2_server: HTTP/2 toward clients (nghttp2), on a connection of
 * http_server whose TLS handshake chose "h2" by ALPN.
 *
 * Each stream becomes a struct http_request, the same the HTTP/1 reader
 * fills (alb/h2_msg.h), and goes to http_server's owner through the same
 * callbacks (on_head, on_body, on_request, on_error, on_abort, on_drain);
 * the owner answers with the same http_server_respond / http_server_stream_*
 * calls, which dispatch here for HTTP/2 requests. So an HTTP/2 request is
 * routed, answered, logged and delivered to targets exactly as its HTTP/1.1
 * twin.
 *
 * ALB's HTTP/2 rules (alb-http-targets-and-tls.md §2.5): 128 concurrent
 * streams, no server push, GOAWAY after 10,000 requests on a connection and
 * when client_keep_alive.seconds ends, PING frames do not count as
 * activity for the idle timeout.
 */
#ifndef LB_NET_H2_SERVER_H
#define LB_NET_H2_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "alb/http_msg.h"
#include "net/http_server.h"

struct conn;
struct h2_conn;

/* ALB's limits (alb-http-targets-and-tls.md §2.5). */
#define H2_MAX_STREAMS 128
#define H2_MAX_REQUESTS 10000

/* The ALPN protocol list entry ("\x02h2"). */
#define H2_ALPN "\x02h2"

/*
 * Turns c into an HTTP/2 connection: from now on its bufferevent is read
 * and written by HTTP/2 (c stays as the shell of the connection in
 * http_server's list, with its peer and listener facts). Call it once the
 * handshake is done and ALPN chose "h2", with no request read on c (bytes
 * already in its input are the client's preface and frames). c stays valid
 * until the caller's callback returns: HTTP/2 starts from the event loop.
 * Returns 0, or -1 (c is unchanged) if the session cannot be made.
 */
int h2_conn_start(struct conn *c);

/* http_server's hooks for its HTTP/2 connections. */
/* Sends GOAWAY: streams in flight finish, then the connection closes. */
void h2_conn_shutdown(struct h2_conn *hc);
/* Closes at once; the owner hears on_abort for requests it holds. */
void h2_conn_free(struct h2_conn *hc);

/* The answer side of http_server.h for a request that came over HTTP/2
 * (http_server.c and http_answer.c dispatch here). */
size_t h2_respond(struct http_request *req, const struct http_response *resp, const char *date);
size_t h2_stream_head(struct http_request *req, const struct http_stream_head *h);
size_t h2_stream_body(struct http_request *req, const char *p, size_t n);
/* Trailers (copied) to send after the streamed body, before h2_stream_end. */
void h2_stream_trailers(struct http_request *req, const struct http_header *h, size_t n);
void h2_stream_end(struct http_request *req);
void h2_stream_abort(struct http_request *req);
/* Whether the owner hears on_sent for req's queued answer (http_server_answer_held). */
bool h2_answer_held(struct http_request *req);
void h2_pause_reading(struct http_request *req);
void h2_resume_reading(struct http_request *req);

#endif
