/*
 * Unit tests for HTTPS listeners in config_load (config_listener.c): the
 * policy, certificates, mutual authentication and listener attributes,
 * AWS's defaults, and exact "file:line:col: message" errors.
 *
 * Each test writes config/lb.yaml in a temporary directory: "listeners:" on
 * line 1, the listener from line 2 ("  - port: 443" then its keys at column
 * 5 from line 3), its default action last.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/config.h"
#include "test.h"

static char fixture_dir[] = "/tmp/lb-test-config-listener-XXXXXX";
static char old_cwd[4096];
static struct lb_err err;

#define C "config/lb.yaml:"
#define DEFAULT_ACTIONS \
	"    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* "listeners:\n  - port: 443\n" + keys + the default action. */
static struct config *load_keys(const char *keys)
{
	struct buf text = BUF_INIT;
	struct config *cfg;

	buf_printf(&text, "listeners:\n  - port: 443\n%s" DEFAULT_ACTIONS, keys);
	put("config/lb.yaml", buf_cstr(&text));
	buf_release(&text);
	cfg = config_load("config/lb.yaml", &err);
	return cfg;
}

static const char *keys_err(const char *keys)
{
	struct config *cfg = load_keys(keys);

	if (!cfg)
		return err.msg;
	config_unref(cfg);
	return "(loaded)";
}

TEST(https_defaults_are_the_apis)
{
	struct config *cfg = load_keys("    protocol: HTTPS\n");
	const struct listener_cfg *l;

	if (!cfg) {
		FAIL_AT("load: %s", err.msg);
		return;
	}
	l = &cfg->listeners[0];
	CHECK_INT(l->protocol, PROTO_HTTPS);
	CHECK_STR(l->ssl_policy, "ELBSecurityPolicy-2016-08");
	CHECK(l->auto_certificate);
	CHECK_INT(l->ncertificates, 0);
	CHECK_INT(l->mtls.mode, MTLS_OFF);
	CHECK_STR(l->attrs.mtls_names[MTLS_H_LEAF], "X-Amzn-Mtls-Clientcert-Leaf");
	CHECK_STR(l->attrs.tls_version_name, "x-amzn-tls-version");
	CHECK(l->attrs.server_enabled);
	CHECK(l->attrs.response[RESP_H_HSTS] == NULL);
	config_unref(cfg);
}

TEST(certificates_resolve_relative_to_the_config_file)
{
	struct config *cfg = load_keys(
		"    protocol: HTTPS\n"
		"    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06\n"
		"    certificates: [{certificate: ../certs/a.pem, private_key: ../certs/a.key},\n"
		"                   {certificate: /abs/b.pem, private_key: /abs/b.key}]\n");
	const struct listener_cfg *l;

	if (!cfg) {
		FAIL_AT("load: %s", err.msg);
		return;
	}
	l = &cfg->listeners[0];
	CHECK(!l->auto_certificate);
	CHECK_INT(l->ncertificates, 2);
	CHECK(strstr(l->certificates[0].certificate, "config/../certs/a.pem") != NULL);
	CHECK_STR(l->certificates[1].private_key, "/abs/b.key");
	CHECK(strncmp(l->certificates[0].arn, "arn:aws:acm:us-east-1:123456789012:certificate/", 47) == 0);
	CHECK_INT(strlen(l->certificates[0].arn), 47 + 36);
	CHECK(strcmp(l->certificates[0].arn, l->certificates[1].arn) != 0);
	CHECK_INT(l->certificates[1].pos.line, 6);
	config_unref(cfg);
}

TEST(certificates_auto_and_empty_list_mean_lbs_ca)
{
	struct config *cfg = load_keys("    protocol: HTTPS\n    certificates: auto\n");

	CHECK(cfg && cfg->listeners[0].auto_certificate);
	config_unref(cfg);
	cfg = load_keys("    protocol: HTTPS\n    certificates: []\n");
	CHECK(cfg && cfg->listeners[0].auto_certificate);
	config_unref(cfg);
}

TEST(unknown_policy_is_an_error_at_its_value)
{
	CHECK_STR(keys_err("    protocol: HTTPS\n    ssl_policy: ELBSecurityPolicy-TLS13-1-2-2099\n"),
		  C "4:17: unknown ssl_policy 'ELBSecurityPolicy-TLS13-1-2-2099' (AWS's names, "
		  "e.g. ELBSecurityPolicy-TLS13-1-2-2021-06)");
}

TEST(tls_keys_need_https)
{
	CHECK_STR(keys_err("    ssl_policy: ELBSecurityPolicy-2016-08\n"),
		  C "3:5: 'ssl_policy' needs protocol HTTPS");
	CHECK_STR(keys_err("    certificates: auto\n"), C "3:5: 'certificates' needs protocol HTTPS");
	CHECK_STR(keys_err("    mutual_authentication: {mode: passthrough}\n"),
		  C "3:28: mutual_authentication needs protocol HTTPS");
}

TEST(certificate_entries_need_both_paths)
{
	CHECK_STR(keys_err("    protocol: HTTPS\n    certificates: [{certificate: a.pem}]\n"),
		  C "4:20: missing key 'private_key'");
	CHECK_STR(keys_err("    protocol: HTTPS\n    certificates: [{certificate: a.pem, "
			   "private_key: k, arn: x}]\n"),
		  C "4:57: unknown key 'arn' (it takes: certificate, private_key)");
	CHECK_STR(keys_err("    protocol: HTTPS\n    certificates: yes\n"),
		  C "4:19: 'certificates' must be 'auto' or a list of {certificate, private_key}");
}

TEST(mtls_modes_and_trust_store)
{
	struct config *cfg = load_keys("    protocol: HTTPS\n    mutual_authentication: {mode: verify, "
				       "trust_store: ca.pem, ignore_client_certificate_expiry: true}\n");

	if (!cfg) {
		FAIL_AT("load: %s", err.msg);
		return;
	}
	CHECK_INT(cfg->listeners[0].mtls.mode, MTLS_VERIFY);
	CHECK(strstr(cfg->listeners[0].mtls.trust_store, "config/ca.pem") != NULL);
	CHECK(cfg->listeners[0].mtls.ignore_expiry);
	config_unref(cfg);
	CHECK_STR(keys_err("    protocol: HTTPS\n    mutual_authentication: {mode: verify}\n"),
		  C "4:28: mutual_authentication mode 'verify' needs a 'trust_store'");
	CHECK_STR(keys_err("    protocol: HTTPS\n    mutual_authentication: {mode: passthrough, "
			   "advertise_trust_store_ca_names: \"on\"}\n"),
		  C "4:80: advertise_trust_store_ca_names needs mode 'verify'");
	CHECK_STR(keys_err("    protocol: HTTPS\n    mutual_authentication: {mode: verify, trust_store: "
			   "a, advertise_trust_store_ca_names: yes}\n"),
		  C "4:91: 'advertise_trust_store_ca_names' must be off or on, not 'yes'");
	CHECK_STR(keys_err("    protocol: HTTPS\n    mutual_authentication: {mode: strict}\n"),
		  C "4:35: 'mode' must be off, passthrough or verify, not 'strict'");
}

TEST(listener_attributes_rename_and_set_headers)
{
	struct config *cfg = load_keys(
		"    protocol: HTTPS\n"
		"    attributes:\n"
		"      routing.http.request.x_amzn_mtls_clientcert_leaf.header_name: X-Client-Leaf\n"
		"      routing.http.request.x_amzn_tls_version.header_name: X-Tls\n"
		"      routing.http.response.strict_transport_security.header_value: max-age=31536000\n"
		"      routing.http.response.server.enabled: false\n");
	const struct listener_attrs *a;

	if (!cfg) {
		FAIL_AT("load: %s", err.msg);
		return;
	}
	a = &cfg->listeners[0].attrs;
	CHECK_STR(a->mtls_names[MTLS_H_LEAF], "X-Client-Leaf");
	CHECK_STR(a->mtls_names[MTLS_H_SERIAL], "X-Amzn-Mtls-Clientcert-Serial-Number");
	CHECK_STR(a->tls_version_name, "X-Tls");
	CHECK_STR(a->tls_cipher_name, "x-amzn-tls-cipher-suite");
	CHECK_STR(a->response[RESP_H_HSTS], "max-age=31536000");
	CHECK(!a->server_enabled);
	config_unref(cfg);
}

TEST(listener_attribute_errors)
{
	CHECK_STR(keys_err("    attributes: {routing.http.response.nope.header_value: x}\n"),
		  C "3:18: unknown listener attribute 'routing.http.response.nope.header_value'");
	CHECK_STR(keys_err("    attributes: {routing.http.request.x_amzn_mtls_clientcert.header_name: "
			   "\"bad name\"}\n"),
		  C "3:75: 'routing.http.request.x_amzn_mtls_clientcert.header_name' must be a "
		  "header name of letters, digits and hyphens, not 'bad name'");
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

int main(void)
{
	if (!getcwd(old_cwd, sizeof(old_cwd)) || !mkdtemp(fixture_dir) || chdir(fixture_dir) ||
	    mkdir("config", 0755)) {
		perror("fixture");
		return 1;
	}
	RUN(https_defaults_are_the_apis);
	RUN(certificates_resolve_relative_to_the_config_file);
	RUN(certificates_auto_and_empty_list_mean_lbs_ca);
	RUN(unknown_policy_is_an_error_at_its_value);
	RUN(tls_keys_need_https);
	RUN(certificate_entries_need_both_paths);
	RUN(mtls_modes_and_trust_store);
	RUN(listener_attributes_rename_and_set_headers);
	RUN(listener_attribute_errors);
	if (chdir(old_cwd) == 0)
		nftw(fixture_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
