"""The grader's part that runs inside the submission's kernel: one exercise's checks, as JSON.

The grader appends one cell per exercise (:func:`kernel_cell`) to the executed notebook. That cell
re-imports this module and calls :func:`kernel_grade`, which

* re-imports the self-check functions (``importlib.reload``) so a notebook that redefines or patches
  them cannot change the verdict;
* binds the names that the lesson's *other* exercises define to their ``course_utils`` references
  (:data:`course_utils.grading.hidden.REFERENCES`) for the duration of the checks, so each exercise
  is checked on its own: ``g_step`` with the reference ``generator_loss``, ``wgan_step`` with the
  reference ``gradient_penalty``; the notebook's own objects are put back afterwards;
* runs the self-check, then (if it passed) the hidden checks, then the "written in the notebook"
  check, and prints the result between two nonce markers that :func:`read_result` finds.
"""

from __future__ import annotations

import importlib
import json
import re
import traceback
from contextlib import contextmanager

SPEC_KEYS = ("id", "check", "names", "trusted")


def kernel_spec(lesson: dict, exercise: dict) -> str:
    """What the kernel needs to grade ``exercise``: its spec and the names the other exercises define."""
    own = set(exercise["names"])
    others = sorted({n for e in lesson["exercises"] if e["id"] != exercise["id"] for n in e["names"]} - own)
    return json.dumps({**{k: exercise[k] for k in SPEC_KEYS}, "others": others})


def kernel_cell(lesson: dict, exercise: dict, nonce: str) -> str:
    """The code of the grader's cell for one exercise (run in the submission's kernel)."""
    spec = kernel_spec(lesson, exercise)
    return ("__import__('importlib').reload(__import__('importlib').import_module('course_utils.grading.kernel'))"
            f".kernel_grade(globals(), {spec!r}, {nonce!r})")


def read_result(stdout: str, nonce: str) -> dict | None:
    """The JSON result that :func:`kernel_grade` printed between the nonce markers, or None."""
    m = re.search(rf"<<{nonce}>>(.*?)<<{nonce}>>", stdout, re.S)
    return json.loads(m.group(1)) if m else None


def kernel_grade(ns: dict, spec_json: str, nonce: str) -> None:
    """Run one exercise's checks in the submission's namespace ``ns``; print the result as JSON between markers."""
    spec = json.loads(spec_json)
    out = {"id": spec["id"], "check": None, "hidden": [], "own_code": []}
    try:
        fresh, hidden, references = _load_checks(spec)
    except Exception:  # noqa: BLE001 - reported, never raised into the notebook
        out["check"] = {"error": "the grader could not import its checks:\n" + traceback.format_exc(limit=3)}
        print(f"<<{nonce}>>{json.dumps(out)}<<{nonce}>>")
        return
    with bound(ns, {n: references[n] for n in spec.get("others", []) if n in references}):
        env = {**ns, **fresh}
        out["check"] = run_check(spec["check"], lambda: eval(spec["check"], env))  # noqa: S307 - our expression
        if out["check"]["items"] and all(ok for ok, _ in out["check"]["items"]):
            out["hidden"] = [run_check(f"hidden check {fn.__name__}", lambda fn=fn: fn(env)) for fn in hidden]
    out["own_code"] = own_code(ns, spec["names"])
    print(f"<<{nonce}>>{json.dumps(out)}<<{nonce}>>")


def _load_checks(spec: dict):
    """``(fresh check functions by name, hidden checks, references)``, from freshly reloaded modules."""
    reloaded = {}

    def module(name):
        if name not in reloaded:
            reloaded[name] = importlib.reload(importlib.import_module(name))
        return reloaded[name]

    fresh = {}
    for name, mod in spec["trusted"].items():
        obj = getattr(module(mod), name)
        real = getattr(obj, "__module__", "") or ""
        if real != mod and real.split(".")[0] == "course_utils":  # re-exported: reload where it is defined
            obj = getattr(module(real), getattr(obj, "__name__", name))
        fresh[name] = obj
    hidden_module = module("course_utils.grading.hidden")
    return fresh, hidden_module.HIDDEN.get(spec["id"], []), hidden_module.REFERENCES


@contextmanager
def bound(ns: dict, values: dict):
    """Set ``ns[name] = value`` for each item while the block runs; restore (or remove) them afterwards."""
    missing = object()
    saved = {name: ns.get(name, missing) for name in values}
    ns.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is missing:
                ns.pop(name, None)
            else:
                ns[name] = old


def run_check(title: str, fn) -> dict:
    """``fn()`` returns a CheckReport; its items as JSON-ready lists, or one failed item saying what went wrong."""
    from course_utils.kit.checking import describe_error

    try:
        r = fn()
    except NameError as exc:
        return {"title": title, "items": [[False, f"{exc}: the exercise cell did not run to the end"]],
                "name_error": True}
    except KeyError as exc:
        return {"title": title, "items": [[False, f"{exc.args[0]} is not defined: the exercise cell did not "
                                                  "run to the end"]], "name_error": True}
    except Exception as exc:  # noqa: BLE001 - any student error becomes a message
        return {"title": title, "items": [[False, describe_error(f"the exercise code run by {title}", exc)]]}
    items = getattr(r, "items", None)
    if not isinstance(items, list):
        return {"title": title, "items": [[False, f"{title} returned {type(r).__name__}, not a check report"]]}
    return {"title": str(getattr(r, "title", title)), "items": [[bool(ok), str(m)] for ok, m in items]}


def own_code(ns: dict, names: list[str]) -> list[list]:
    """``[ok, message]`` per name the exercise defines: it must be written in the notebook, not imported."""
    items = []
    for name in names:
        if name in ns:
            where = getattr(ns[name], "__module__", "__main__")
            ok = where == "__main__"
            items.append([ok, f"{name} is written in the notebook" if ok else
                          f"{name} is {where}.{getattr(ns[name], '__qualname__', name)}, imported "
                          "rather than written in the notebook: write your own in the exercise cell"])
    return items
