"""course.py's argument handling: --cpu selects PyTorch's CPU index and is never passed on; the first start
runs the doctor once; JupyterLab's news prompt is answered. Nothing is installed: subprocess is recorded."""

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def course(tmp_path, monkeypatch):
    """course.py loaded as a module, its .venv in tmp_path, every command recorded instead of run."""
    spec = importlib.util.spec_from_file_location("course_cli", ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    venv_dir = tmp_path / ".venv"
    monkeypatch.setattr(module, "VENV", venv_dir)
    monkeypatch.setattr(module, "STAMP", venv_dir / ".course-installed")
    monkeypatch.setattr(module, "DOCTOR_STAMP", venv_dir / ".course-doctor-ran")
    monkeypatch.setattr(module, "PY", venv_dir / "bin" / "python")
    module.calls = []

    class FakeEnvBuilder:
        def __init__(self, **kwargs):
            pass

        def create(self, path):
            (Path(path) / "bin").mkdir(parents=True)
            (Path(path) / "bin" / "python").write_text("")

    def record(cmd, *args, **kwargs):
        module.calls.append([str(c) for c in cmd])
        return 0

    monkeypatch.setattr(module.venv, "EnvBuilder", FakeEnvBuilder)
    monkeypatch.setattr(module.subprocess, "run", record)
    monkeypatch.setattr(module.subprocess, "call", record)

    class FakePopen:  # JupyterLab, recorded when it starts
        def __init__(self, cmd, *args, **kwargs):
            record(cmd)

        def wait(self):
            return 0

    monkeypatch.setattr(module.subprocess, "Popen", FakePopen)
    return module


def pip_installs(calls):
    return [c for c in calls if c[1:4] == ["-m", "pip", "install"]]


def test_setup_cpu_installs_torch_from_the_cpu_index_first_and_records_it(course):
    assert course.main(["setup", "--cpu"]) == 0
    first, *rest = pip_installs(course.calls)
    assert first[first.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    assert first[-2:] == ["torch>=2.6", "torchvision>=0.21"]  # requirements.txt's lower bounds
    assert any("requirements.txt" in " ".join(c) for c in rest)
    assert not any("--index-url" in c for c in rest)  # the rest comes from the normal index
    assert json.loads(course.STAMP.read_text())["torch"] == "cpu"


def test_a_later_plain_setup_keeps_the_cpu_build(course):
    course.main(["setup", "--cpu"])
    stamp = json.loads(course.STAMP.read_text())
    course.STAMP.write_text(json.dumps(dict(stamp, fingerprint="requirements changed")))
    course.calls.clear()
    course.main(["setup"])
    assert "--index-url" in pip_installs(course.calls)[0]  # not the default (CUDA) torch
    course.calls.clear()
    course.main(["setup"])
    assert course.calls == []  # nothing changed: nothing installed


def test_default_setup_uses_no_special_index(course):
    course.main(["setup"])
    assert course.calls and not any("--index-url" in c for c in course.calls)
    assert json.loads(course.STAMP.read_text())["torch"] == "default"


def test_cpu_on_a_default_venv_says_to_delete_it(course):
    course.main(["setup"])
    with pytest.raises(SystemExit, match="delete .*setup --cpu"):
        course.main(["setup", "--cpu"])


def test_start_strips_cpu_runs_the_doctor_once_and_answers_the_news_prompt(course):
    course.main(["start", "--cpu", "--port", "9999"])
    lab = [c for c in course.calls if c[1:4] == ["-m", "jupyter", "lab"]]
    assert len(lab) == 1 and "--cpu" not in lab[0] and lab[0][-2:] == ["--port", "9999"]
    doctor = [c for c in course.calls if "course_utils.doctor" in c]
    assert doctor == [[str(course.PY), "-m", "course_utils.doctor", "--short"]]
    assert course.calls.index(lab[0]) < course.calls.index(doctor[0])  # JupyterLab opens first
    overrides = json.loads((course.VENV / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    course.calls.clear()
    course.main(["start"])
    assert not [c for c in course.calls if "course_utils.doctor" in c]  # only after the first setup


def test_test_and_doctor_strip_cpu(course):
    course.main(["test", "--cpu", "-k", "checks"])
    pytest_cmd = next(c for c in course.calls if c[1:3] == ["-m", "pytest"])
    assert "--cpu" not in pytest_cmd and pytest_cmd[-2:] == ["-k", "checks"]
    assert json.loads(course.STAMP.read_text())["torch"] == "cpu"
    course.main(["doctor", "--cpu", "--steps", "3"])
    assert course.calls[-1] == [str(course.PY), "-m", "course_utils.doctor", "--steps", "3"]


def test_news_override_keeps_other_settings(course):
    path = course.VENV / "share/jupyter/lab/settings/overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    course.quiet_jupyterlab()
    data = json.loads(path.read_text())
    assert data["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert data["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_old_stamps_and_bad_commands(course, capsys):
    course.VENV.mkdir()
    course.STAMP.write_text("abc123")  # written by the course.py before CPU installs
    assert course.read_stamp() == {"fingerprint": "abc123", "torch": "default"}
    assert course.main(["setup", "--gpu"]) == 2 and "--gpu" in capsys.readouterr().err
    assert course.main(["nonsense"]) == 2
    assert course.split_cpu(["--cpu", "-k", "x"]) == (True, ["-k", "x"])


def failing_pip(course, monkeypatch, free_gb: float):
    """pip's requirements install fails, the disk reports ``free_gb`` free."""
    def run(cmd, *args, **kwargs):
        course.calls.append([str(c) for c in cmd])
        if "-r" in cmd:
            raise course.subprocess.CalledProcessError(1, cmd)
        return 0

    monkeypatch.setattr(course.subprocess, "run", run)
    usage = SimpleNamespace(total=500e9, used=500e9 - free_gb * 1e9, free=free_gb * 1e9)  # as shutil.disk_usage
    monkeypatch.setattr(course.shutil, "disk_usage", lambda path: usage)


def test_a_full_disk_is_named_when_pip_fails(course, monkeypatch, capsys):
    failing_pip(course, monkeypatch, free_gb=0.9)
    with pytest.raises(SystemExit) as exc:
        course.main(["setup"])
    message = str(exc.value)
    assert "only 0.9 GB free" in message and "needs about 7 GB" in message and "--cpu" in message
    assert "WARNING: 0.9 GB free" in capsys.readouterr().out  # said before the install started
    assert not course.STAMP.exists()  # not recorded as installed: the next command tries again


def test_other_pip_failures_point_at_pip_s_message(course, monkeypatch, capsys):
    failing_pip(course, monkeypatch, free_gb=80.0)
    with pytest.raises(SystemExit) as exc:
        course.main(["setup", "--cpu"])
    message = str(exc.value)
    assert "Its message is above" in message and "GB free" not in message and "-r" in message
    assert "WARNING" not in capsys.readouterr().out and not course.STAMP.exists()


def test_the_suite_spreads_its_files_over_the_cores(course, monkeypatch):
    monkeypatch.delenv("COURSE_TEST_WORKERS", raising=False)
    assert course.test_workers([], cores=2) == ["-n", "2", "--dist", "loadfile"]
    assert course.test_workers([], cores=16) == ["-n", "4", "--dist", "loadfile"]  # capped: memory, kernels
    assert course.test_workers([], cores=1) == []
    assert course.test_workers(["-n", "3"], cores=8) == [] and course.test_workers(["-p", "no:xdist"], cores=8) == []
    monkeypatch.setenv("COURSE_TEST_WORKERS", "1")
    assert course.test_workers([], cores=8) == []
    monkeypatch.setenv("COURSE_TEST_WORKERS", "3")
    assert course.test_workers([], cores=2) == ["-n", "3", "--dist", "loadfile"]
    course.main(["test", "tests/lesson1"])
    pytest_cmd = next(c for c in course.calls if c[1:3] == ["-m", "pytest"])
    assert pytest_cmd[-5:] == ["-n", "3", "--dist", "loadfile", "tests/lesson1"]
