/*
 * tls_ca: lb's local CA (see tls_ca.h).
 *
 * The CA key is ECDSA P-256, its certificate valid ten years; it is written
 * once (key 0600, via a temporary file and link(2), so two lb processes
 * starting together end up with the same CA). Listener certificates are
 * issued at every load and never written: 397 days, the longest validity
 * browsers accept, ECDSA P-256 with the names a local client uses.
 */
#include "net/tls_ca.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "base/buf.h"
#include "base/util.h"
#include "config/config.h"
#include "net/tls.h"

#define CA_DAYS 3650
#define LEAF_DAYS 397

char *tls_ca_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	struct buf b = BUF_INIT;

	char *dir;

	if (xdg && *xdg)
		buf_printf(&b, "%s/lb", xdg);
	else
		buf_printf(&b, "%s/.local/share/lb", home && *home ? home : ".");
	dir = xstrdup(buf_cstr(&b));
	buf_release(&b);
	return dir;
}

/* FNV-1a, 64 bits, as hex: a stable id for a set of names. */
static void stable_id(const char *s, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int mkdirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, 0700) < 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (ext) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
}

static X509 *new_cert(EVP_PKEY *key, const char *cn, long days, long back)
{
	X509 *x = X509_new();
	unsigned char serial[16];
	BIGNUM *bn;

	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;   /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -back);
	X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "O", MBSTRING_UTF8,
				   (const unsigned char *)"lb local development", -1, -1, 0);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	return x;
}

static int write_pem_once(const char *path, const char *tmp, X509 *x, EVP_PKEY *k, mode_t mode)
{
	FILE *f;
	int fd, ok;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	ok = fclose(f) == 0 && ok;
	/* link(2) fails if another lb made it first: theirs is kept. */
	if (ok && link(tmp, path) < 0 && errno != EEXIST)
		ok = 0;
	unlink(tmp);
	return ok ? 0 : -1;
}

static int ca_create(const char *dir, struct lb_err *err)
{
	char key_path[4096], cert_path[4096], tmp[4200];
	EVP_PKEY *k = new_key();
	X509 *x = NULL;
	char user[300];
	int rc = -1;

	if (!k)
		return lb_err_set(err, "cannot make the local CA's key");
	snprintf(user, sizeof(user), "lb local CA (%s)", getenv("USER") ? getenv("USER") : "user");
	x = new_cert(k, user, CA_DAYS, 3600);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
	add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	add_ext(x, x, NID_subject_key_identifier, "hash");
	X509_sign(x, k, EVP_sha256());
	snprintf(key_path, sizeof(key_path), "%s/ca.key", dir);
	snprintf(cert_path, sizeof(cert_path), "%s/ca.pem", dir);
	snprintf(tmp, sizeof(tmp), "%s/.ca.key.%d", dir, (int)getpid());
	if (write_pem_once(key_path, tmp, NULL, k, 0600) < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s/.ca.pem.%d", dir, (int)getpid());
	/* Another lb may have won the key race: only a CA whose key is on disk counts. */
	if (access(cert_path, F_OK) == 0) {
		rc = 0;
		goto out;
	}
	if (write_pem_once(cert_path, tmp, x, NULL, 0644) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		lb_err_set(err, "cannot write the local CA in %s: %s", dir, strerror(errno));
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

char *tls_ca_ensure(struct lb_err *err)
{
	char *dir = tls_ca_dir();
	struct buf path = BUF_INIT, key = BUF_INIT;
	char *out = NULL;

	buf_printf(&path, "%s/ca.pem", dir);
	buf_printf(&key, "%s/ca.key", dir);
	if (access(buf_cstr(&path), R_OK) == 0 && access(buf_cstr(&key), R_OK) == 0) {
		out = xstrdup(buf_cstr(&path));
		goto done;
	}
	if (mkdirs(dir) < 0) {
		lb_err_set(err, "cannot create %s for the local CA: %s", dir, strerror(errno));
		goto done;
	}
	if (access(buf_cstr(&key), R_OK) == 0 && access(buf_cstr(&path), R_OK) != 0) {
		lb_err_set(err, "%s exists without %s: remove it to make a new local CA",
			   buf_cstr(&key), buf_cstr(&path));
		goto done;
	}
	if (ca_create(dir, err) == 0)
		out = xstrdup(buf_cstr(&path));
done:
	buf_release(&path);
	buf_release(&key);
	free(dir);
	return out;
}

static int ca_load(X509 **ca, EVP_PKEY **key, struct lb_err *err)
{
	char *path = tls_ca_ensure(err), *kpath;
	FILE *f;
	int rc = -1;

	if (!path)
		return -1;
	kpath = xstrdup(path);
	strcpy(kpath + strlen(kpath) - 3, "key");   /* ca.pem -> ca.key */
	if ((f = fopen(path, "r"))) {
		*ca = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if ((f = fopen(kpath, "r"))) {
		*key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (*ca && *key && X509_check_private_key(*ca, *key))
		rc = 0;
	else
		lb_err_set(err, "cannot read the local CA (%s, %s): remove both to make a new one",
			   path, kpath);
	ERR_clear_error();
	free(path);
	free(kpath);
	return rc;
}

/* A host-header pattern usable as a certificate name: letters, digits,
 * hyphens and dots, with at most a leading "*." wildcard. */
static bool dns_name_ok(const char *s)
{
	size_t n;

	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	n = strlen(s);
	return n > 0 && n < 254 && strchr(s, '.') != NULL &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

static void san_add(struct buf *san, const char *kind, const char *name)
{
	char item[300];

	snprintf(item, sizeof(item), "%s:%s", kind, name);
	/* no duplicates: compare whole items */
	for (const char *p = buf_cstr(san); (p = strstr(p, item)); p++) {
		size_t k = strlen(item);
		if ((p == buf_cstr(san) || p[-1] == ',') && (p[k] == ',' || p[k] == 0))
			return;
	}
	if (san->len)
		buf_putc(san, ',');
	buf_puts(san, item);
}

/* localhost, 127.0.0.1, ::1, the listener's address, its rules' host names. */
static void leaf_names(const struct listener_cfg *lc, struct buf *san)
{
	san_add(san, "DNS", "localhost");
	san_add(san, "IP", "127.0.0.1");
	san_add(san, "IP", "::1");
	if (strcmp(lc->address, "0.0.0.0") != 0 && strcmp(lc->address, "::") != 0)
		san_add(san, "IP", lc->address);
	for (size_t i = 0; i < lc->nrules; i++) {
		const struct rule *r = &lc->rules[i];

		for (size_t k = 0; k < r->nconditions; k++) {
			const struct condition *c = &r->conditions[k];

			if (c->type != COND_HOST_HEADER)
				continue;
			for (size_t v = 0; v < c->nvalues; v++) {
				if (dns_name_ok(c->values[v]))
					san_add(san, "DNS", c->values[v]);
			}
		}
	}
}

int tls_ca_issue(const struct config *cfg, const struct listener_cfg *lc, struct tls_ca_issued *out,
		 struct lb_err *err)
{
	struct buf san = BUF_INIT;
	char id[17], e[256];

	memset(out, 0, sizeof(*out));
	if (ca_load(&out->ca, &out->key, err) < 0)
		goto fail;
	{
		EVP_PKEY *ca_key = out->key;

		out->key = new_key();
		out->cert = new_cert(out->key, "localhost", LEAF_DAYS, 3600);
		X509_set_issuer_name(out->cert, X509_get_subject_name(out->ca));
		leaf_names(lc, &san);
		add_ext(out->cert, out->ca, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(out->cert, out->ca, NID_key_usage, "critical,digitalSignature");
		add_ext(out->cert, out->ca, NID_ext_key_usage, "serverAuth");
		add_ext(out->cert, out->ca, NID_subject_alt_name, buf_cstr(&san));
		add_ext(out->cert, out->ca, NID_subject_key_identifier, "hash");
		add_ext(out->cert, out->ca, NID_authority_key_identifier, "keyid");
		if (!X509_sign(out->cert, ca_key, EVP_sha256())) {
			EVP_PKEY_free(ca_key);
			lb_err_at(err, lc->pos.file, lc->pos.line, lc->pos.col, "cannot issue the "
				  "listener's certificate: %s", tls_last_error(e, sizeof(e)));
			goto fail;
		}
		EVP_PKEY_free(ca_key);
	}
	/* A stable ARN for the access log's chosen_cert_arn: one per name set. */
	stable_id(buf_cstr(&san), id);
	snprintf(out->arn, sizeof(out->arn), "arn:aws:acm:%s:%s:certificate/lb-auto-%s",
		 cfg->lb.region, cfg->lb.account_id, id);
	buf_release(&san);
	return 0;
fail:
	buf_release(&san);
	tls_ca_issued_release(out);
	return -1;
}

void tls_ca_issued_release(struct tls_ca_issued *c)
{
	X509_free(c->cert);
	X509_free(c->ca);
	EVP_PKEY_free(c->key);
	c->cert = c->ca = NULL;
	c->key = NULL;
}

int tls_ca_explain(FILE *out, struct lb_err *err)
{
	char *path = tls_ca_ensure(err);

	if (!path)
		return -1;
	fprintf(out,
		"%s\n"
		"\n"
		"lb's local CA signs the certificates of HTTPS listeners with `certificates: auto`\n"
		"(made once per user; remove the directory to start over). Trust it with:\n"
		"\n"
		"  curl      curl --cacert %s https://localhost:8443/\n"
		"  Node      NODE_EXTRA_CA_CERTS=%s node app.js\n"
		"  Python    SSL_CERT_FILE=%s python3 app.py   (requests: REQUESTS_CA_BUNDLE=...)\n"
		"            OpenSSL-based tools read SSL_CERT_FILE too; it replaces the system bundle\n"
		"  Chromium  Settings > Privacy and security > Security > Manage certificates >\n"
		"            Authorities > Import, or:\n"
		"            certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n 'lb local CA' -i %s\n"
		"  Firefox   Settings > Privacy & Security > Certificates > View Certificates >\n"
		"            Authorities > Import\n"
		"  Debian    sudo cp %s /usr/local/share/ca-certificates/lb-local-ca.crt &&\n"
		"            sudo update-ca-certificates\n",
		path, path, path, path, path, path);
	free(path);
	return 0;
}
