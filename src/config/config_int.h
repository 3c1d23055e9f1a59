/*
 * config_int: helpers config.c shares with the files that load parts of the
 * configuration (config_tg.c). Internal to config_load.
 */
#ifndef LB_CONFIG_INT_H
#define LB_CONFIG_INT_H

#include "config/config.h"
#include "config/yaml_doc.h"

/* printf into a, returning the new string. */
char *config_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 16 lower-case hex digits that depend only on name, for ids in ARNs. */
void config_stable_id(const char *name, char out[17]);
/* ELB's name rule for name (a `what` name written under n's "name" key); -1 with err set. */
int config_elb_name_check(const struct ynode *n, const char *what, const char *name,
			  struct lb_err *err);

/* config_listener.c: cfg->listeners from the `listeners:` list seq. -1 with err set. */
int config_listeners_load(struct config *cfg, const struct ynode *seq, struct lb_err *err);
/* The address s in a comparable form (family byte, 16 address bytes); -1 if not numeric. */
int config_address_key(const char *s, uint8_t key[17]);

#endif
