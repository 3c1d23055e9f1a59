/*
 * config_listener: the `listeners:` part of config_load (DESIGN.md §5, §14):
 * address, port and protocol, and for HTTPS the security policy, the
 * certificates, mutual TLS, and the listener attributes. The rules of each
 * listener are read afterwards by rules.c.
 *
 * Only names and paths are checked here: the files themselves are read
 * when lb builds the listener's TLS context (net/tls.c), which reports a
 * bad file with the position kept in the certificate's src_pos.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "alb/tls_policy.h"
#include "config/config_int.h"

#define LISTENERS_MAX 50       /* alb-listener-rules.md §1: listeners per ALB */
/* Why: ALB's quota is 25 certificates per load balancer besides the
 * defaults (§2.3); lb counts per listener, the default included. */
#define CERTIFICATES_MAX 26

static const struct yfield listener_fields[] = {
	YFIELD_INT("port", struct listener_cfg, port, 0, 65535, .required = true),
	YFIELD_STR("address", struct listener_cfg, address),
	YFIELD_NODE("protocol"),
	YFIELD_NODE("rules"),
	YFIELD_NODE("default_actions", .required = true),
	YFIELD_STR("ssl_policy", struct listener_cfg, ssl_policy),
	YFIELD_NODE("certificates"),
	YFIELD_NODE("mutual_authentication"),
	YFIELD_NODE("attributes"),
};

static const struct yfield cert_fields[] = {
	YFIELD_NODE("certificate", .required = true),
	YFIELD_NODE("private_key", .required = true),
};

static const struct yfield mtls_fields[] = {
	YFIELD_NODE("mode"),
	YFIELD_NODE("trust_store"),
	YFIELD_BOOL("ignore_client_certificate_expiry", struct mtls_cfg, ignore_expiry),
	YFIELD_NODE("advertise_trust_store_ca_names"),
};

static const char *const protocols[] = { [PROTO_HTTP] = "HTTP", [PROTO_HTTPS] = "HTTPS" };
static const char *const on_off[] = { "off", "on" };
static const char *const mtls_modes[] = {
	[MTLS_OFF] = "off", [MTLS_PASSTHROUGH] = "passthrough", [MTLS_VERIFY] = "verify",
};

/* Why: AWS's listener attribute keys and default header names (§2.6.2, §2.7). */
static const char *const mtls_keys[MTLS_H_COUNT][2] = {
	[MTLS_H_CLIENTCERT] = { "x_amzn_mtls_clientcert", "X-Amzn-Mtls-Clientcert" },
	[MTLS_H_SERIAL] = { "x_amzn_mtls_clientcert_serial_number",
			    "X-Amzn-Mtls-Clientcert-Serial-Number" },
	[MTLS_H_ISSUER] = { "x_amzn_mtls_clientcert_issuer", "X-Amzn-Mtls-Clientcert-Issuer" },
	[MTLS_H_SUBJECT] = { "x_amzn_mtls_clientcert_subject", "X-Amzn-Mtls-Clientcert-Subject" },
	[MTLS_H_VALIDITY] = { "x_amzn_mtls_clientcert_validity",
			      "X-Amzn-Mtls-Clientcert-Validity" },
	[MTLS_H_LEAF] = { "x_amzn_mtls_clientcert_leaf", "X-Amzn-Mtls-Clientcert-Leaf" },
};

/* Why: the routing.http.response.* attributes and the headers they set (§2.8). */
static const char *const resp_keys[RESP_H_COUNT][2] = {
	[RESP_H_HSTS] = { "strict_transport_security", "Strict-Transport-Security" },
	[RESP_H_ACAO] = { "access_control_allow_origin", "Access-Control-Allow-Origin" },
	[RESP_H_ACAH] = { "access_control_allow_headers", "Access-Control-Allow-Headers" },
	[RESP_H_ACAM] = { "access_control_allow_methods", "Access-Control-Allow-Methods" },
	[RESP_H_ACAC] = { "access_control_allow_credentials", "Access-Control-Allow-Credentials" },
	[RESP_H_ACEH] = { "access_control_expose_headers", "Access-Control-Expose-Headers" },
	[RESP_H_ACMA] = { "access_control_max_age", "Access-Control-Max-Age" },
	[RESP_H_CSP] = { "content_security_policy", "Content-Security-Policy" },
	[RESP_H_XCTO] = { "x_content_type_options", "X-Content-Type-Options" },
	[RESP_H_XFO] = { "x_frame_options", "X-Frame-Options" },
};

const char *config_response_header_name(enum resp_header h)
{
	return resp_keys[h][1];
}

int config_address_key(const char *s, uint8_t key[17])
{
	memset(key, 0, 17);
	if (inet_pton(AF_INET, s, key + 1) == 1)
		key[0] = 4;
	else if (inet_pton(AF_INET6, s, key + 1) == 1)
		key[0] = 6;
	else
		return -1;
	return 0;
}

/* A stable, ARN-shaped id for a certificate file: ACM's are UUIDs. */
static const char *cert_arn(struct config *cfg, const char *path)
{
	char a[17], b[17];
	char *salted = config_printf(&cfg->arena, "%s#", path);

	config_stable_id(path, a);
	config_stable_id(salted, b);
	return config_printf(&cfg->arena, "arn:aws:acm:%s:%s:certificate/%.8s-%.4s-%.4s-%.4s-%.12s",
			     cfg->lb.region, cfg->lb.account_id, a, a + 8, a + 12, b, b + 4);
}

static int path_value(struct config *cfg, const struct ynode *n, const char *what,
		      const char **out, struct lb_err *err)
{
	const char *s;

	if (ydoc_str(n, what, &s, err))
		return -1;
	if (!*s)
		return ydoc_err(err, n, "'%s' must be a path", what);
	*out = ydoc_path(n, false, &cfg->arena);
	return 0;
}

/* certificates: auto, or a list of {certificate, private_key}. */
static int certs_load(struct config *cfg, const struct ynode *n, struct listener_cfg *l,
		      struct lb_err *err)
{
	if (!n || (n->type == YNODE_SCALAR && strcmp(n->str, "auto") == 0)) {
		l->auto_certificate = true;
		return 0;
	}
	if (n->type == YNODE_SCALAR)
		return ydoc_err(err, n, "'certificates' must be 'auto' or a list of "
				"{certificate, private_key}");
	if (ydoc_list(n, "certificates", YNODE_MAPPING, err))
		return -1;
	if (n->n == 0) {
		l->auto_certificate = true;
		return 0;
	}
	if (n->n > CERTIFICATES_MAX)
		return ydoc_err(err, n->items[CERTIFICATES_MAX], "a listener has at most %d "
				"certificates", CERTIFICATES_MAX);
	l->certificates = arena_alloc(&cfg->arena, n->n * sizeof(*l->certificates));
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *c = n->items[i];
		struct certificate_cfg *cc = &l->certificates[i];

		cc->pos = (struct src_pos){ c->file, c->line, c->col };
		if (ydoc_fields(c, "certificates", cert_fields, ARRAY_LEN(cert_fields), NULL, NULL,
				err) ||
		    path_value(cfg, ydoc_get(c, "certificate"), "certificate", &cc->certificate,
			       err) ||
		    path_value(cfg, ydoc_get(c, "private_key"), "private_key", &cc->private_key, err))
			return -1;
		cc->arn = cert_arn(cfg, cc->certificate);
		l->ncertificates++;
	}
	return 0;
}

static int mtls_load(struct config *cfg, const struct ynode *n, struct listener_cfg *l,
		     struct lb_err *err)
{
	struct mtls_cfg *m = &l->mtls;
	const struct ynode *mode, *ts;
	int v = MTLS_OFF;

	if (!n)
		return 0;
	m->pos = (struct src_pos){ n->file, n->line, n->col };
	if (ydoc_fields(n, "mutual_authentication", mtls_fields, ARRAY_LEN(mtls_fields), m, NULL,
			err))
		return -1;
	mode = ydoc_get(n, "mode");
	ts = ydoc_get(n, "trust_store");
	if (mode && ydoc_enum(mode, "mode", mtls_modes, ARRAY_LEN(mtls_modes), &v, err))
		return -1;
	m->mode = (enum mtls_mode)v;
	if (ts && path_value(cfg, ts, "trust_store", &m->trust_store, err))
		return -1;
	/* Why: AdvertiseTrustStoreCaNames is "on" or "off", off by default (§2.6.1). */
	if ((ts = ydoc_get(n, "advertise_trust_store_ca_names"))) {
		if (ydoc_enum(ts, "advertise_trust_store_ca_names", on_off, 2, &v, err))
			return -1;
		m->advertise_ca_names = v == 1;
		if (m->advertise_ca_names && m->mode != MTLS_VERIFY)
			return ydoc_err(err, ts, "advertise_trust_store_ca_names needs mode 'verify'");
	}
	/* Why: verify mode authenticates against a trust store; the API
	 * requires TrustStoreArn with it (§2.6.1). */
	if (m->mode == MTLS_VERIFY && !m->trust_store)
		return ydoc_err(err, n, "mutual_authentication mode 'verify' needs a 'trust_store'");
	if (m->mode != MTLS_OFF && l->protocol != PROTO_HTTPS)
		return ydoc_err(err, n, "mutual_authentication needs protocol HTTPS");
	return 0;
}

/* A header name ALB would accept: an RFC 9110 token of letters, digits and hyphens. */
static bool header_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 40 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

static bool header_value_ok(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	}
	return true;
}

/* One `attributes:` key; 0 when it was one of the listener's, 1 when unknown. */
static int attr_one(struct config *cfg, const struct ynode *key, const struct ynode *v,
		    struct listener_attrs *a, struct lb_err *err)
{
	const char *k = key->str, *s;
	char name[128];

	if (strcmp(k, "routing.http.response.server.enabled") == 0)
		return ydoc_bool(v, k, &a->server_enabled, err);
	if (ydoc_str(v, k, &s, err))
		return -1;
	for (int i = 0; i < MTLS_H_COUNT; i++) {
		snprintf(name, sizeof(name), "routing.http.request.%s.header_name", mtls_keys[i][0]);
		if (strcmp(k, name) == 0) {
			if (!header_name_ok(s))
				return ydoc_err(err, v, "'%s' must be a header name of letters, "
						"digits and hyphens, not '%s'", k, s);
			a->mtls_names[i] = arena_strdup(&cfg->arena, s);
			return 0;
		}
	}
	if (strcmp(k, "routing.http.request.x_amzn_tls_version.header_name") == 0 ||
	    strcmp(k, "routing.http.request.x_amzn_tls_cipher_suite.header_name") == 0) {
		if (!header_name_ok(s))
			return ydoc_err(err, v, "'%s' must be a header name of letters, digits and "
					"hyphens, not '%s'", k, s);
		*(strstr(k, "version") ? &a->tls_version_name : &a->tls_cipher_name) =
			arena_strdup(&cfg->arena, s);
		return 0;
	}
	for (int i = 0; i < RESP_H_COUNT; i++) {
		snprintf(name, sizeof(name), "routing.http.response.%s.header_value",
			 resp_keys[i][0]);
		if (strcmp(k, name) == 0) {
			if (!*s || !header_value_ok(s))
				return ydoc_err(err, v, "'%s' must be a header value without "
						"control characters", k);
			a->response[i] = arena_strdup(&cfg->arena, s);
			return 0;
		}
	}
	return 1;
}

static int attrs_load(struct config *cfg, const struct ynode *n, struct listener_cfg *l,
		      struct lb_err *err)
{
	struct listener_attrs *a = &l->attrs;

	for (int i = 0; i < MTLS_H_COUNT; i++)
		a->mtls_names[i] = mtls_keys[i][1];
	a->tls_version_name = "x-amzn-tls-version";
	a->tls_cipher_name = "x-amzn-tls-cipher-suite";
	a->server_enabled = true;
	if (!n)
		return 0;
	if (ydoc_mapping(n, "attributes", err))
		return -1;
	for (size_t i = 0; i < n->n; i++) {
		int rc = attr_one(cfg, n->pairs[i].key, n->pairs[i].value, a, err);

		if (rc < 0)
			return -1;
		if (rc > 0)
			return ydoc_err(err, n->pairs[i].key, "unknown listener attribute '%s'",
					n->pairs[i].key->str);
	}
	return 0;
}

static int https_load(struct config *cfg, const struct ynode *n, struct listener_cfg *l,
		      struct lb_err *err)
{
	const struct ynode *pol = ydoc_get(n, "ssl_policy");

	if (l->protocol != PROTO_HTTPS) {
		const char *k = pol ? "ssl_policy" : ydoc_get(n, "certificates") ? "certificates" : NULL;

		if (k)
			return ydoc_err(err, ydoc_key(n, k), "'%s' needs protocol HTTPS", k);
		return 0;
	}
	if (!l->ssl_policy)
		l->ssl_policy = tls_policy_default_name();
	else if (!tls_policy_find(l->ssl_policy))
		return ydoc_err(err, pol, "unknown ssl_policy '%s' (AWS's names, e.g. "
				"ELBSecurityPolicy-TLS13-1-2-2021-06)", l->ssl_policy);
	return certs_load(cfg, ydoc_get(n, "certificates"), l, err);
}

static int listener_load(struct config *cfg, const struct ynode *n, struct listener_cfg *l,
			 struct lb_err *err)
{
	const struct ynode *proto = ydoc_get(n, "protocol");
	uint8_t key[17], other[17];
	int p = PROTO_HTTP;

	l->pos = (struct src_pos){ n->file, n->line, n->col };
	l->address = "127.0.0.1";
	if (ydoc_fields(n, "listeners", listener_fields, ARRAY_LEN(listener_fields), l,
			&cfg->arena, err) ||
	    (proto && ydoc_enum(proto, "protocol", protocols, ARRAY_LEN(protocols), &p, err)))
		return -1;
	l->protocol = (enum listener_protocol)p;
	if (https_load(cfg, n, l, err) || mtls_load(cfg, ydoc_get(n, "mutual_authentication"), l, err) ||
	    attrs_load(cfg, ydoc_get(n, "attributes"), l, err))
		return -1;
	if (config_address_key(l->address, key))
		return ydoc_err(err, ydoc_get(n, "address"), "'address' must be an IPv4 or IPv6 "
				"address, not '%s'", l->address);
	/* Port 0 asks the kernel for a free port: any number of those can coexist. */
	for (size_t i = 0; l->port != 0 && i < cfg->nlisteners; i++) {
		const struct listener_cfg *o = &cfg->listeners[i];

		if (o->port == l->port && config_address_key(o->address, other) == 0 &&
		    memcmp(key, other, sizeof(key)) == 0)
			return ydoc_err(err, ydoc_get(n, "port"),
					"listener %s:%d is already defined on line %d", l->address,
					l->port, o->pos.line);
	}
	return 0;
}

int config_listeners_load(struct config *cfg, const struct ynode *seq, struct lb_err *err)
{
	if (ydoc_list(seq, "listeners", YNODE_MAPPING, err))
		return -1;
	if (seq->n == 0)
		return ydoc_err(err, seq, "'listeners' needs at least one listener");
	if (seq->n > LISTENERS_MAX)
		return ydoc_err(err, seq->items[LISTENERS_MAX], "a load balancer has at most %d "
				"listeners", LISTENERS_MAX);
	cfg->listeners = arena_alloc(&cfg->arena, seq->n * sizeof(*cfg->listeners));
	for (; cfg->nlisteners < seq->n; cfg->nlisteners++) {
		if (listener_load(cfg, seq->items[cfg->nlisteners],
				  &cfg->listeners[cfg->nlisteners], err))
			return -1;
	}
	return 0;
}
