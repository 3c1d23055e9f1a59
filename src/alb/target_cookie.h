/*
 * target_cookie: ALB's target stickiness cookies for instance/ip groups
 * (alb-http-targets-and-tls.md §1.11). Pure.
 *
 * lb_cookie stickiness answers with AWSALB and AWSALBCORS naming the target
 * a request went to; app_cookie stickiness answers with AWSALBAPP-0..3 once
 * the target sets the application's own cookie. Values are sealed with
 * sticky.h's record (SipHash-2-4), so a changed or forged cookie decodes as
 * STICKY_INVALID, and carry the binding's end (the stickiness duration):
 * the cookies themselves always expire 7 days after they were set, as ALB's
 * do. Targets are named by their key (struct http_target's "ip:port").
 *
 * What the I/O side does with them (§1.11.4): a decoded target that is
 * routable (target_select.h) gets the request; otherwise, or without a
 * cookie, the algorithm picks and the answer carries fresh cookies. ALB
 * resets the cookies' expiry on every answer, so lb_cookie groups set them
 * on every answer, app_cookie groups on every answer once the target has
 * set the application cookie (app_cookie_seen) or the request carried a
 * valid binding.
 */
#ifndef LB_TARGET_COOKIE_H
#define LB_TARGET_COOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "alb/http_msg.h"
#include "alb/sticky.h"
#include "base/buf.h"
#include "base/util.h"

#define APP_COOKIE_SHARDS 4
/* lb's choice: a shard's value is cut so that "AWSALBAPP-N=value" fits a
 * browser's 4096-byte cookie (ALB splits "at 4 KB", §1.11.3). */
#define APP_COOKIE_SHARD_MAX (4096 - sizeof("AWSALBAPP-0=") + 1)

/*
 * AWSALB / AWSALBCORS for target key tkey of group tg, bound for duration
 * seconds from now (epoch s): two Set-Cookie values, each NUL-terminated,
 * appended to out; the second starts at *cors_at.
 */
void lb_cookie_set(struct buf *out, const struct sticky_key *key, struct sv tg, struct sv tkey,
		   int64_t now, int duration, size_t *cors_at);
/*
 * Reads AWSALBCORS (which wins) or AWSALB. STICKY_OK only when it names
 * group tg (*tkey then points into scratch); a cookie for another group is
 * STICKY_NONE, as AWSALB is one cookie shared by every group.
 */
enum sticky_status lb_cookie_decode(const struct http_request *req, const struct sticky_key *key,
				    struct sv tg, int64_t now, struct buf *scratch,
				    struct sv *tkey);

/*
 * AWSALBAPP-0..3 binding group tg to target tkey for duration seconds from
 * now, keeping the bindings of other groups that req's own AWSALBAPP
 * cookies carry and that have not ended (ALB's application cookie covers
 * every app_cookie group). Appends APP_COOKIE_SHARDS Set-Cookie values,
 * each NUL-terminated, at offsets[0..*n) (*n is APP_COOKIE_SHARDS): the
 * sealed value cut into shards, and "_remove_" for shards it does not
 * need. SameSite=None; Secure is added only for Chromium 80 or later,
 * as ALB does (from req's User-Agent). When the bindings would pass four
 * shards, the oldest are dropped.
 */
void app_cookie_set(struct buf *out, const struct sticky_key *key, const struct http_request *req,
		    struct sv tg, struct sv tkey, int64_t now, int duration,
		    size_t offsets[APP_COOKIE_SHARDS], size_t *n);
/* Reads req's AWSALBAPP-0..3 and returns the binding of group tg, as lb_cookie_decode. */
enum sticky_status app_cookie_decode(const struct http_request *req, const struct sticky_key *key,
				     struct sv tg, int64_t now, struct buf *scratch,
				     struct sv *tkey);
/* Whether response headers h[0..n) set a cookie named name (Set-Cookie: name=...). */
bool app_cookie_seen(const struct http_header *h, size_t n, const char *name);

#endif
