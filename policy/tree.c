/*
 * tree.c — YAML text to a policy_node tree, with libyaml's event API.
 *
 * The event API and not yaml_parser_load(): the document API resolves
 * aliases into shared nodes, drops anchors and gives every untagged node a
 * default tag, so "!!str 5" and "5" would look the same. Events show all
 * of it, and a policy has no use for any of it: anchors, aliases and tags
 * are refused here, at their own position.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "policy/internal.h"
#include "util/error.h"
#include "util/str.h"
#include "util/banned.h"

struct tree {
	yaml_parser_t parser;
	const char *path;
	const char *text;
	size_t len;
};

/* libyaml's reader errors (bad UTF-8, control characters) carry a byte
 * offset, not a mark: count lines and characters up to it. */
static void offset_mark(const struct tree *t, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	if (off > t->len)
		off = t->len;
	for (size_t i = 0; i < off; i++) {
		unsigned char ch = (unsigned char)t->text[i];

		if (ch == '\n') {
			(*line)++;
			*col = 1;
		} else if ((ch & 0xC0) != 0x80) {
			(*col)++;   /* UTF-8 continuation bytes do not start a character */
		}
	}
}

static int syntax_error(struct tree *t)
{
	const yaml_parser_t *p = &t->parser;
	const char *problem = p->problem ? p->problem : "invalid YAML";
	const char *hint = "";
	size_t line, col;

	if (p->error == YAML_MEMORY_ERROR)
		xdie("out of memory");
	if (p->error == YAML_READER_ERROR) {
		offset_mark(t, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			return error_set(RV_EINVALID, "%s:%zu:%zu: %s (0x%X)", t->path, line, col,
			                 problem, (unsigned)p->problem_value);
		return error_set(RV_EINVALID, "%s:%zu:%zu: %s", t->path, line, col, problem);
	}
	line = p->problem_mark.line + 1;
	col = p->problem_mark.column + 1;
	if (!p->context)
		return error_set(RV_EINVALID, "%s:%zu:%zu: %s", t->path, line, col, problem);
	/* An unquoted glob such as [*] or *-rc* is read as an alias. */
	if (strcmp(p->context, "while scanning an alias") == 0)
		hint = "; a glob that starts with '*' must be quoted: \"*\"";
	return error_set(RV_EINVALID, "%s:%zu:%zu: %s (%s at %zu:%zu)%s", t->path, line, col,
	                 problem, p->context, (size_t)p->context_mark.line + 1,
	                 (size_t)p->context_mark.column + 1, hint);
}

/* "tag:yaml.org,2002:str" is written "!!str": show it the way it was typed. */
static int refuse_tag(struct tree *t, const yaml_event_t *ev, const char *tag)
{
	static const char core[] = "tag:yaml.org,2002:";
	char q[80];

	if (strncmp(tag, core, sizeof(core) - 1) == 0)
		snprintf(q, sizeof(q), "!!%s", tag + sizeof(core) - 1);
	else
		str_printable(q, sizeof(q), tag);
	return error_set(RV_EINVALID, "%s:%zu:%zu: tag \"%s\" is not allowed (quote a value to "
	                 "make it a string)", t->path,
	                 (size_t)ev->start_mark.line + 1, (size_t)ev->start_mark.column + 1, q);
}

/* Anchors, aliases and tags: YAML features a policy never needs, and
 * aliases would let one value stand for another out of sight. */
static int check_props(struct tree *t, const yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	size_t line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
	char q[80];

	if (ev->type == YAML_ALIAS_EVENT)
		return error_set(RV_EINVALID, "%s:%zu:%zu: alias \"*%s\" is not allowed (a glob "
		                 "that starts with '*' must be quoted)", t->path, line, col,
		                 str_printable(q, sizeof(q), (const char *)ev->data.alias.anchor));
	if (ev->type == YAML_SCALAR_EVENT) {
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
	} else if (ev->type == YAML_SEQUENCE_START_EVENT) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else if (ev->type == YAML_MAPPING_START_EVENT) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	if (anchor)
		return error_set(RV_EINVALID, "%s:%zu:%zu: anchor \"&%s\" is not allowed", t->path,
		                 line, col, str_printable(q, sizeof(q), (const char *)anchor));
	if (tag)
		return refuse_tag(t, ev, (const char *)tag);
	return 0;
}

/* The next event, refused when it carries an anchor, alias or tag. On
 * error no event is left to delete. */
static int next_event(struct tree *t, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&t->parser, ev))
		return syntax_error(t);
	if (check_props(t, ev) < 0) {
		yaml_event_delete(ev);
		return RV_EINVALID;
	}
	return 0;
}

static int build_node(struct tree *t, yaml_event_t *ev, struct policy_node *out, int depth);

/* Reads the items of a list or mapping up to its end event. Each child is
 * appended zeroed before it is built, so a failure anywhere leaves a tree
 * that policy_tree_free() releases whole. */
static int build_children(struct tree *t, struct policy_node *out, int depth)
{
	yaml_event_type_t end = out->kind == POLICY_NODE_SEQ ? YAML_SEQUENCE_END_EVENT
	                                                     : YAML_MAPPING_END_EVENT;
	yaml_event_t ev;
	int rc;

	for (;;) {
		if ((rc = next_event(t, &ev)) < 0)
			return rc;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		out->kids = xgrow(out->kids, sizeof(*out->kids), out->n + 1, &out->alloc);
		memset(&out->kids[out->n], 0, sizeof(*out->kids));
		out->n++;
		if ((rc = build_node(t, &ev, &out->kids[out->n - 1], depth + 1)) < 0)
			return rc;
	}
}

/* Builds the node that ev starts; consumes ev. */
static int build_node(struct tree *t, yaml_event_t *ev, struct policy_node *out, int depth)
{
	out->line = (int)ev->start_mark.line + 1;
	out->col = (int)ev->start_mark.column + 1;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		out->kind = POLICY_NODE_SCALAR;
		out->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		out->len = ev->data.scalar.length;
		out->text = xmalloc(out->len + 1);
		memcpy(out->text, ev->data.scalar.value, out->len);
		out->text[out->len] = '\0';
		yaml_event_delete(ev);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		out->kind = ev->type == YAML_SEQUENCE_START_EVENT ? POLICY_NODE_SEQ : POLICY_NODE_MAP;
		yaml_event_delete(ev);
		if (depth >= POLICY_MAX_DEPTH)
			return error_set(RV_EINVALID, "%s:%d:%d: nested deeper than %d levels",
			                 t->path, out->line, out->col, POLICY_MAX_DEPTH);
		return build_children(t, out, depth);
	default:
		/* libyaml only starts nodes where a node may start. */
		yaml_event_delete(ev);
		return error_set(RV_EINVALID, "%s:%d:%d: unexpected YAML event", t->path,
		                 out->line, out->col);
	}
}

/* Expects an event of `type` next and drops it. */
static int expect(struct tree *t, yaml_event_type_t type)
{
	yaml_event_t ev;
	int rc = next_event(t, &ev);

	if (rc < 0)
		return rc;
	rc = ev.type == type ? 0
	     : error_set(RV_EINVALID, "%s:%zu:%zu: unexpected YAML event", t->path,
	                 (size_t)ev.start_mark.line + 1, (size_t)ev.start_mark.column + 1);
	yaml_event_delete(&ev);
	return rc;
}

/* After the first document: the stream must end. */
static int expect_stream_end(struct tree *t)
{
	yaml_event_t ev;
	int rc = next_event(t, &ev);

	if (rc < 0)
		return rc;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		rc = error_set(RV_EINVALID, "%s:%zu:%zu: a second YAML document starts here "
		               "(a policy is one document)", t->path,
		               (size_t)ev.start_mark.line + 1, (size_t)ev.start_mark.column + 1);
	else if (ev.type != YAML_STREAM_END_EVENT)
		rc = error_set(RV_EINVALID, "%s:%zu:%zu: unexpected YAML event", t->path,
		               (size_t)ev.start_mark.line + 1, (size_t)ev.start_mark.column + 1);
	yaml_event_delete(&ev);
	return rc;
}

/* The one document: DOCUMENT-START node DOCUMENT-END, then the stream's end. */
static int parse_stream(struct tree *t, struct policy_node **out)
{
	yaml_event_t ev;
	int rc;

	if ((rc = expect(t, YAML_STREAM_START_EVENT)) < 0 || (rc = next_event(t, &ev)) < 0)
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;   /* nothing but blanks and comments */
	}
	yaml_event_delete(&ev);   /* DOCUMENT-START, the only other choice */
	if ((rc = next_event(t, &ev)) < 0)
		return rc;
	*out = xcalloc(1, sizeof(**out));
	if ((rc = build_node(t, &ev, *out, 0)) < 0)
		return rc;
	if ((rc = expect(t, YAML_DOCUMENT_END_EVENT)) < 0)
		return rc;
	return expect_stream_end(t);
}

int policy_tree_parse(struct policy_node **out, const char *text, size_t len, const char *path)
{
	struct tree t = { .path = path, .text = text ? text : "", .len = text ? len : 0 };
	struct policy_node *root = NULL;
	int rc;

	*out = NULL;
	if (!yaml_parser_initialize(&t.parser))
		xdie("out of memory");
	yaml_parser_set_input_string(&t.parser, (const unsigned char *)t.text, t.len);
	rc = parse_stream(&t, &root);
	yaml_parser_delete(&t.parser);
	if (rc < 0) {
		policy_tree_free(root);
		return rc;
	}
	*out = root;
	return 0;
}

static void node_release(struct policy_node *n)
{
	for (size_t i = 0; i < n->n; i++)
		node_release(&n->kids[i]);
	free(n->kids);
	free(n->text);
}

void policy_tree_free(struct policy_node *n)
{
	if (!n)
		return;
	node_release(n);
	free(n);
}
