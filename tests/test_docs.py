"""The repository's documentation has no broken code fence and no dead link.

Every Markdown file git tracks is checked (so .ov/ and files not added yet
are left out), one test per file so that a failure names the file:

- code fences (``` and ~~~) close, with a closing fence on its own line, as
  CommonMark reads them: a fence is closed only by the same character, at
  least as many times, with nothing after it but spaces; a shorter fence or
  the other character inside a block is content.  A line that looks like
  the closing fence but has text after it is reported, because it leaves
  the block open and turns the rest of the page into code;
- every relative link and image (``[x](path)``, ``[x](path#anchor)``,
  ``[x]: path`` definitions, HTML ``href`` / ``src``) outside code leads to
  a file or folder git tracks, and an anchor into a Markdown file to one of
  its headings (GitHub's slugs: lowercase, spaces to ``-``, punctuation
  dropped, ``-1``, ``-2`` for repeated headings) or an ``<a name/id>``;
  ``http(s):``, ``mailto:`` and other schemes are not followed.

The addons' README.rst files get the same link check (``<path>`_`` links,
``.. _name: path`` targets, image and figure paths), and the repository
paths they mention as literals (``docs/...``, ``bench/...``) must exist.
"""

import re
import subprocess
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parent.parent

FENCE = re.compile(r"^(?P<indent>[ \t]*(?:>[ \t]?)*[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:|^//")
HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
HTML_LINK = re.compile(r"<(?:a|img|source)\s[^>]*\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")


def git_files(*patterns):
    """Paths (relative to the repository) that git tracks, matching ``patterns``."""
    result = subprocess.run(["git", "ls-files", "-z", "--", *patterns], cwd=REPO, capture_output=True, check=True)
    return sorted(path for path in result.stdout.decode().split("\0") if path)


TRACKED = set(git_files())
TRACKED_DIRS = {str(parent) for path in TRACKED for parent in Path(path).parents if str(parent) != "."}
MARKDOWN_FILES = git_files("*.md")
README_RST_FILES = git_files("*README.rst")


# ---------------------------------------------------------------- fences


def fence_problems(text):
    """(line number, message) for each code fence problem of a Markdown text."""
    problems = []
    opened = None  # (line number, fence character, fence length)
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if opened is None:
            if match and not (match["fence"][0] == "`" and "`" in match["info"]):
                opened = (number, match["fence"][0], len(match["fence"]))
            continue
        if not match:
            continue
        start, char, length = opened
        fence = match["fence"]
        if fence[0] != char or len(fence) < length:
            continue  # a shorter fence or the other character: content of the block
        if not match["info"].strip():
            opened = None
        else:
            problems.append(
                (
                    number,
                    f"{fence} followed by text {match['info'].strip()[:40]!r} does not close the block opened "
                    f"on line {start}: a closing fence stands on its own line",
                )
            )
    if opened is not None:
        problems.append((opened[0], f"the code block opened here with {opened[1] * opened[2]} is never closed"))
    return problems


# ---------------------------------------------------------------- Markdown text outside code


def prose_lines(text, keep_inline_code=False):
    """(line number, line) of a Markdown text outside fenced code, inline code removed (unless kept)."""
    opened = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if opened is None:
            if match and not (match["fence"][0] == "`" and "`" in match["info"]):
                opened = (match["fence"][0], len(match["fence"]))
                continue
            yield number, line if keep_inline_code else strip_inline_code(line)
        elif match and match["fence"][0] == opened[0] and len(match["fence"]) >= opened[1]:
            if not match["info"].strip():
                opened = None


def strip_inline_code(line):
    """``line`` with its code spans emptied (a run of N backticks up to the next run of exactly N)."""
    out, pos = [], 0
    while True:
        start = line.find("`", pos)
        if start < 0:
            return "".join(out) + line[pos:]
        run = len(line[start:]) - len(line[start:].lstrip("`"))
        closing = re.compile(r"(?<!`)" + "`" * run + r"(?!`)").search(line, start + run)
        if not closing:  # an unmatched run is literal backticks
            out.append(line[pos : start + run])
            pos = start + run
            continue
        out.append(line[pos:start] + "``")
        pos = closing.end()


def link_destinations(line):
    """The destinations of the inline links and images of one line of prose."""
    found = []
    for match in re.finditer(r"\]\(", line):
        rest = line[match.end() :].lstrip()
        if rest.startswith("<"):
            end = rest.find(">")
            if end > 0:
                found.append(rest[1:end])
            continue
        depth, dest = 0, []
        for char in rest:
            if char in " \t" or (char == ")" and depth == 0):
                break
            depth += {"(": 1, ")": -1}.get(char, 0)
            dest.append(char)
        if dest:
            found.append("".join(dest))
    definition = REFERENCE_DEFINITION.match(line)
    if definition:
        found.append(definition[1].strip("<>"))
    found.extend(HTML_LINK.findall(line))
    return found


def github_slug(heading):
    """The anchor GitHub gives a heading's text (before de-duplication)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text).strip().lower()
    kept = []
    for char in text:
        if char == " ":
            kept.append("-")
        elif char in "-_" or char.isalnum() or unicodedata.category(char).startswith("M"):
            kept.append(char)
    return "".join(kept)


def markdown_anchors(text):
    """Every anchor a Markdown text offers: its headings' slugs and HTML anchors."""
    anchors, seen = set(), {}
    previous = None
    for _number, line in prose_lines(text, keep_inline_code=True):
        heading = HEADING.match(line)
        title = None
        if heading:
            title = heading[2] or ""
        elif previous and previous.strip() and SETEXT.match(line) and not HEADING.match(previous):
            title = previous.strip()
        if title is not None:
            slug = github_slug(title)
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if not count else f"{slug}-{count}")
        anchors.update(HTML_ANCHOR.findall(line))
        previous = line
    return anchors


def _read(relative):
    return (REPO / relative).read_text(encoding="utf-8")


def target_problem(source, destination, anchors_of=None):
    """Why ``destination`` (written in the tracked file ``source``) is dead, or None."""
    if SCHEME.match(destination):
        return None
    path_part, _hash, anchor = destination.partition("#")
    path_part = unquote(path_part.split("?", 1)[0])
    anchor = unquote(anchor)
    if path_part:
        base = REPO if path_part.startswith("/") else (REPO / source).parent
        target = (base / path_part.lstrip("/")).resolve()
        try:
            relative = target.relative_to(REPO).as_posix()
        except ValueError:
            return f"{destination}: outside the repository"
        if not target.exists():
            return f"{destination}: no file {relative}"
        if relative not in TRACKED and relative not in TRACKED_DIRS and relative != ".":
            if target.exists():
                return f"{destination}: {relative} is not tracked by git (git add it)"
            return f"{destination}: no file {relative}"
    else:
        relative = source
    if anchor and relative.endswith(".md"):
        anchors = (anchors_of or (lambda path: markdown_anchors(_read(path))))(relative)
        if anchor not in anchors:
            return f"{destination}: no heading of {relative} has the anchor #{anchor}"
    return None


def markdown_link_problems(source, text):
    """(line number, message) for each dead relative link of a Markdown text."""
    own_anchors = markdown_anchors(text)

    def anchors_of(path):
        return own_anchors if path == source else markdown_anchors(_read(path))

    problems = []
    for number, line in prose_lines(text):
        for destination in link_destinations(line):
            problem = target_problem(source, destination, anchors_of)
            if problem:
                problems.append((number, problem))
    return problems


# ---------------------------------------------------------------- reStructuredText

RST_LINK = re.compile(r"`[^`<]*<([^`>]+)>`__?")
RST_TARGET = re.compile(r"^\s*\.\. _[^:]+:\s+(\S+)\s*$")
RST_IMAGE = re.compile(r"^\s*\.\. (?:\|[^|]+\|\s+)?(?:image|figure)::\s+(\S+)\s*$")
RST_REPO_PATH = re.compile(r"``((?:docs|bench)/[^`\s]*)``")


def rst_link_problems(source, text):
    """(line number, message) for each dead relative link or mentioned repository path of an .rst text."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        destinations = RST_LINK.findall(line)
        destinations += [m[1] for m in (RST_TARGET.match(line), RST_IMAGE.match(line)) if m]
        for destination in destinations:
            problem = target_problem(source, destination)
            if problem:
                problems.append((number, problem))
        for path in RST_REPO_PATH.findall(line):
            problem = target_problem("README.md", path.rstrip("/"))  # relative to the repository's root
            if problem:
                problems.append((number, f"mentions {problem}"))
    return problems


def report(path, problems):
    return f"{path}:\n" + "\n".join(f"  line {number}: {message}" for number, message in problems)


# ---------------------------------------------------------------- the repository's files


def test_the_repository_has_markdown_to_check():
    assert "README.md" in MARKDOWN_FILES, "git ls-files found no README.md: is this a git checkout?"


@pytest.mark.parametrize("path", MARKDOWN_FILES)
def test_markdown_code_fences_close(path):
    problems = fence_problems(_read(path))
    assert not problems, report(path, problems)


@pytest.mark.parametrize("path", MARKDOWN_FILES)
def test_markdown_relative_links_resolve(path):
    problems = markdown_link_problems(path, _read(path))
    assert not problems, report(path, problems)


@pytest.mark.parametrize("path", README_RST_FILES)
def test_readme_rst_relative_links_resolve(path):
    problems = rst_link_problems(path, _read(path))
    assert not problems, report(path, problems)


# ---------------------------------------------------------------- the checkers on small samples


def test_balanced_fences_pass():
    text = "# T\n\n```python\nx = 1\n```\n\n~~~\n```\nnot a fence here\n~~~\n\n````md\n```\ninner\n```\n````\n"
    assert fence_problems(text) == []


def test_unclosed_fence_is_reported_where_it_opens():
    assert [n for n, _m in fence_problems("text\n\n```json\n{}\n")] == [3]


def test_closing_fence_with_text_after_it_is_reported():
    """The README slip of issue 20: the block stays open, the rest is code."""
    text = "```python\ncall()\n``` and then the prose\n\n## Risk score\n\n```\nx\n```\n"
    problems = fence_problems(text)
    assert problems[0][0] == 3 and "own line" in problems[0][1]


def test_shorter_or_other_fences_do_not_close():
    assert fence_problems("````\n```\n````\n") == []
    assert fence_problems("~~~~\n~~~\n```\n~~~~\n") == []
    assert [n for n, _m in fence_problems("~~~\n```\n")] == [1]


def test_backtick_fence_info_cannot_hold_a_backtick():
    # ``` `x` is inline code, not an opening fence.
    assert fence_problems("``` `x` ```\ntext\n") == []


def test_indented_and_quoted_fences_are_fences():
    assert fence_problems("- item\n\n  ```sh\n  ./ov run\n  ```\n> ```\n> quoted\n> ```\n") == []


def test_inline_code_is_removed_from_prose():
    assert strip_inline_code("see `[x](nowhere.md)` and ``a ` b`` here") == "see `` and `` here"
    assert strip_inline_code("a lone ` backtick [x](y.md)") == "a lone ` backtick [x](y.md)"


def test_link_destinations():
    line = 'A [link](docs/a.md#b "title"), ![img](<docs/my pic.png>), [![x](i.png)](t.md), <img src="s.png">'
    assert link_destinations(line) == ["docs/a.md#b", "docs/my pic.png", "i.png", "t.md", "s.png"]
    assert link_destinations("[ref]: ../x.md#y") == ["../x.md#y"]
    assert link_destinations("f(x) [a](https://example.com/(x))") == ["https://example.com/(x)"]


def test_github_slugs():
    assert github_slug("Quick start") == "quick-start"
    assert github_slug("Control tower (`./ov bench dashboard`)") == "control-tower-ov-bench-dashboard"
    assert github_slug("Approvals and credit (opt-in)") == "approvals-and-credit-opt-in"
    assert github_slug("A — B") == "a--b"
    assert github_slug("Étapes de l'ordre") == "étapes-de-lordre"
    assert github_slug("[Webhooks](x.md) `order_visibility`") == "webhooks-order_visibility"


def test_anchors_of_a_markdown_text():
    text = '# Title\n\n## Setup\n\n```\n## not a heading\n```\n\n## Setup\n\nOther\n-----\n\n<a name="here"></a>\n'
    assert markdown_anchors(text) == {"title", "setup", "setup-1", "other", "here"}


def test_dead_links_are_found_and_live_ones_pass():
    text = (
        "[ok](README.md) [dir](docs/) [anchor](#local) [web](https://example.com/x.md) [mail](mailto:a@b.c)\n"
        "[dead](docs/no-such-page.md) [bad anchor](README.md#no-such-heading-here)\n"
        "`[in code](nowhere.md)`\n```\n[in a fence](nowhere.md)\n```\n\n## Local\n"
    )
    problems = markdown_link_problems("README.md", text)
    assert [(n, m.split(":")[0]) for n, m in problems] == [
        (2, "docs/no-such-page.md"),
        (2, "README.md#no-such-heading-here"),
    ]


def test_links_leaving_the_repository_are_dead():
    assert "outside the repository" in target_problem("README.md", "../../etc/passwd")


def test_rst_links_and_mentioned_paths():
    text = (
        "See `the page <../README.md>`_ and `gone <nowhere.rst>`__.\n"
        ".. image:: static/description/missing.png\n"
        "In the repository: ``docs/no-such.md`` and ``docs/``.\n"
    )
    problems = rst_link_problems("order_visibility/README.rst", text)
    assert [n for n, _m in problems] == [1, 2, 3]
    assert "nowhere.rst" in problems[0][1] and "docs/no-such.md" in problems[2][1]
