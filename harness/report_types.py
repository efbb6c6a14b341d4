"""The typed blocks of run.json: where a run came from (git, suite, system), what it cost, its tag slices.

Each block is a small frozen model read by attribute (`report.suite.name`). `Block.__getitem__` and
`Block.get` still answer the old string-key reads (`report.suite["name"]`) while the last readers move
over (tracking_store.unlogged_runs and tests written before the blocks were typed); then they go.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_serializer

SCHEMA_VERSION = 2  # of run.json; `migrate` reads every older one


class Block(BaseModel):
    """A frozen block of run.json. Keys a newer harness added are ignored by an older one."""

    model_config = ConfigDict(frozen=True)

    def __getitem__(self, key: str) -> Any:
        """Transitional: the dict-style read of a field (KeyError for an unknown one)."""
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """Transitional: the dict-style read of a field, `default` for an unknown one or a None value."""
        value = getattr(self, key, None) if key in type(self).model_fields else None
        return default if value is None else value


class GitInfo(Block):
    """The commit the harness ran from, and whether the work tree had uncommitted changes."""

    commit: str = Field("unknown", description="HEAD's hash, or 'unknown' outside a git checkout.")
    dirty: bool | None = Field(None, description="Uncommitted changes to tracked files; None: not known.")


class SuiteInfo(Block):
    """The suite a run saw. `limit` and `full_test_cases` are set only for a --limit run."""

    name: str
    version: int
    hash: str = ""
    path: str = ""
    k: int | None = Field(None, description="The suite's retrieval depth for hit_at_k and recall_at_k.")
    limit: int | None = Field(None, description="--limit N: only the first N test cases ran.")
    full_test_cases: int | None = Field(None, description="With a limit: how many test cases the suite has.")

    @model_serializer(mode="wrap")
    def _limit_only_when_limited(self, handler: Any) -> Any:
        data = handler(self)  # a full run's suite block reads as it always did: no limit keys
        if isinstance(data, dict) and self.limit is None:
            data.pop("limit", None)
            data.pop("full_test_cases", None)
        return data


class SystemInfo(Block):
    """The system a run measured. `spec` is the system's YAML as loaded (a plain dict: a run folder stays
    readable after the SystemSpec model gains or renames keys)."""

    name: str
    kind: str
    label: str
    hash: str = ""
    spec: dict[str, Any] = Field(default_factory=dict)


class Tally(Block):
    """Model calls and tokens; `requests` counts HTTP requests sent (retries included)."""

    calls: int = 0
    cached: int = 0
    requests: int = 0
    rate_limited: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class SystemUsage(Block):
    """The answers' calls and tokens, and the model that produced them."""

    model: str = ""
    calls: int = 0
    cached: int = 0
    requests: int = 0
    rate_limited: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class Usage(Block):
    """Tokens and dollars: what the answers and each metric cost to produce, and what this run sent."""

    system: SystemUsage = Field(default_factory=SystemUsage)
    metrics: dict[str, Tally] = Field(default_factory=dict, description="Per metric: its judge's calls.")
    sent: dict[str, Tally] = Field(
        default_factory=dict, description="Sent this run, per '<model> <purpose>'."
    )
    sent_total: Tally = Field(default_factory=Tally)


class TagMean(Block):
    """One metric over the cases of one tag: its mean, and how many cases the tag has and were scored."""

    mean: float | None
    n_cases: int
    n_scored: int


def migrate(data: Any) -> Any:
    """run.json of any schema version, as the current version (SCHEMA_VERSION) reads it.

    The ONE place an old run folder (or a committed baseline, which embeds a run.json) is upgraded:
    - v1 (to 2026-11): untyped blocks; `usage` could be `{}` (runs before costs were counted) and `git`
      could lack `dirty`. v2 validates every block (GitInfo, SuiteInfo, SystemInfo, Usage, TagMean) and
      writes `usage` and `git` whole; a v1 file reads with the blocks' defaults (zero usage, dirty unknown).
    A version newer than this harness knows is refused rather than half-read.
    """
    if not isinstance(data, dict):
        return data
    version = data.get("schema_version", 1)
    if not isinstance(version, int) or version < 1:
        raise ValueError(f"schema_version {version!r} is not a run.json version")
    if version > SCHEMA_VERSION:
        raise ValueError(
            f"schema_version {version} is newer than this harness reads ({SCHEMA_VERSION}): upgrade harness"
        )
    if version == 1:
        data = {**data, "schema_version": 2}
        if not data.get("usage"):
            data.pop("usage", None)
    return data
