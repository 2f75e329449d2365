#pragma once
/* The config file: libconfig syntax in, a validated Model out.
 *
 * config_load() reads the whole file and reports every problem it can find, not just the first:
 * syntax errors (libconfig stops there), unknown keys, wrong types, bad dates, durations, times
 * and zones, unknown or duplicate ids, unsafe strings and insecure transports.  Each problem is
 * one ConfigError with the file and line to print as "FILE:LINE: message".  It never logs. */

#include "noticed/model.h"

#define CONFIG_DEFAULT_PATH "/etc/noticed/noticed.conf" /* noticed -c and noticectl -c */

typedef struct ConfigError {
        char *file;
        unsigned line; /* 0 when the problem is with the file as a whole */
        char *message;
} ConfigError;

typedef struct ConfigErrors {
        ConfigError *items; /* sorted by file and line */
        size_t n;
} ConfigErrors;

/* Returns 0 and the model; -EINVAL when the file has errors (listed in errors); -ENOENT, -EACCES
 * or another -errno when it cannot be read (also listed); -ENOMEM.  errors is always
 * initialised and must be released with config_errors_done(). */
int config_load(const char *path, Model **ret, ConfigErrors *errors);
void config_errors_done(ConfigErrors *errors);
/* "FILE:LINE: message", or "FILE: message" for the file as a whole: how every program prints
 * one.  Malloc'd; NULL when out of memory. */
char *config_error_to_string(const ConfigError *e);
