import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB1001"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM alpine:3.20\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n", [2]),
        ("FROM alpine:3.20\nARG T=ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", [2]),
        (
            "FROM alpine:3.20\nRUN curl -H 'Authorization: Bearer"
            " eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnopqrstu' x\n",
            [2],
        ),
        ("FROM alpine:3.20\nLABEL db_password=hunter2\n", [2]),
        ("FROM alpine:3.20\nRUN git clone https://user:s3cr3tpass@example.com/repo.git\n", [2]),
        ("FROM alpine:3.20\nRUN <<EOF\necho '-----BEGIN OPENSSH PRIVATE KEY-----' > /k\nEOF\n", [2]),
        ("FROM alpine:3.20\nENV STRIPE=sk_live_444444444444444444444444\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine:3.20\nENV AWS_REGION=eu-west-1\n",
        "FROM alpine:3.20\nLABEL db_password=$DB_PASSWORD\n",
        "FROM alpine:3.20\nRUN git clone https://$USER:$TOKEN@example.com/repo.git\n",
        "FROM alpine:3.20\nENV GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
