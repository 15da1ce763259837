#!/usr/bin/env python3
"""tests/report/dom.py DUMP.html — what a prune report's DOM shows, as JSON.

Reads the DOM chromium dumped (--dump-dom: after the page's script ran)
with Python's own HTML parser, so the checks do not trust the page's
markup to be what the renderer meant, and prints:

  {"title", "ids": [...], "scripts": N, "query": body's data-query or null,
   "summary": {attributes of #summary, "text"}, "refused": text or null,
   "shown": text of #shown,
   "chart": [{"repo", "protected", "kept", "delete"}],
   "sections": [{"repo", "hidden"}],
   "rows": [{"repo", "digest", "decision", "is", "top", "hidden",
             "badges": [...], "tags": [...], "reasons": [...]}]}
"""
import json
import sys
from html.parser import HTMLParser

VOID = {"meta", "input", "br", "img", "link", "hr", "wbr", "source", "col", "area", "base"}


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = {"title": "", "ids": [], "scripts": 0, "query": None, "summary": None,
                    "refused": None, "shown": None, "chart": [], "sections": [], "rows": []}
        self.stack = []      # (tag, attrs)
        self.capture = None  # (kind, list to append text to)
        self.row = None
        self.li = None

    def in_(self, tag, cls=None, id_=None):
        for t, a in self.stack:
            if t == tag and (cls is None or cls in a.get("class", "").split()) \
                    and (id_ is None or a.get("id") == id_):
                return True
        return False

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if "id" in a:
            self.out["ids"].append(a["id"])
        if tag == "script":
            self.out["scripts"] += 1
        if tag == "body":
            self.out["query"] = a.get("data-query")
        if tag == "p" and a.get("id") == "summary":
            self.out["summary"] = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
            self.out["summary"]["text"] = ""
        if tag == "p" and a.get("id") == "refused":
            self.out["refused"] = ""
        if tag == "tr" and "data-protected-bytes" in a:
            self.out["chart"].append({"repo": a["data-repo"],
                                      "protected": int(a["data-protected-bytes"]),
                                      "kept": int(a["data-kept-bytes"]),
                                      "delete": int(a["data-delete-bytes"])})
        if tag == "section" and "repo" in a.get("class", "").split():
            self.out["sections"].append({"repo": a["data-repo"], "hidden": "hidden" in a})
        if tag == "tr" and "img" in a.get("class", "").split():
            self.row = {"repo": a["data-repo"], "digest": None, "decision": a["data-decision"],
                        "is": a["data-is"].split(), "top": a["data-top"] == "1",
                        "hidden": "hidden" in a, "badges": [], "tags": [], "reasons": []}
            self.out["rows"].append(self.row)
        if tag == "td" and self.row is not None and "dg" in a.get("class", "").split():
            self.row["digest"] = a.get("title")
        if tag == "span" and self.row is not None:
            cls = a.get("class", "").split()
            if "badge" in cls:
                self.row["badges"].append("")
            if "tag" in cls:
                self.row["tags"].append("")
        if tag == "li" and self.row is not None:
            self.row["reasons"].append("")
        if tag not in VOID:
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        while self.stack:
            t, a = self.stack.pop()
            if t == "tr" and "img" in a.get("class", "").split():
                self.row = None
            if t == tag:
                break

    def handle_data(self, data):
        if not self.stack:
            return
        tag, a = self.stack[-1]
        if self.in_("title"):
            self.out["title"] += data
        if self.in_("p", id_="summary"):
            self.out["summary"]["text"] += data
        if self.in_("p", id_="refused"):
            self.out["refused"] += data
        if self.in_("span", id_="shown"):
            self.out["shown"] = (self.out["shown"] or "") + data
        if self.row is not None:
            if self.in_("span", cls="badge"):
                self.row["badges"][-1] += data
            if self.in_("span", cls="tag"):
                self.row["tags"][-1] += data
            if self.in_("li"):
                self.row["reasons"][-1] += data


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    d = Dom()
    d.feed(text)
    d.close()
    json.dump(d.out, sys.stdout)


if __name__ == "__main__":
    main()
