/*
 * log.c — levelled diagnostics through the sink cli/ installs. Only cli/
 * prints (STYLE.md habit 5): without a sink every message is dropped.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"
#include "util/banned.h"

/* Set once by cli/ before threads start; read-only afterwards. */
static log_sink_fn sink;
static void *sink_ctx;
static enum log_level sink_max = LOGLV_ERROR;

void log_set_sink(log_sink_fn fn, void *ctx, enum log_level max)
{
	sink = fn;
	sink_ctx = ctx;
	sink_max = max;
}

int log_enabled(enum log_level level)
{
	return sink != NULL && level <= sink_max;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char small[512], *text = small;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	/* Most lines fit on the stack; HTTP traces may not, so measure once
	 * and fall back to the heap rather than cut them. */
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		text = xmalloc((size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf(text, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	sink(level, text, sink_ctx);
	if (text != small)
		free(text);
}
