/* log.h — leveled logging to stderr: "2026-01-01T00:00:00.000Z I component: message".
 * Daemons log once, where an error is handled; library-like code logs at most at debug. */
#pragma once
#include "common/base.h"

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_msg(enum log_level lvl, const char *comp, const char *fmt, ...) PRINTF_LIKE(3, 4);

#define log_err(comp, ...) log_msg(LOG_ERR, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...)                                                                       \
        do {                                                                                       \
                if (log_get_level() >= LOG_DEBUG)                                                  \
                        log_msg(LOG_DEBUG, comp, __VA_ARGS__);                                     \
        } while (0)
