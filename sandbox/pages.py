"""The documentation that ships with domainsandbox, readable without the repository:
`domainsandbox docs` lists the pages, `domainsandbox docs scaleway` prints one, and a word that
names no page (`domainsandbox docs scenarios`) prints the sections whose headings hold it, or
else lists those whose text does.

In a wheel the pages sit in the package (sandbox/docs/, the README among them); in a checkout,
in docs/ and the README at the repository's root.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import NamedTuple

from .shipped import provider_names, shipped

README = "readme"


def pages() -> dict[str, Path]:
    """Every page by name (a file's name in lower case, without .md), the README first: among
    the pages in a wheel, beside their folder in a checkout."""
    folder = shipped("docs")
    found = {path.stem.lower(): path for path in sorted(folder.glob("*.md"))}
    readme = found.pop(README, folder.parent / "README.md")
    return {README: readme} | found


def title(path: Path) -> str:
    """A page's title: its first heading."""
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.startswith("# "):
                return line[2:].strip()
    return ""


class UnknownPage(LookupError):
    def __str__(self) -> str:
        name = self.args[0]
        close = difflib.get_close_matches(_page_name(name), [*pages(), *provider_names()], n=1)
        meant = f"did you mean {close[0]!r}? " if close else ""  # `docs resnd`
        return f"no page {name!r}; {meant}the pages: {', '.join(pages())}"


def _page_name(name: str) -> str:
    """The page `name` asks for: `scaleway`, `scaleway.md` and `docs/Scaleway.md` alike."""
    return Path(name).name.lower().removesuffix(".md")


def find(name: str) -> Path:
    """The page called `name`: `scaleway`, `scaleway.md`, `docs/scaleway.md` or `README.md`
    alike. A provider without a page of its own (Monite) is the README's walkthrough."""
    wanted = _page_name(name)
    found = pages()
    path = found.get(wanted)
    if path is None and _provider_without_page(wanted):
        path = found[README]
    if path is None or not path.is_file():
        raise UnknownPage(name)
    return path


def _provider_without_page(name: str) -> bool:
    return name in provider_names()


class Section(NamedTuple):
    """A section of a page: its heading's level (1 for `#`) and text, and its Markdown from
    the heading to the next heading of its level or above."""

    page: str
    level: int
    heading: str
    text: str


def sections(word: str) -> list[Section]:
    """Every section, in every page, whose heading holds `word` (any case). A section inside
    one found already is printed with it, not again."""
    found = []
    for name, lines, headings in _read_pages():
        shown_until = 0  # the end of the last section found in this page
        for start, level, heading in headings:
            if start >= shown_until and word.lower() in heading.lower():
                ends = (i for i, depth, _ in headings if i > start and depth <= level)
                shown_until = next(ends, len(lines))
                found.append(Section(name, level, heading, "".join(lines[start:shown_until])))
    return found


def mentions(word: str) -> list[tuple[str, str]]:
    """(page, heading) of every section whose own text, down to its first subheading, holds
    `word` (any case): where to look when no heading holds it (`docs backup`)."""
    found = []
    for name, lines, headings in _read_pages():
        ends = [start for start, _, _ in headings[1:]] + [len(lines)]
        for (start, _, heading), end in zip(headings, ends, strict=True):
            if word.lower() in "".join(lines[start + 1 : end]).lower():
                found.append((name, heading))
    return found


def outline(path: Path) -> list[dict]:
    """The headings of a page, in order: each with its level (1 for `#`) and its text."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    return [{"level": level, "heading": text} for _, level, text in _headings(lines)]


def name_of(path: Path) -> str:
    """The name of the page at `path`, as `pages()` names it (what `find` answered)."""
    return next(name for name, page in pages().items() if page == path)


def _read_pages():
    """(name, lines, headings) of each page there is."""
    for name, path in pages().items():
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            yield name, lines, list(_headings(lines))


def _headings(lines: list[str]):
    """(line index, level, text) of each Markdown heading, those in code blocks aside."""
    fenced = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            marks, _, text = line.partition(" ")
            if set(marks) == {"#"}:
                yield index, len(marks), text.strip()
