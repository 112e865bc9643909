"""Field selection: keep (include) or drop (exclude) dotted paths of a JSON document.

A path such as ``data.receivers.email`` walks object keys; when it meets an array it applies to
every element (arrays of arrays too), so it reaches each receiver's email. Paths that do not
exist in a document are ignored.

Include keeps the listed paths and the containers that lead to them: every object or array on
the way that exists in the input is kept (pruned, possibly empty), so the output has the input's
shape and array positions still line up. A listed path that ends on an object keeps it whole.
Array elements that are not objects while a path goes deeper cannot hold the path and are
dropped. Exclude deletes the listed keys and leaves everything else as it was.

The input is never mutated and the output shares no container with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_PATHS", "MAX_PATH_SEGMENTS", "FieldSelection"]

# Selections come from tenant configuration; keep them small enough to reason about.
MAX_PATHS = 256
MAX_PATH_SEGMENTS = 32
_MAX_PATH_CHARS = 512
_FORBIDDEN_CHARS = frozenset("[]*")

# A trie of path segments; a node that is None marks the end of a path (it covers its subtree).
_Trie = dict[str, "_Trie | None"]


@dataclass(frozen=True)
class FieldSelection:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        include = _as_paths("include", self.include)
        exclude = _as_paths("exclude", self.exclude)
        if bool(include) == bool(exclude):
            raise ValueError(
                "a field selection needs exactly one of 'include' or 'exclude' to be non-empty"
            )
        # Normalised to tuples so the selection stays hashable even if given lists.
        object.__setattr__(self, "include", include)
        object.__setattr__(self, "exclude", exclude)
        object.__setattr__(self, "_trie", _build_trie(include or exclude))

    def apply(self, document: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(document, Mapping):
            raise TypeError(f"document must be a mapping, not {type(document).__name__}")
        trie: _Trie = self._trie  # type: ignore[attr-defined]
        if self.include:
            return _include_object(document, trie)
        return _exclude_object(document, trie)


def _as_paths(name: str, value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        raise ValueError(f"{name} must be a sequence of paths, not a single string {value!r}")
    paths = tuple(value)
    if len(paths) > MAX_PATHS:
        raise ValueError(f"{name} lists {len(paths)} paths; at most {MAX_PATHS} are allowed")
    for path in paths:
        _validate_path(name, path)
    return paths


def _validate_path(name: str, path: object) -> None:
    if not isinstance(path, str):
        raise ValueError(f"{name} path must be a string, got {path!r}")
    if not path:
        raise ValueError(f"{name} path must not be empty")
    if len(path) > _MAX_PATH_CHARS:
        raise ValueError(f"{name} path is longer than {_MAX_PATH_CHARS} characters: {path[:40]!r}…")
    segments = path.split(".")
    if len(segments) > MAX_PATH_SEGMENTS:
        raise ValueError(f"{name} path {path!r} has more than {MAX_PATH_SEGMENTS} segments")
    for segment in segments:
        if not segment:
            raise ValueError(
                f"{name} path {path!r} has an empty segment "
                "(use dots only between names, e.g. 'data.giver.email')"
            )
        if any(ch.isspace() for ch in segment) or _FORBIDDEN_CHARS.intersection(segment):
            raise ValueError(
                f"{name} path {path!r}: segment {segment!r} may not contain whitespace, "
                "'[', ']' or '*' (a path applies to every array element by itself)"
            )


def _build_trie(paths: Iterable[str]) -> _Trie:
    root: _Trie = {}
    for path in paths:
        node = root
        segments = path.split(".")
        for segment in segments[:-1]:
            child = node.setdefault(segment, {})
            if child is None:  # a shorter path already covers this one
                break
            node = child
        else:
            node[segments[-1]] = None  # covers anything deeper listed before
    return root


def _include_object(obj: Mapping[str, Any], trie: _Trie) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, child in trie.items():
        if key not in obj:
            continue
        value = obj[key]
        if child is None:
            out[key] = _copy(value)
        elif isinstance(value, Mapping):
            out[key] = _include_object(value, child)
        elif isinstance(value, list):
            out[key] = _include_array(value, child)
    return out


def _include_array(items: list[Any], trie: _Trie) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if isinstance(item, Mapping):
            out.append(_include_object(item, trie))
        elif isinstance(item, list):
            out.append(_include_array(item, trie))
    return out


def _exclude_object(obj: Mapping[str, Any], trie: _Trie) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key not in trie:
            out[key] = _copy(value)
            continue
        child = trie[key]
        if child is None:
            continue
        out[key] = _exclude_value(value, child)
    return out


def _exclude_value(value: Any, trie: _Trie) -> Any:
    if isinstance(value, Mapping):
        return _exclude_object(value, trie)
    if isinstance(value, list):
        return [_exclude_value(item, trie) for item in value]
    return value


def _copy(value: Any) -> Any:
    # JSON scalars are immutable; only containers need copying.
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
