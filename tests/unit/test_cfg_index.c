/* inspect/cfg_index: numbers for a configuration's rules and target groups. */
#include "test.h"
#include "inspect/cfg_index.h"

TEST(rules_are_numbered_listener_by_listener_each_default_last)
{
	struct rule a[2], b[1];
	struct listener_cfg ls[2];
	struct config cfg;
	struct cfg_index x;

	memset(&cfg, 0, sizeof(cfg));
	memset(ls, 0, sizeof(ls));
	ls[0].rules = a;
	ls[0].nrules = 2;
	ls[1].rules = b;
	ls[1].nrules = 1;
	cfg.listeners = ls;
	cfg.nlisteners = 2;
	cfg_index_init(&x, &cfg);
	CHECK_INT(x.nlisteners, 2);
	CHECK_INT(x.nrules, 5);
	CHECK_INT(cfg_index_rule(&x, 0, &a[0]), 0);
	CHECK_INT(cfg_index_rule(&x, 0, &a[1]), 1);
	CHECK_INT(cfg_index_rule(&x, 0, &ls[0].default_rule), 2);
	CHECK_INT(cfg_index_rule(&x, 1, &b[0]), 3);
	CHECK_INT(cfg_index_rule(&x, 1, &ls[1].default_rule), 4);
	cfg_index_free(&x);
}

TEST(a_rule_of_another_listener_or_configuration_has_no_number)
{
	struct rule a[2], other[2];
	struct listener_cfg ls[2];
	struct config cfg;
	struct cfg_index x;

	memset(&cfg, 0, sizeof(cfg));
	memset(ls, 0, sizeof(ls));
	ls[0].rules = a;
	ls[0].nrules = 2;
	cfg.listeners = ls;
	cfg.nlisteners = 2;
	cfg_index_init(&x, &cfg);
	CHECK_INT(cfg_index_rule(&x, 1, &a[0]), -1);          /* listener 1 has no rules */
	CHECK_INT(cfg_index_rule(&x, 0, &other[0]), -1);      /* a reload's old rules */
	CHECK_INT(cfg_index_rule(&x, 0, &ls[1].default_rule), -1);
	CHECK_INT(cfg_index_rule(&x, 2, &a[0]), -1);          /* no such listener */
	CHECK_INT(cfg_index_rule(&x, -1, &a[0]), -1);
	CHECK_INT(cfg_index_rule(&x, 0, NULL), -1);
	/* a pointer inside a rule but not at its start */
	CHECK_INT(cfg_index_rule(&x, 0, (const struct rule *)((const char *)&a[1] + 1)), -1);
	cfg_index_free(&x);
}

TEST(target_groups_are_numbered_by_their_index)
{
	struct target_group tgs[3], other;
	struct config cfg;
	struct cfg_index x;

	memset(&cfg, 0, sizeof(cfg));
	cfg.target_groups = tgs;
	cfg.ntarget_groups = 3;
	cfg_index_init(&x, &cfg);
	CHECK_INT(x.ntgs, 3);
	CHECK_INT(cfg_index_tg(&x, &tgs[0]), 0);
	CHECK_INT(cfg_index_tg(&x, &tgs[2]), 2);
	CHECK_INT(cfg_index_tg(&x, &other), -1);
	CHECK_INT(cfg_index_tg(&x, NULL), -1);
	cfg_index_free(&x);
}

TEST(no_configuration_numbers_nothing)
{
	struct rule r;
	struct target_group tg;
	struct cfg_index x;

	cfg_index_init(&x, NULL);
	CHECK_INT(x.nrules, 0);
	CHECK_INT(x.ntgs, 0);
	CHECK_INT(cfg_index_rule(&x, 0, &r), -1);
	CHECK_INT(cfg_index_tg(&x, &tg), -1);
	cfg_index_free(&x);
}

int main(void)
{
	RUN(rules_are_numbered_listener_by_listener_each_default_last);
	RUN(a_rule_of_another_listener_or_configuration_has_no_number);
	RUN(target_groups_are_numbered_by_their_index);
	RUN(no_configuration_numbers_nothing);
	return test_done();
}
