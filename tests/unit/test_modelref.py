"""harness.modelref: the one parser of `family:name` model references."""

import pytest

from harness import modelref


@pytest.mark.parametrize(
    ("ref", "family", "name"),
    [
        ("gemini:gemini-2.5-flash", "gemini", "gemini-2.5-flash"),
        ("hf:Qwen/Qwen2.5-0.5B-Instruct", "hf", "Qwen/Qwen2.5-0.5B-Instruct"),
        ("python:my_rag:answer", "python", "my_rag:answer"),
        ("http://127.0.0.1:8000/ask", "http", "//127.0.0.1:8000/ask"),
        ("extractive", "extractive", ""),
        ("hf:", "hf", ""),
        ("", "", ""),
    ],
)
def test_parse_splits_at_the_first_colon(ref: str, family: str, name: str) -> None:
    parsed = modelref.parse(ref)
    assert (parsed.family, parsed.name) == (family, name)
    assert modelref.family(ref) == family and modelref.name(ref) == name
    # what the replaced call sites computed
    assert family == ref.split(":", 1)[0]
    assert name == (ref.split(":", 1)[1] if ":" in ref else "")


@pytest.mark.parametrize("ref", ["gemini:flash", "extractive", "hf:", "python:a:b", "http://h:1/x"])
def test_str_gives_the_reference_back(ref: str) -> None:
    assert str(modelref.parse(ref)) == ref


def test_a_reference_is_a_frozen_value() -> None:
    parsed = modelref.parse("openai:gpt-4o-mini")
    assert parsed == modelref.parse("openai:gpt-4o-mini")
    with pytest.raises(AttributeError):
        parsed.family = "gemini"  # type: ignore[misc]


def test_check_names_the_place_and_the_families() -> None:
    from harness.errors import InputError

    assert (
        modelref.check("gemini:flash", modelref.CHAT_FAMILIES, "suite.yaml", "key 'judge.model'").name
        == "flash"
    )
    for bad in ("gemini", "gemini:", "offline:minilm", "extractive"):
        with pytest.raises(InputError) as err:
            modelref.check(bad, modelref.CHAT_FAMILIES, "suite.yaml", "key 'judge.model'")
        assert err.value.where == "suite.yaml"
        assert err.value.what == (
            f"key 'judge.model': unknown model '{bad}' "
            "(expected 'gemini:<model>' or 'openai:<model>' or 'hf:<model>')"
        )
