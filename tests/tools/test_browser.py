"""A real browser drives JupyterLab: run a lesson, move the latent slider, see the image change.

The live training dashboard is switched on (COURSE_DASHBOARD=1) and must draw in the page too. Lesson 7 runs
whole too, and a slider along a direction it found must redraw its explorer's image.

Needs Debian's chromium and the playwright package (``.ci/run`` installs both); skipped without them.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSON = "03_training_a_gan.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path, request):
    lesson = getattr(request, "param", LESSON)  # lesson 3 unless a test names another (indirect parametrize)
    shutil.copy(ROOT / "solutions" / lesson, tmp_path / lesson)
    port, token = free_port(), "course-browser-test"
    # render every cell (JupyterLab 4 otherwise detaches cells scrolled out of view)
    settings = tmp_path / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = dict(os.environ, COURSE_QUICK="1", COURSE_DASHBOARD="1", JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    env.pop("MPLBACKEND", None)  # the test command sets Agg; a student's Jupyter shows figures inline
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={tmp_path}", "--expose-app-in-browser",
         "--allow-root", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "server.log").open("w"))
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start:\n" + (tmp_path / "server.log").read_text()[-3000:])
    yield base, token, tmp_path
    server.terminate()
    server.wait(timeout=30)


def errors_in(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb["cells"] if c["cell_type"] == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def test_latent_slider_changes_the_image(jupyterlab):
    sync_api = pytest.importorskip("playwright.sync_api")
    base, token, folder = jupyterlab
    started = time.perf_counter()
    page_errors = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.goto(f"{base}/lab/tree/{LESSON}?token={token}")
        page.wait_for_function("() => { const w = window.jupyterapp?.shell?.currentWidget;"
                               " return w?.sessionContext?.session?.kernel?.status === 'idle'; }", timeout=120_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        image = page.locator(".latent-explorer-image").first
        image.wait_for(state="visible", timeout=300_000)
        image.scroll_into_view_if_needed()
        before = image.get_attribute("src")
        page.screenshot(path=str(folder / "before.png"))
        handle = page.locator(".widget-slider .noUi-handle").first
        handle.click()
        for _ in range(4):
            handle.press("ArrowRight")
        page.wait_for_function("(b) => document.querySelector('.latent-explorer-image').src !== b", arg=before,
                               timeout=30_000)
        after = image.get_attribute("src")
        page.screenshot(path=str(folder / "after.png"))
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                               " === 'idle'", timeout=300_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        time.sleep(2)
        dashboard_images = page.locator(".widget-output img").count()
        visible_errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                      " :text('Traceback')").count()
        browser.close()
    assert before and after and before != after, "moving the slider did not change the generated image"
    assert errors_in(folder / LESSON) == [], "cells raised errors in the browser run"
    assert visible_errors == 0 and page_errors == [], page_errors
    assert dashboard_images >= 1, "the live training dashboard drew nothing"
    print(f"browser test took {time.perf_counter() - started:.1f} s")


LESSON_7 = "07_controllable_generation.ipynb"


@pytest.mark.parametrize("jupyterlab", [LESSON_7], indirect=True)
def test_direction_slider_changes_the_image(jupyterlab):
    """Lesson 7 run whole in the browser (quick mode): a slider along a found direction redraws G(z)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    base, token, folder = jupyterlab
    page_errors = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.goto(f"{base}/lab/tree/{LESSON_7}?token={token}")
        page.wait_for_function("() => { const w = window.jupyterapp?.shell?.currentWidget;"
                               " return w?.sessionContext?.session?.kernel?.status === 'idle'; }", timeout=120_000)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        image = page.locator(".direction-explorer-image").first
        image.wait_for(state="visible", timeout=600_000)
        image.scroll_into_view_if_needed()
        before = image.get_attribute("src")
        handle = page.locator(".widget-slider .noUi-handle").first
        handle.click()
        for _ in range(4):
            handle.press("ArrowRight")
        page.wait_for_function("(b) => document.querySelector('.direction-explorer-image').src !== b", arg=before,
                               timeout=30_000)
        after = image.get_attribute("src")
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status"
                               " === 'idle'", timeout=300_000)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        time.sleep(2)
        browser.close()
    assert before and after and before != after, "moving the slider did not change the generated image"
    assert errors_in(folder / LESSON_7) == [], "cells raised errors in the browser run"
    assert page_errors == [], page_errors
