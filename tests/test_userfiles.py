"""pysandbox.userfiles: a file the user named, or one message naming the file, the problem and the fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import conftest as root_conftest
import pytest
import yaml

from pysandbox.types import EXIT_RUN_FAILURE, SandboxError, UserError
from pysandbox.userfiles import MAX_BYTES, read_text, yaml_problem

FIX = "give a notes file"
# read_text in a child: a read that would hang (a FIFO without a writer) or never end (/dev/zero)
# fails the test at the timeout instead of hanging it.
CHILD = """import sys
from pysandbox.userfiles import read_text
try:
    print(repr(read_text(sys.argv[1], "notes", "give a notes file", max_bytes=int(sys.argv[2]))))
except Exception as exc:
    print(exc)
"""


def _message(path: Path, **kwargs: int) -> str:
    with pytest.raises(UserError) as exc:
        read_text(path, "notes", FIX, **kwargs)  # type: ignore[arg-type]
    assert exc.value.exit_code == 2
    return str(exc.value)


def _read_in_child(path: Path | str, max_bytes: int) -> str:
    argv = [sys.executable, "-c", CHILD, str(path), str(max_bytes)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.rstrip("\n")


def test_text_comes_back_with_newlines_as_text_mode_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("A=1\r\nB=é\rC=3\n".encode())
    assert read_text(path, "notes", FIX) == "A=1\nB=é\nC=3\n"
    assert read_text(str(path), "notes", FIX, max_bytes=path.stat().st_size) == "A=1\nB=é\nC=3\n"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "none.txt"
    assert _message(missing) == f"cannot read notes {missing}: No such file or directory: {FIX}"
    assert _message(tmp_path) == f"notes {tmp_path} is a directory: {FIX}"
    (tmp_path / "link").symlink_to(tmp_path)
    assert _message(tmp_path / "link") == f"notes {tmp_path / 'link'} is a directory: {FIX}"


def test_unreadable_file_as_an_unprivileged_user(test_user: root_conftest.TestUser, world_tmp: Path) -> None:
    """Root reads any file: the user the suite runs unprivileged cases as does not."""
    locked = world_tmp / f"userfiles-locked-{os.getpid()}"
    locked.write_text("secret\n")
    locked.chmod(0)
    try:
        done = test_user.run([test_user.python, "-c", CHILD, str(locked), "100"])
    finally:
        locked.unlink()
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"cannot read notes {locked}: Permission denied: {FIX}\n"


def test_not_utf8_names_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("A=1\nB=caf\u00e9\n".encode("latin-1"))
    assert _message(path) == f"notes {path} is not UTF-8 text (invalid byte at offset 9): {FIX}"


def test_larger_than_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * ((1 << 20) + 1))
    assert _message(path, max_bytes=1 << 20) == f"notes {path} is larger than 1 MiB: {FIX}"
    assert _message(path, max_bytes=1000) == f"notes {path} is larger than 1000 bytes: {FIX}"
    assert len(read_text(path, "notes", FIX, max_bytes=(1 << 20) + 1)) == (1 << 20) + 1


def test_every_read_has_a_cap_by_default(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    assert _message(path) == f"notes {path} is larger than {MAX_BYTES >> 20} MiB: {FIX}"
    path.write_bytes(b"#" * MAX_BYTES)
    assert len(read_text(path, "notes", FIX)) == MAX_BYTES


def test_a_fifo_without_a_writer_does_not_wait_for_one(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert _read_in_child(fifo, 100) == "''"


def test_a_pipe_whose_writer_is_slow_is_waited_for() -> None:
    """`--env-file <(make-env)`: the pipe is there before the writer has written anything."""
    script = '"$0" -c "$1" <(sleep 0.5; printf "A=1\\n") 100'
    argv = ["bash", "-c", script, sys.executable, CHILD]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert done.stdout == "'A=1\\n'\n", done.stderr


def test_a_fifo_or_device_is_read_no_further_than_max_bytes(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer that stays: a read to the end never ends
    try:
        os.write(writer, b"A=1\n" * 1024)
        assert _read_in_child(fifo, 100) == f"notes {fifo} is larger than 100 bytes: {FIX}"
    finally:
        os.close(writer)
    assert _read_in_child("/dev/zero", 1 << 20) == f"notes /dev/zero is larger than 1 MiB: {FIX}"


def test_the_caller_picks_the_exception(tmp_path: Path) -> None:
    with pytest.raises(SandboxError) as exc:
        read_text(tmp_path, "env file", FIX, error=SandboxError)
    assert exc.value.exit_code == EXIT_RUN_FAILURE
    assert str(exc.value) == f"env file {tmp_path} is a directory: {FIX}"


def test_yaml_problem_with_and_without_a_line() -> None:
    with pytest.raises(yaml.YAMLError) as marked:
        yaml.safe_load("name: ok\nlist: [1, 2\n")
    assert yaml_problem(marked.value) == "line 3: expected ',' or ']', but got '<stream end>'"
    with pytest.raises(yaml.YAMLError) as unmarked:  # the reader's errors have a position, not a mark
        yaml.safe_load("name: \x07\n")
    assert not hasattr(unmarked.value, "problem_mark")
    assert yaml_problem(unmarked.value) == "unacceptable character #x0007: special characters are not allowed"
    assert yaml_problem(yaml.YAMLError("no document\nsecond line")) == "no document"


DEEP = "a: " + "[" * 500 + "]" * 500 + "\n"  # 1 KB that PyYAML's loader cannot build (RecursionError)


DEEP_JSON = '{"defaultAction": "SCMP_ACT_ALLOW", "x": ' + "[" * 5000 + "]" * 5000 + "}\n"


@pytest.mark.parametrize(
    ("deep", "args", "status", "message"),
    [
        (DEEP, ["profile", "validate", "{f}"], 2, "profile {f} is nested too deeply to read: flatten it"),
        (DEEP, ["run", "--profile", "{f}", "--", "/bin/true"], EXIT_RUN_FAILURE, "profile {f} is nested too"),
        (DEEP, ["lint", "--config", "{f}", "{dockerfile}"], 2, "config {f} is nested too deeply to read"),
        (DEEP, ["audit", "config", "{f}"], 2, "{f}: nested too deeply to read"),
        (DEEP, ["export", "--profile", "default", "--format", "kubernetes", "--workload", "{f}"], 2,
         "workload {f} is nested too deeply to read"),
        (DEEP_JSON, ["run", "--allow-unsafe", "--security-opt", "seccomp={f}", "--", "/bin/true"],
         EXIT_RUN_FAILURE, "seccomp profile {f}: nested too deeply to read"),
        (DEEP_JSON, ["audit", "config", "{f}"], 2, "{f}: nested too deeply to read"),
        (DEEP_JSON, ["image", "import", "{layout}"], 2, "index.json: JSON nested too deeply to read"),
    ],
)  # fmt: skip
def test_input_nested_too_deeply_is_one_line_not_a_traceback(
    tmp_path: Path, deep: str, args: list[str], status: int, message: str
) -> None:
    """YAML PyYAML's loader cannot build, JSON the decoder cannot (RecursionError both)."""
    path = tmp_path / ("deep.yaml" if deep is DEEP else "deep.json")
    path.write_text(deep)
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\n")
    layout = tmp_path / "layout"
    layout.mkdir()
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (layout / "index.json").write_text(deep)
    names = {"f": path, "dockerfile": dockerfile, "layout": layout}
    argv = [sys.executable, "-m", "pysandbox", *(a.format(**names) for a in args)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == status, done.stderr
    assert done.stderr.count("\n") == 1 and message.format(f=path) in done.stderr, done.stderr
