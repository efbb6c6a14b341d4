"""harness/sources.py's table cache: a table whose bytes were read before is neither parsed nor checked
again; a broken table is never stored, so it fails the same way on every read."""

from pathlib import Path

import pytest

from harness import sources
from harness.errors import InputError
from harness.values.suite import Source


def _count_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    check = sources._check_json_lines

    def counting(path: Path, text: str) -> None:
        seen.append(path.name)
        check(path, text)

    monkeypatch.setattr(sources, "_check_json_lines", counting)
    return seen


def test_a_cached_table_is_not_checked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _count_checks(monkeypatch)
    (tmp_path / "rows.jsonl").write_text('{"id": "p1", "text": "One."}\n{"id": "p2", "text": "Two."}\n')
    first = sources.read_rows(Source(path="rows.jsonl"), tmp_path)
    second = sources.read_rows(Source(path="rows.jsonl"), tmp_path)
    assert first == second
    assert [row["id"] for row in second[1]] == ["p1", "p2"]
    assert checks == ["rows.jsonl"]


def test_a_broken_table_fails_on_every_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _count_checks(monkeypatch)
    (tmp_path / "bad.jsonl").write_text('{"id": "p1", "text": "One."}\n{"id": 2, "text": "Two."}\n')
    for _ in range(2):
        with pytest.raises(InputError) as err:
            sources.read_rows(Source(path="bad.jsonl"), tmp_path)
        assert "bad.jsonl:2" in str(err.value) and "column 'id'" in str(err.value)
    assert checks == ["bad.jsonl", "bad.jsonl"]


def test_a_json_document_does_not_stand_in_for_the_same_bytes_as_json_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = _count_checks(monkeypatch)
    text = '{"id": "p1", "text": "One."}\n'
    (tmp_path / "rows.json").write_text(text)
    (tmp_path / "rows.jsonl").write_text(text)
    sources.read_rows(Source(path="rows.json"), tmp_path)
    sources.read_rows(Source(path="rows.jsonl"), tmp_path)
    assert checks == ["rows.jsonl"]  # the .jsonl file was checked although the same bytes were cached
