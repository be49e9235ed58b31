"""Tests' check that an HTML page or fragment is well formed: every element opened is closed, in order."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class Tags(HTMLParser):
    """Every element opened is closed, in order (void elements aside)."""

    VOID = {"meta", "br", "hr", "img", "input", "link", "path", "use", "stop", "rect", "circle", "line", "polyline",
            "polygon", "ellipse", "image"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.seen.append(tag)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: Any) -> None:
        self.seen.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:] or 'nothing'}"
        self.open.pop()


def balanced(page: str) -> list[str]:
    """The tags of ``page`` in order, once every element it opens is closed in order (else an AssertionError)."""
    parser = Tags()
    parser.feed(page)
    parser.close()
    assert not parser.open, f"never closed: {parser.open}"
    return parser.seen
