import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3013"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM python:3.12\nRUN pip install requests\n", [2]),
        ("FROM python:3.12\nRUN python3 -m pip install --no-cache-dir flask==3.0 requests\n", [2]),
        ("FROM python:3.12\nRUN /venv/bin/pip install -i https://x/simple wheel\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM python:3.12\nRUN pip install requests==2.32.3 'flask>=3'\n",
        "FROM python:3.12\nRUN pip install -r requirements.txt\n",
        "FROM python:3.12\nRUN pip install .\n",
        "FROM python:3.12\nRUN pip install git+https://github.com/x/y@v1.0\n",
        "FROM python:3.12\nRUN pip install ./dist/app-1.0-py3-none-any.whl\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
