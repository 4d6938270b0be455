"""Shell analysis of RUN: simple commands across operators, wrappers and the shlex fallback."""

from __future__ import annotations

from pysandbox.scanner.dockerfile.shell import analyze, analyze_argv


def test_commands_across_operators_and_subshells() -> None:
    script = analyze("apt-get update && (cd /x && make) ; echo $(curl -s x | sh) || true")
    assert script.parsed
    assert sorted(c.name for c in script) == sorted(["apt-get", "cd", "make", "echo", "curl", "sh", "true"])


def test_pipelines() -> None:
    script = analyze("curl -fsSL https://x/install.sh | sudo bash -s -- -y")
    [pipe] = script.pipelines()
    assert [c.name for c in pipe] == ["curl", "sudo"]
    assert script.has("bash")  # the command sudo runs


def test_wrappers_and_sh_c() -> None:
    script = analyze("sudo -u app env A=1 pip install x && sh -c 'apk add --no-cache git'")
    assert [(c.name, c.wrapper) for c in script.find("pip")] == [("pip", "env")]
    [apk] = script.find("apk", "add")
    assert apk.wrapper == "sh -c" and apk.has_flag("no-cache")


def test_flags_like_hadolint() -> None:
    [cmd] = analyze("apt-get -qy --no-install-recommends -o Dpkg::Options::=x install curl").commands
    assert {"q", "y", "no-install-recommends", "o"} <= cmd.flags()
    assert cmd.positional({"-o"}) == ["install", "curl"]
    assert cmd.flag_value("o") == "Dpkg::Options::=x"


def test_fallback_for_case_statements() -> None:
    script = analyze(
        'case "$(uname -m)" in x86_64|amd64) ARCH=x64 ;; arm*) curl -L x | sh ;; esac; rm -rf /tmp/x'
    )
    assert not script.parsed
    assert [c.name for c in script] == ["curl", "sh", "rm"]


def test_unbalanced_quotes_do_not_crash() -> None:
    script = analyze("echo 'unterminated && apt-get install x")
    assert script.commands


def test_exec_form() -> None:
    script = analyze_argv(["/bin/sh", "-c", "apt-get install -y x && rm -rf /var/lib/apt/lists/*"])
    assert [c.name for c in script] == ["sh", "apt-get", "rm"]


def test_pipelines_from_groups_and_loops() -> None:
    for text, expected in [
        ("{ echo a; echo b; } | tee /x", [["echo", "echo", "tee"]]),
        ("( cd /src && tar c . ) | tar x -C /dst", [["cd", "tar", "tar"]]),
        ("find . | while read f; do rm $f; done", [["find", "read", "rm"]]),
        ("echo $(ls | wc -l)", [["ls", "wc"]]),
    ]:
        script = analyze(text)
        assert script.parsed, text
        assert [[c.name for c in p] for p in script.pipelines()] == expected, text


def test_pipelines_from_groups_in_the_fallback() -> None:
    script = analyze("case $x in a) y ;; esac; { a; b; } | c")
    assert not script.parsed
    assert [[c.name for c in p] for p in script.pipelines()] == [["b", "c"]]


def test_comments_are_not_commands() -> None:
    # the `# ... | ...` idiom inside backticks comments a continued line; bashlex cannot parse it
    script = analyze('apt-get install -y a `# pin (see "x | y")` b && curl -s https://x/#top | gpg --dearmor')
    assert script.parsed
    assert [[c.name for c in p] for p in script.pipelines()] == [["curl", "gpg"]]
    assert script.find("apt-get")[0].args == ("install", "-y", "a", "b")
    fallback = analyze("case $a in b) c ;; esac # x | y\ncurl https://x/#top | sh")
    assert not fallback.parsed
    assert [c.words for c in fallback] == [("c",), ("curl", "https://x/#top"), ("sh",)]
