/* http_origin: an origin's address and, for a name with both families, its alternate. */
#include "net/http_client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include "base/log.h"
#include "test.h"

/* A getaddrinfo answer of up to four numeric addresses, in the given order. */
struct answer {
	struct addrinfo ai[4];
	struct sockaddr_storage sa[4];
};

static const struct addrinfo *answer_of(struct answer *a, const char *const *ips, size_t n)
{
	memset(a, 0, sizeof(*a));
	for (size_t i = 0; i < n; i++) {
		struct addrinfo *ai = &a->ai[i];
		struct sockaddr_in *s4 = (struct sockaddr_in *)&a->sa[i];
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a->sa[i];

		if (inet_pton(AF_INET, ips[i], &s4->sin_addr) == 1) {
			s4->sin_family = ai->ai_family = AF_INET;
			ai->ai_addrlen = sizeof(*s4);
		} else {
			inet_pton(AF_INET6, ips[i], &s6->sin6_addr);
			s6->sin6_family = ai->ai_family = AF_INET6;
			ai->ai_addrlen = sizeof(*s6);
		}
		ai->ai_socktype = SOCK_STREAM;
		ai->ai_addr = (struct sockaddr *)&a->sa[i];
		ai->ai_next = i + 1 < n ? &a->ai[i + 1] : NULL;
	}
	return a->ai;
}

static int port_of(const struct sockaddr *sa)
{
	return ntohs(sa->sa_family == AF_INET6 ? ((const struct sockaddr_in6 *)sa)->sin6_port
					       : ((const struct sockaddr_in *)sa)->sin_port);
}

TEST(a_name_with_both_families_goes_to_ipv4_first_with_ipv6_as_alternate)
{
	static const char *const ips[] = { "::1", "127.0.0.1" };   /* getaddrinfo prefers ::1 */
	struct answer a;
	struct http_origin o;
	socklen_t len;

	http_origin_from_addrinfo(&o, answer_of(&a, ips, 2), 5173);
	CHECK_STR(o.key, "127.0.0.1:5173");
	CHECK_STR(o.alt_key, "[::1]:5173");
	CHECK_INT(http_origin_addr(&o, false, &len)->sa_family, AF_INET);
	CHECK_INT(len, sizeof(struct sockaddr_in));
	CHECK_INT(port_of(http_origin_addr(&o, false, &len)), 5173);
	CHECK_INT(http_origin_addr(&o, true, &len)->sa_family, AF_INET6);
	CHECK_INT(len, sizeof(struct sockaddr_in6));
	CHECK_INT(port_of(http_origin_addr(&o, true, &len)), 5173);
}

TEST(the_alternate_is_the_first_address_of_the_other_family)
{
	static const char *const ips[] = { "10.0.0.1", "fd00::1", "10.0.0.2", "fd00::2" };
	struct answer a;
	struct http_origin o;

	http_origin_from_addrinfo(&o, answer_of(&a, ips, 4), 80);
	CHECK_STR(o.key, "10.0.0.1:80");
	CHECK_STR(o.alt_key, "[fd00::1]:80");
}

TEST(a_name_of_one_family_has_no_alternate)
{
	static const char *const v4[] = { "127.0.0.1", "127.0.0.2" }, *const v6[] = { "::1" };
	struct answer a;
	struct http_origin o;

	http_origin_from_addrinfo(&o, answer_of(&a, v4, 2), 80);
	CHECK_STR(o.key, "127.0.0.1:80");
	CHECK_INT(o.alt_len, 0);
	http_origin_from_addrinfo(&o, answer_of(&a, v6, 1), 80);
	CHECK_STR(o.key, "[::1]:80");
	CHECK_INT(o.alt_len, 0);
	CHECK_INT(http_origin_numeric(&o, "::1", 8080), 0);
	CHECK_STR(o.key, "[::1]:8080");
	CHECK_INT(o.alt_len, 0);
}

TEST(a_new_port_moves_the_address_and_the_alternate)
{
	static const char *const ips[] = { "127.0.0.1", "::1" };
	struct answer a;
	struct http_origin o;
	socklen_t len;

	http_origin_from_addrinfo(&o, answer_of(&a, ips, 2), 3000);
	http_origin_set_port(&o, 3001);
	CHECK_STR(o.key, "127.0.0.1:3001");
	CHECK_STR(o.alt_key, "[::1]:3001");
	CHECK_INT(port_of(http_origin_addr(&o, false, &len)), 3001);
	CHECK_INT(port_of(http_origin_addr(&o, true, &len)), 3001);
}

TEST(the_address_that_answered_goes_first_until_the_other_does)
{
	static const char *const ips[] = { "127.0.0.1", "::1" };
	struct answer a;
	struct http_origin o;
	struct http_origin_pref p = { 0 };

	http_origin_from_addrinfo(&o, answer_of(&a, ips, 2), 80);
	CHECK(!http_origin_alt_first(&p, &o));
	http_origin_answered(&p, &o, false, false, "target");
	CHECK(!http_origin_alt_first(&p, &o));
	CHECK(!p.logged);
	http_origin_answered(&p, &o, true, true, "target");
	CHECK(http_origin_alt_first(&p, &o));
	CHECK(p.logged);
	http_origin_answered(&p, &o, true, false, "target");
	CHECK(http_origin_alt_first(&p, &o));
	http_origin_answered(&p, &o, false, true, "target");
	CHECK(!http_origin_alt_first(&p, &o));
}

TEST(an_origin_without_alternate_always_goes_to_its_address)
{
	struct http_origin o;
	struct http_origin_pref p = { .alt_first = true };

	http_origin_numeric(&o, "127.0.0.1", 80);
	CHECK(!http_origin_alt_first(&p, &o));
	http_origin_answered(&p, &o, false, true, "target");
	CHECK(!p.logged);
}

int main(void)
{
	log_set_level(LOG_ERROR);   /* the fallback's log line is for people */
	RUN(a_name_with_both_families_goes_to_ipv4_first_with_ipv6_as_alternate);
	RUN(the_alternate_is_the_first_address_of_the_other_family);
	RUN(a_name_of_one_family_has_no_alternate);
	RUN(a_new_port_moves_the_address_and_the_alternate);
	RUN(the_address_that_answered_goes_first_until_the_other_does);
	RUN(an_origin_without_alternate_always_goes_to_its_address);
	return test_done();
}
