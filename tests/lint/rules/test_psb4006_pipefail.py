import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB4006"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nRUN wget -qO- https://e.com/a | tar xz\n", [2]),
        ('FROM alpine:3.20\nRUN ["sh", "-c", "a | b"]\n', [2]),
        ("FROM alpine:3.20\nRUN { echo a; echo b; } | tee /x\n", [2]),
        ("FROM alpine:3.20\nRUN (cd /src && tar c .) | tar x -C /dst\n", [2]),
        ("FROM alpine:3.20\nRUN a `# a | comment` \\\n && curl -s https://x/#top | sh\n", [2]),
        ("FROM alpine:3.20\nRUN case $x in a) y ;; esac; { a; b; } | c\n", [2]),
        ('FROM debian:12\nSHELL ["/bin/sh", "-o", "pipefail", "-c"]\nRUN a | b\n', [3]),
        ('FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nFROM debian:12\nRUN a | b\n', [4]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nRUN a || b\n",
        'FROM debian:12\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN a | b\n',
        'FROM alpine:3.20\nSHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nRUN a | b\n',
        'FROM mcr.microsoft.com/windows/servercore:ltsc2022\nSHELL ["pwsh", "-c"]\nRUN a | b\n',
        "FROM alpine:3.20\nONBUILD RUN a | b\n",
        "FROM alpine:3.20\nRUN case $x in a|b) echo;; esac\n",
        "FROM alpine:3.20\nRUN apk add a `# pinned | see docs` b\n",
        "FROM alpine:3.20\nRUN echo a # b | c\n",
        "FROM alpine:3.20\nRUN set -euxo pipefail; curl -fsS https://x/a.tgz | tar xz\n",
        "FROM debian:12\nRUN set -o pipefail && a | b\n",
        "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN powershell Get-Item x ^| Out-Null\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
