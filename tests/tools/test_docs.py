"""The docs hold together: troubleshooting entries, the glossary, links, the README's front page and course map.

* every troubleshooting entry (``### symptom``) has a ``**Cause.**``, a ``**Fix.**`` and a ``**Confirm.**``
  that names a command (``python -m ...``), a lesson notebook or a ``course_utils`` function;
* every function the docs name in code (``health_report(history)``, ``course_utils.last_history()``,
  ``python -m course_utils.run``) exists, in README.md and in the docs its notes moved to (CONTRIBUTING.md,
  docs/instructors.md, docs/performance.md), and modules are named by their new paths, not the old flat aliases;
* every file the docs name (``scripts/bench/gpu_epoch.py``, ``tests/grading/test_grade.py``) exists;
* every glossary term links to a lesson notebook that exists;
* every relative link (and ``#anchor``) in README.md, CONTRIBUTING.md and docs/*.md resolves;
* the README is a front page: at most :data:`README_MAX_LINES` lines, the two ``course.py`` commands, one course
  map that names every lesson in ``solutions/`` once, links to the other docs, no revision notes or suite times;
* the README's Colab links are exactly ``course_utils.tools.hosted.colab_url(...)`` of every lesson;
* CONTRIBUTING.md's map of ``course_utils`` names every room (folder) of the package.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import importlib.util
import json
import pkgutil
import re
from pathlib import Path

import pytest

import course_utils

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
INSTRUCTORS = ROOT / "docs" / "instructors.md"
PERFORMANCE = ROOT / "docs" / "performance.md"
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
GLOSSARY = ROOT / "docs" / "glossary.md"
DOCS = [README, CONTRIBUTING, *sorted((ROOT / "docs").glob("*.md"))]
# Where the README's notes moved: checked as the README was (course_utils names exist, files exist).
MOVED_FROM_README = [CONTRIBUTING, INSTRUCTORS, PERFORMANCE]
README_MAX_LINES = 150
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))

# Modules written in the same issue as these docs: checked like any other once they exist.
PENDING_MODULES = {"course_utils.tools.doctor", "course_utils.tools.hosted"}
# Call-like notation of the lessons' maths, not functions: D(x), G(z), E[D(real)], N(0, I), H(1 - s), log(...).
MATH = {"D", "G", "E", "H", "N", "log", "sigmoid"}
# Roots of names that exist only on a hosted service (Colab's google.colab), not in the course's environment.
HOSTED_ONLY = {"google"}
# Files named in the docs: paths under these folders (placeholders such as NN_topic, lessonN and globs are skipped).
NAMED_FILE = re.compile(r"(?<![\w./-])((?:course_utils|tests|scripts|solutions|notebooks|docs)/[\w./-]*[\w/])")
PLACEHOLDER = re.compile(r"NN|lessonN|[*<]")

TROUBLESHOOTING_TOPICS = [  # each appears in some symptom heading (case-insensitive)
    "D(G(z))", "one class", "swinging", "nan", "blurry", "wasserstein estimate", "gradient penalty",
    "offline", "widgets", "slow", "out of memory", "mps", "version mismatch", "kernel died",
    "no module named 'torch'", "checkpointerror",
]
GLOSSARY_TERMS = [  # each is one of the names of a glossary entry (heading split at ",", ":" and "(")
    "latent vector", "z", "generator", "discriminator", "logit", "bce with logits", "non-saturating loss",
    "saturating loss", "d(g(z))", "equilibrium", "mode collapse", "discriminator dominance", "oscillation",
    "vanishing gradient", "label smoothing", "instance noise", "ttur", "spectral norm", "critic",
    "wasserstein distance", "w1", "lipschitz", "weight clipping", "gradient penalty", "n_critic", "fid", "kid",
    "swd", "ema", "checkpoint", "quick mode", "transposed convolution", "batchnorm", "leakyrelu", "tanh",
    "lr_g", "lr_d", "beta1", "beta2",
]

COLAB = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\]>\"'`]+")
COLAB_PARTS = re.compile(r"https://colab\.research\.google\.com/github/([\w.-]+)/([\w.-]+)/blob/([\w.-]+)/"
                         r"notebooks/(\d\d_\w+\.ipynb)")
NOTEBOOK_LINK = re.compile(r"\]\((?:\.\./)?notebooks/(\d\d_\w+\.ipynb)(?:#[^)]*)?\)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FIELD = re.compile(r"^\*\*(Cause|Fix|Confirm)\.\*\*", re.M)


# ----------------------------------------------------------------------------- reading markdown


def without_code_blocks(text: str) -> str:
    """``text`` with fenced code blocks blanked (their lines kept, so headings stay where they are)."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
        else:
            out.append("" if fenced else line)
    return "\n".join(out)


def sections(path: Path, prefix: str = "### ") -> list[tuple[str, str]]:
    """``(heading, body)`` of every heading starting with ``prefix``; a body ends at the next ``#`` heading."""
    found, heading, body = [], None, []
    for line in without_code_blocks(path.read_text(encoding="utf-8")).splitlines():
        if line.startswith("#"):
            if heading is not None:
                found.append((heading, "\n".join(body).strip()))
            heading = line[len(prefix):].strip() if line.startswith(prefix) else None
            body = []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        found.append((heading, "\n".join(body).strip()))
    return found


def section_of(path: Path, title: str) -> str:
    """The text under ``## title`` up to the next ``## `` heading."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"{path.name} has no '## {title}' section"
    return match.group(1)


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)


def fields(body: str) -> dict[str, list[str]]:
    """The ``**Cause.**``, ``**Fix.**`` and ``**Confirm.**`` paragraphs of an entry, by name."""
    marks = list(FIELD.finditer(body))
    out: dict[str, list[str]] = {}
    for mark, nxt in zip(marks, [*marks[1:], None]):
        out.setdefault(mark.group(1), []).append(body[mark.end():nxt.start() if nxt else len(body)].strip())
    return out


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    for line in without_code_blocks(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"#{1,6}\s+(.*)", line)
        if match:
            slug = github_slug(match.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            if n:
                seen[f"{slug}-{n}"] = 1
    return set(seen)


# ----------------------------------------------------------------------------- what the docs name


def commands(text: str) -> list[str]:
    """Modules run with ``python -m X`` inside code spans and code blocks."""
    return re.findall(r"python3? -m ([A-Za-z_][\w.]*)", text)


def calls(span: str) -> list[str]:
    """Names called in a code span: ``health_report(history)`` -> ``health_report``."""
    return [m.group(1) for m in re.finditer(r"(?<![\w.])([A-Za-z_][\w.]*)\s*\(", span)]


def dotted_course_names(text: str) -> list[str]:
    return re.findall(r"(?<![\w/])course_utils(?:\.[A-Za-z_]\w*)+", text)


@functools.lru_cache(maxsize=1)
def course_namespace() -> dict:
    """Every public name of ``course_utils`` and of each of its modules, in every room (``kit``, ``lesson3``, ...)."""
    names = {k: v for k, v in vars(course_utils).items() if not k.startswith("_")}
    for info in pkgutil.walk_packages(course_utils.__path__, prefix="course_utils."):
        module = importlib.import_module(info.name)
        for key, value in vars(module).items():
            if not key.startswith("_"):
                names.setdefault(key, value)
    return names


@functools.lru_cache(maxsize=1)
def notebook_definitions() -> set[str]:
    """Functions and classes the lessons define in their own cells (lesson 4's ``run``, ...)."""
    names = set()
    for path in SOLUTIONS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            try:
                tree = ast.parse("".join(cell["source"]))
            except SyntaxError:
                continue
            names |= {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    return names


def pending(module: str) -> bool:
    """True for a module of :data:`PENDING_MODULES` that is not written yet."""
    return any(module == p or module.startswith(p + ".") for p in PENDING_MODULES) and \
        importlib.util.find_spec(".".join(module.split(".")[:2])) is None


def resolve_dotted(name: str) -> bool | None:
    """Does ``a.b.c`` exist? Imports the longest module prefix, then getattr; None when not checkable."""
    parts = name.split(".")
    if parts[0] in HOSTED_ONLY or pending(name):
        return None
    if parts[0] != "course_utils" and importlib.util.find_spec(parts[0]) is None:
        return None  # a variable of a lesson (G.eval, output.enable_...), not a module
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def exists(name: str) -> bool | None:
    """True/False for a called name; None for maths notation and names that cannot be checked here."""
    if "." in name:
        return resolve_dotted(name)
    if name in MATH:
        return None
    return callable(course_namespace().get(name)) or hasattr(builtins, name) or name in notebook_definitions()


def missing_names(path: Path, bare_calls: bool) -> list[str]:
    """Names ``path`` uses that do not exist: modules of ``python -m``, ``course_utils.X``, and calls."""
    text = path.read_text(encoding="utf-8")
    missing = [f"python -m {m}" for m in commands(text)
               if not pending(m) and importlib.util.find_spec(m) is None]
    missing += [n for n in dotted_course_names(text) if resolve_dotted(n) is False]
    if bare_calls:
        spans = code_spans(without_code_blocks(text))
        missing += [f"{n}(...)" for span in spans for n in calls(span) if exists(n) is False]
    return sorted(set(missing))


# ----------------------------------------------------------------------------- troubleshooting


def test_troubleshooting_entries_have_cause_fix_and_confirm():
    entries = sections(TROUBLESHOOTING)
    assert len(entries) >= len(TROUBLESHOOTING_TOPICS)
    for heading, body in entries:
        found = fields(body)
        for name in ("Cause", "Fix", "Confirm"):
            assert len(found.get(name, [])) == 1, f"'{heading}': needs exactly one **{name}.** paragraph"
            assert len(found[name][0]) > 20, f"'{heading}': the **{name}.** paragraph is empty"
        order = [m.group(1) for m in FIELD.finditer(body)]
        assert order == ["Cause", "Fix", "Confirm"], f"'{heading}': fields out of order: {order}"


def test_every_confirm_names_a_command_a_lesson_or_a_course_function():
    for heading, body in sections(TROUBLESHOOTING):
        confirm = fields(body)["Confirm"][0]
        spans = code_spans(confirm)
        has_command = any(commands(span) for span in spans)
        has_lesson = bool(NOTEBOOK_LINK.search(confirm))
        has_function = any(name in course_namespace() or name.startswith("course_utils.")
                           for span in spans for name in calls(span)) or bool(dotted_course_names(confirm))
        assert has_command or has_lesson or has_function, (
            f"'{heading}': **Confirm.** must name a command (`python -m ...`), a lesson notebook link or a "
            f"course_utils function; it says: {confirm}")


def test_troubleshooting_covers_the_symptoms_students_meet():
    headings = " | ".join(h.lower() for h, _ in sections(TROUBLESHOOTING))
    assert not [t for t in TROUBLESHOOTING_TOPICS if t.lower() not in headings], headings


@pytest.mark.parametrize("path", [TROUBLESHOOTING, GLOSSARY], ids=lambda p: p.name)
def test_functions_named_in_the_docs_exist(path):
    assert missing_names(path, bare_calls=True) == []


@pytest.mark.parametrize("path", [README, *MOVED_FROM_README], ids=lambda p: str(p.relative_to(ROOT)))
def test_course_utils_names_in_the_readme_exist(path):
    """The README's names, and the same check for the docs its instructors', speed and maintainers' notes moved to."""
    assert missing_names(path, bare_calls=False) == []


def test_functions_named_in_the_performance_notes_exist():
    """``train_gan(cuda_graphs="auto")``, ``load_generator(path)``: the speed notes name real functions."""
    assert missing_names(PERFORMANCE, bare_calls=True) == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_name_modules_by_their_new_paths(path):
    """``course_utils.kit.loop``, not the old flat alias ``course_utils.loop``.

    The five commands keep their short form: ``python -m course_utils.doctor`` and the like.
    """
    old = [f"course_utils.{m.group(2)}" for m in re.finditer(r"(python3? -m )?(?<![\w/])course_utils\.(\w+)",
                                                                path.read_text(encoding="utf-8"))
           if m.group(2) in course_utils.OLD_MODULES and not (m.group(1) and m.group(2) in course_utils.COMMANDS)]
    assert sorted(set(old)) == []


@pytest.mark.parametrize("path", [*DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_files_named_in_the_docs_exist(path):
    named = {p.rstrip(".") for p in NAMED_FILE.findall(path.read_text(encoding="utf-8"))}
    assert sorted(p for p in named if not PLACEHOLDER.search(p) and not (ROOT / p).exists()) == []


@pytest.mark.parametrize("module", sorted(PENDING_MODULES))
def test_modules_the_docs_announce_exist(module):
    """The docs name these modules; they are being written in the same issue (skipped until they land)."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} does not exist yet (written in the same issue); the docs name it")


# ----------------------------------------------------------------------------- glossary


def glossary_names(heading: str) -> set[str]:
    return {part.strip().lower() for part in re.split(r"[,:(]", heading.replace(")", "")) if part.strip()} | \
        {heading.strip().lower()}


def test_every_glossary_term_links_to_a_lesson_that_exists():
    entries = sections(GLOSSARY)
    assert len(entries) >= 30
    for heading, body in entries:
        assert body, f"glossary '{heading}' has no definition"
        lessons = NOTEBOOK_LINK.findall(body)
        assert lessons, f"glossary '{heading}' links to no lesson (../notebooks/NN_name.ipynb)"
        for name in lessons:
            assert (ROOT / "notebooks" / name).is_file(), f"glossary '{heading}' links to a missing {name}"


def test_glossary_has_the_course_vocabulary():
    names = set().union(*(glossary_names(h) for h, _ in sections(GLOSSARY)))
    assert not [t for t in GLOSSARY_TERMS if t not in names]


# ----------------------------------------------------------------------------- links


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    text = re.sub(r"`[^`\n]*`", "", without_code_blocks(path.read_text(encoding="utf-8")))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no file {dest})")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {dest.name})")
    assert broken == []


def test_readme_links_the_docs():
    text = README.read_text(encoding="utf-8")
    assert "](docs/troubleshooting.md)" in text and "](docs/glossary.md)" in text
    for moved in ("docs/instructors.md", "docs/performance.md", "CONTRIBUTING.md"):
        assert f"]({moved})" in text, f"the README links {moved}"


# ----------------------------------------------------------------------------- the README is a front page


def test_readme_is_a_front_page():
    text = README.read_text(encoding="utf-8")
    lines = len(text.splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}): move notes to docs/ or CONTRIBUTING.md")
    assert "in this revision" not in text.lower()
    assert "python3 course.py start" in text and "python3 course.py test" in text
    assert "python -m course_utils.doctor" in text


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_carry_no_revision_notes_or_suite_times(path):
    """What changed "in this revision" and how long the suite took go stale; neither belongs in the docs."""
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\bthis revision\b", text, re.I)
    assert not re.findall(r"\b\d[\d,]*\s+tests\b", text)


# ----------------------------------------------------------------------------- the README's course map and Colab


def test_course_map_names_every_lesson():
    course_map = section_of(README, "Course map")
    assert not [p.stem for p in SOLUTIONS if f"](notebooks/{p.name})" not in course_map], "link every lesson"
    assert "python -m course_utils.doctor" in course_map
    text = README.read_text(encoding="utf-8")
    assert [p.stem for p in SOLUTIONS if text.count(f"](notebooks/{p.name})") != 1] == [], "one table of lessons"


# ----------------------------------------------------------------------------- CONTRIBUTING.md's map of the package


def test_contributing_maps_every_room_of_the_package():
    rooms = sorted(d.name for d in (ROOT / "course_utils").iterdir()
                   if d.is_dir() and not d.name.startswith(("_", ".")))
    where = section_of(CONTRIBUTING, "Where code lives (rooms)")
    assert [r for r in rooms if f"`course_utils/{r}/`" not in where] == []


def test_readme_has_one_colab_link_per_lesson_of_one_repository():
    urls = COLAB.findall(README.read_text(encoding="utf-8"))
    parts = [COLAB_PARTS.fullmatch(u) for u in urls]
    assert all(parts), [u for u, p in zip(urls, parts) if not p]
    assert sorted(p.group(4) for p in parts) == [nb.name for nb in NOTEBOOKS]
    assert len({p.groups()[:3] for p in parts}) == 1, "every link names the same repository and branch"


def repository_url() -> str | None:
    """``[project.urls] Repository`` of pyproject.toml, or None when it is not declared."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        match = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
        url = match and re.search(r"^\s*Repository\s*=\s*\"([^\"]+)\"", match.group(1), re.M)
        return url.group(1) if url else None
    return tomllib.loads(text).get("project", {}).get("urls", {}).get("Repository")


def colab_url_of(colab_url, notebook: Path) -> str:
    """``colab_url`` for ``notebook``, whichever way it names a lesson (file name, stem or path)."""
    tried = []
    for arg in (notebook.name, notebook.stem, f"notebooks/{notebook.name}"):
        try:
            url = colab_url(arg)
        except (TypeError, ValueError, KeyError, LookupError, OSError) as exc:
            tried.append(f"{arg!r}: {type(exc).__name__}: {exc}")
            continue
        if isinstance(url, str) and url.endswith(f"/notebooks/{notebook.name}"):
            return url
        tried.append(f"{arg!r} -> {url!r}")
    pytest.fail(f"course_utils.tools.hosted.colab_url gave no URL for {notebook.name}: {'; '.join(tried)}")


def expected_colab_urls() -> set[str]:
    """What the README must link: ``course_utils.tools.hosted.colab_url`` of every lesson.

    Until ``course_utils.tools.hosted`` exists, the same URL from pyproject.toml's ``[project.urls] Repository``.
    """
    try:
        from course_utils.tools.hosted import colab_url
    except ModuleNotFoundError as exc:
        if exc.name != "course_utils.tools.hosted":
            raise
    else:
        return {colab_url_of(colab_url, nb) for nb in NOTEBOOKS}
    repository = repository_url()
    if repository is None:
        pytest.skip("neither course_utils.tools.hosted nor [project.urls] Repository in pyproject.toml exists yet")
    match = re.fullmatch(r"https://github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", repository)
    assert match, f"[project.urls] Repository is not a GitHub repository URL: {repository}"
    base = f"https://colab.research.google.com/github/{match.group(1)}/{match.group(2)}/blob/main/notebooks"
    return {f"{base}/{nb.name}" for nb in NOTEBOOKS}


def test_readme_colab_links_are_the_repository_s():
    assert set(COLAB.findall(README.read_text(encoding="utf-8"))) == expected_colab_urls()
