import pytest

from pysandbox.scanner.dockerfile.testing import flagged_lines

RULE = "PSB3060"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("FROM node:20\nRUN yarn install --frozen-lockfile\n", [2]),
        ("FROM node:20\nRUN yarn install && yarn build\n", [2]),
        # a stage the final image is built FROM ships its layers
        ("FROM node:20 AS deps\nRUN yarn install\nFROM deps\nRUN yarn build\n", [2]),
    ],
)
def test_flags(text: str, lines: list[int]) -> None:
    assert flagged_lines(RULE, text) == lines


@pytest.mark.parametrize(
    "text",
    [
        "FROM node:20\nRUN yarn install --frozen-lockfile && yarn cache clean\n",
        "FROM node:20\nRUN --mount=type=cache,target=/usr/local/share/.cache/yarn yarn install\n",
        "FROM node:20\nRUN yarn build\n",
        # a build stage only copied from: its cache never reaches the image
        "FROM node:20 AS build\nRUN yarn install && yarn build\n"
        "FROM nginx:1.27\nCOPY --from=build /app/dist /srv\n",
    ],
)
def test_clean(text: str) -> None:
    assert flagged_lines(RULE, text) == []
