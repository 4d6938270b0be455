import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3062"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM golang:1.22\nRUN go install example.com/cmd/tool\n", [2]),
        ("FROM golang:1.22\nRUN go get example.com/x\n", [2]),
        ("FROM golang:1.22\nRUN go install -v golang.org/x/tools/cmd/cover@latest\n", [2]),
        ("FROM golang:1.22\nRUN go run github.com/google/go-licenses/v2 save ./cmd\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM golang:1.22\nRUN go install example.com/cmd/tool@v1.2.3\n",
        "FROM golang:1.22\nRUN go install . && go install ./...\n",
        "FROM golang:1.22\nRUN go run main.go && go run ./cmd/gen\n",
        "FROM golang:1.22\nRUN go build -o /app ./cmd/app\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
