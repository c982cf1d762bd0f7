"""scripts/bootstrap.sh finds a Python 3.13+ on machines that have none on PATH.
``--print-python`` runs only its finder and prints the interpreter it would use. Each test gives it
a PATH with stand-in interpreters (shell scripts answering the version probe) and a fake pyenv root,
and no real Python but where a test puts one; and a .venv made with an older Python is recreated."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "scripts" / "bootstrap.sh"
BASH = shutil.which("bash") or "/bin/bash"
# What the script needs besides bash's builtins: `cd "$(dirname "$0")/.."`, and for the .venv steps
# rm, touch and what the stand-ins use. Linked one by one so that no python on PATH comes along.
TOOLS = ("dirname", "rm", "touch", "mkdir", "cp")


def fake_python(path: Path, version: str) -> Path:
    """A stand-in for Python ``version``: prints it for any ``-c`` probe, makes a venv of itself
    for ``-m venv DIR``, and does nothing for ``-m pip``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        '  "-m venv") mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;\n'
        '  "-m pip") ;;\n'
        f"  *) echo {version} ;;\n"
        "esac\n"
    )
    path.chmod(0o755)
    return path


def broken_python(path: Path) -> Path:
    """Like a pyenv shim for a version that pyenv does not have selected: exits 127."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\necho "pyenv: python3.13: command not found" >&2\nexit 127\n')
    path.chmod(0o755)
    return path


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, Path]:
    """A home with no ~/.pyenv, a bin directory holding only an old python3 (3.11), and the few
    coreutils the script calls, each linked into a directory of its own."""
    home, bin_dir, tools = tmp_path / "home", tmp_path / "bin", tmp_path / "tools"
    home.mkdir()
    tools.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (tools / tool).symlink_to(found)
    fake_python(bin_dir / "python3", "3.11")
    return {"home": home, "bin": bin_dir, "tools": tools, "tmp": tmp_path}


def run(machine: dict[str, Path], *args: str, script: Path = BOOTSTRAP,
        **env: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    environ = {"HOME": str(machine["home"]), "PATH": f"{machine['bin']}:{machine['tools']}", **env}
    return subprocess.run([BASH, str(script), *args], env=environ, capture_output=True, text=True,
                          timeout=60, cwd=machine["tmp"])  # fmt: skip


def test_only_an_old_python3_and_no_pyenv_fails_saying_what_to_install(machine) -> None:
    result = run(machine, "--print-python")
    assert result.returncode == 1
    assert result.stdout == ""
    message = result.stderr
    assert "no Python 3.13 or newer found" in message
    assert "pyenv install 3.13" in message
    assert "apt-get install python3.13 python3.13-venv" in message
    assert "Flex Consumption" in message and "Python 3.13" in message
    assert f"{machine['home']}/.pyenv/versions/3.1[3-9]*" in message  # where it looked


def test_pyenv_versions_under_home_are_found_and_the_lowest_suitable_chosen(machine) -> None:
    versions = machine["home"] / ".pyenv" / "versions"
    fake_python(versions / "3.12.4" / "bin" / "python", "3.12")
    fake_python(versions / "3.14.0" / "bin" / "python", "3.14")
    chosen = fake_python(versions / "3.13.1" / "bin" / "python", "3.13")
    result = run(machine, "--print-python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(chosen)


def test_a_real_python_313_under_pyenv_is_found(machine) -> None:
    real = Path(os.path.realpath(sys.executable))  # this test run's interpreter: 3.13+
    assert sys.version_info >= (3, 13)
    link = machine["home"] / ".pyenv" / "versions" / "3.13.0" / "bin" / "python"
    link.parent.mkdir(parents=True)
    link.symlink_to(real)
    result = run(machine, "--print-python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(link)


def test_pyenv_root_comes_from_pyenv_itself_then_pyenv_root_variable(machine) -> None:
    elsewhere = machine["tmp"] / "elsewhere"
    chosen = fake_python(elsewhere / "versions" / "3.14.2" / "bin" / "python", "3.14")
    result = run(machine, "--print-python", PYENV_ROOT=str(elsewhere))
    assert result.stdout.strip() == str(chosen), result.stderr
    # `pyenv root` wins over PYENV_ROOT when pyenv is on PATH.
    reported = machine["tmp"] / "reported"
    from_pyenv = fake_python(reported / "versions" / "3.13.3" / "bin" / "python", "3.13")
    pyenv = machine["bin"] / "pyenv"
    pyenv.write_text(f'#!/bin/sh\n[ "$1" = root ] && echo {reported}\n')
    pyenv.chmod(0o755)
    result = run(machine, "--print-python", PYENV_ROOT=str(elsewhere))
    assert result.stdout.strip() == str(from_pyenv), result.stderr


def test_path_is_searched_skipping_old_and_broken_interpreters(machine) -> None:
    broken_python(machine["bin"] / "python3.13")  # an unselected pyenv shim
    chosen = fake_python(machine["bin"] / "python3.14", "3.14")
    fake_python(machine["home"] / ".pyenv" / "versions" / "3.15.0" / "bin" / "python", "3.15")
    result = run(machine, "--print-python")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(chosen)


def test_a_lower_pyenv_version_beats_a_higher_one_on_path(machine) -> None:
    fake_python(machine["bin"] / "python", "3.14")
    chosen = fake_python(machine["home"] / ".pyenv" / "versions" / "3.13.0" / "bin" / "python",
                         "3.13")  # fmt: skip
    assert run(machine, "--print-python").stdout.strip() == str(chosen)


def test_python_variable_is_used_as_given_or_refused_when_old(machine) -> None:
    fake_python(machine["home"] / ".pyenv" / "versions" / "3.13.0" / "bin" / "python", "3.13")
    chosen = fake_python(machine["tmp"] / "opt" / "python3.14", "3.14")
    result = run(machine, "--print-python", PYTHON=str(chosen))
    assert result.returncode == 0 and result.stdout.strip() == str(chosen), result.stderr
    old = machine["bin"] / "python3"
    result = run(machine, "--print-python", PYTHON=str(old))
    assert result.returncode == 1 and result.stdout == ""
    assert f"PYTHON={old} is Python 3.11" in result.stderr
    assert "needs Python 3.13 or newer" in result.stderr


def test_a_venv_made_with_an_older_python_is_recreated(machine) -> None:
    """The real script, copied into a scratch project with an old .venv: it says it recreates
    .venv, makes it with the 3.13 found under pyenv, and installs the requirements into it. (It
    then stops at `npm ci`, which this PATH lacks: the later steps are not this test's.)"""
    project = machine["tmp"] / "project"
    (project / "scripts").mkdir(parents=True)
    script = project / "scripts" / "bootstrap.sh"
    shutil.copy(BOOTSTRAP, script)
    for name in ("requirements.txt", "requirements-dev.txt"):
        (project / name).write_text("")
    fake_python(project / ".venv" / "bin" / "python", "3.11")
    new = fake_python(machine["home"] / ".pyenv" / "versions" / "3.13.0" / "bin" / "python", "3.13")
    result = run(machine, script=script)
    out = result.stdout
    assert "==> .venv was made with Python 3.11, older than 3.13: recreating .venv" in out
    assert f"==> creating .venv with {new} (Python 3.13)" in out
    assert "==> installing Python requirements" in out
    assert (project / ".venv" / ".requirements.stamp").is_file()
    probe = subprocess.run([str(project / ".venv" / "bin" / "python"), "-c", "v"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    assert probe.stdout.strip() == "3.13"
    # Run again: the .venv is now new enough and is kept.
    again = run(machine, script=script)
    assert "recreating" not in again.stdout and "creating .venv" not in again.stdout
