import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3042"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM python:3.12-slim\nRUN pip install requests==2.32.3\n", [2]),
        ("FROM python:3.12-slim\nRUN python3 -m pip install -r req.txt\n", [2]),
        ("FROM python:3.12-slim\nRUN /venv/bin/pip install flask==3.0.0\n", [2]),
        (
            "FROM python:3.12-slim\nFROM python:3.12-slim\nENV PIP_NO_CACHE_DIR=0\nRUN pip3 install a==1\n",
            [4],
        ),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12-slim\nRUN pip install --no-cache-dir requests==2.32.3\n",
        "FROM python:3.12-slim\nENV PIP_NO_CACHE_DIR=1\nRUN pip install requests==2.32.3\n",
        "FROM python:3.12-slim\nFROM python:3.12 AS base\nENV PIP_NO_CACHE_DIR=yes\nFROM"
        " base\nRUN pip install a==1\n",
        "FROM python:3.12-slim\nRUN PIP_NO_CACHE_DIR=true pip install a==1\n",
        "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install a==1\n",
        "FROM python:3.12-slim\nRUN pipx install poetry==1.8.3 && pipenv install\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
