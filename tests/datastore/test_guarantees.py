"""Every test that docs/datastore.md's Guarantees section names exists."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent
DOCS = HERE.parents[1] / "docs" / "datastore.md"


def _named_tests() -> list[tuple[str, str]]:
    text = DOCS.read_text()
    section = text.split("## Guarantees", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"`(test_\w+\.py)::(\w+)`", section)


def test_the_guarantees_name_tests():
    assert len(_named_tests()) >= 8


def test_every_test_the_guarantees_name_exists():
    for file_name, test_name in _named_tests():
        source = (HERE / file_name).read_text()
        defined = re.search(rf"^(def|class) {test_name}\b|^{test_name} = ", source, re.MULTILINE)
        assert defined, f"docs/datastore.md names {file_name}::{test_name}, which does not exist"
