import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3064"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nARG AWS_SECRET_ACCESS_KEY\n", [2]),
        ("FROM alpine:3.20\nENV DB_PASSWORD=hunter2\n", [2]),
        ("FROM alpine:3.20\nENV A=1 GITHUB_TOKEN=x\n", [2]),
        ("FROM alpine:3.20\nARG apiKey=abc\n", [2]),
        ("ARG NPM_TOKEN\nFROM alpine:3.20\n", [1]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
        "FROM alpine:3.20\nARG PASSWORD_FILE=/run/secrets/pw\n",
        "FROM alpine:3.20\nENV TOKENIZERS_PARALLELISM=false\n",
        "FROM alpine:3.20\nLABEL password=x\n",
        "FROM alpine:3.20\nARG PUBLIC_KEY_URL\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
