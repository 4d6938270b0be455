import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines, run_rule

RULE = "PSB3008"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM debian\nRUN apt-get update && apt-get install -y curl\n", [2]),
        ("FROM debian\nRUN apt-get install -y curl=7.88.* \\\n    wget\n", [2]),
        ("FROM debian\nRUN sudo apt-get -t bookworm install -y curl\n", [2]),
        ("FROM debian\nRUN sh -c 'apt-get install -y curl'\n", [2]),
        ('FROM debian\nRUN ["apt-get", "install", "-y", "curl"]\n', [2]),
        ("FROM debian\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n", [2]),
    ],
)
def test_unpinned_packages_are_flagged(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM debian\nRUN apt-get update && apt-get install -y curl=7.88.1-10 wget=1.21.*\n",
        "FROM debian\nRUN apt-get install -y -o Dpkg::Options::=--force-confnew ./local.deb\n",
        "FROM debian\nRUN apt-get install -y -t bookworm-backports curl/bookworm-backports\n",
        "FROM debian\nRUN apt-get update\n",
        "FROM debian\nRUN echo apt-get install curl\n",
    ],
)
def test_pinned_or_no_install_is_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []


def test_message_names_the_unpinned_packages() -> None:
    [finding] = run_rule(RULE, "FROM debian\nRUN apt-get install -y curl=1 wget git\n")
    assert "wget, git" in finding.message
    assert "DL3008" in finding.aliases
