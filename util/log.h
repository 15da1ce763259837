/*
 * log.h — levelled diagnostics through a sink that cli/ installs.
 *
 * Only cli/ prints. Lower layers call log_*(); without a sink (unit tests,
 * library use) the messages go nowhere. REGVAULT_TRACE output of HTTP
 * traffic arrives here at LOGLV_TRACE, already redacted by registry/.
 */
#ifndef RV_UTIL_LOG_H
#define RV_UTIL_LOG_H

#include "util/xalloc.h"

enum log_level { LOGLV_ERROR = 0, LOGLV_WARN, LOGLV_INFO, LOGLV_DEBUG, LOGLV_TRACE };

typedef void (*log_sink_fn)(enum log_level level, const char *msg, void *ctx);

/* Installs the sink and the most verbose level it wants. */
void log_set_sink(log_sink_fn sink, void *ctx, enum log_level max);
int log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) RV_PRINTF(2, 3);

#define log_warn(...) log_msg(LOGLV_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGLV_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOGLV_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(LOGLV_TRACE, __VA_ARGS__)

#endif
