"""Typed configs: dataclasses that load from YAML and take ``key=value`` overrides.

Every package's config is a (possibly nested) dataclass. :func:`load_config` reads a YAML
file, applies dotted ``key=value`` overrides from the command line, and builds the
dataclass, rejecting unknown keys and wrong types *before* any work starts, with the key
named. :func:`dump_config` writes the resolved config back (each run saves its
``config.yaml``).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config file or override is malformed; the message names the key and the fix."""


def _parse_scalar(text: str) -> Any:
    """``key=value`` values are YAML scalars: ``3``, ``0.5``, ``true``, ``[a, b]``, ``null``."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """Return ``data`` with dotted ``a.b=value`` overrides applied (a new dict)."""
    data = _deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override `{item}` is not `key=value` (e.g. `llm.max_batch_size=8`).")
        key, value = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override `{key}`: `{part}` is not a section.")
        node[parts[-1]] = _parse_scalar(value)
    return data


def _deepcopy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deepcopy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deepcopy(v) for v in data]
    return data


def _check_type(path: str, value: Any, hint: Any) -> Any:
    """Coerce/validate ``value`` against the type ``hint``; raise :class:`ConfigError`."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _check_type(path, value, arg)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"`{path}` must not be null.")
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"`{path}` must be one of {list(typing.get_args(hint))}, got {value!r}.")
        return value
    if dataclasses.is_dataclass(hint):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"`{path}` must be a mapping of {hint.__name__} fields, got {value!r}.")
        return from_dict(hint, value, prefix=f"{path}.")
    if origin in (list, tuple, Sequence) or hint in (list, tuple):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"`{path}` must be a list, got {value!r}.")
        (item_hint,) = typing.get_args(hint)[:1] or (Any,)
        items = [_check_type(f"{path}[{i}]", v, item_hint) for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or hint is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"`{path}` must be a mapping, got {value!r}.")
        return dict(value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float) and isinstance(value, bool):
        raise ConfigError(f"`{path}` must be a {hint.__name__}, got {value!r}.")
    if isinstance(hint, type) and not isinstance(value, hint):
        raise ConfigError(f"`{path}` must be a {hint.__name__}, got {value!r} ({type(value).__name__}).")
    return value


def from_dict(cls: type[T], data: Mapping[str, Any], prefix: str = "") -> T:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"unknown config key `{prefix}{unknown[0]}` for {cls.__name__}; "
            f"valid keys: {', '.join(sorted(names))}."
        )
    kwargs = {k: _check_type(f"{prefix}{k}", v, hints[k]) for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{cls.__name__}: {exc}") from exc


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    overrides: Sequence[str] = (),
    base: Mapping[str, Any] | None = None,
) -> T:
    """Load ``cls`` from an optional YAML file plus ``key=value`` overrides.

    Args:
        cls: the config dataclass.
        path: a YAML file; a missing file or a non-mapping document is a :class:`ConfigError`.
        overrides: dotted ``key=value`` strings from the command line, applied last.
        base: values applied before the file (e.g. a named preset).
    """
    data: dict[str, Any] = dict(base or {})
    if path is not None:
        data = _merge(data, read_yaml(path))
    return from_dict(cls, apply_overrides(data, overrides))


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML config file's mapping; a missing file, bad YAML or a non-mapping is a
    :class:`ConfigError`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file `{path}` does not exist.")
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file `{path}` is not valid YAML: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ConfigError(f"config file `{path}` must hold a mapping at the top level.")
    return loaded


def preset_file(folder: Path, preset: str, prefix: str = "", exclude: Sequence[str] = ()) -> Path:
    """``folder/<prefix><preset>.yaml``; an unknown preset is a :class:`ConfigError` that
    lists the known ones (file stems in ``exclude`` are not presets)."""
    path = folder / f"{prefix}{preset}.yaml"
    if not path.is_file():
        known = sorted(p.stem.removeprefix(prefix) for p in folder.glob(f"{prefix}*.yaml")
                       if p.stem not in exclude)
        raise ConfigError(f"unknown preset `{preset}` ({path}); presets: {', '.join(known)}.")
    return path


def config_file(folder: Path, path: str | None, preset: str | None,
                exclude: Sequence[str] = ()) -> str | None:
    """The YAML file of ``--config PATH`` or ``--preset NAME`` (None: defaults only)."""
    if path and preset:
        raise ConfigError("give `--config` or `--preset`, not both.")
    return str(preset_file(folder, preset, exclude=exclude)) if preset else path


def _merge(a: dict[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out = _deepcopy(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


def to_dict(config: Any) -> dict[str, Any]:
    """The config as plain YAML-able data."""
    return dataclasses.asdict(config)


def dump_config(config: Any, path: str | Path) -> None:
    """Write ``config`` as YAML (each run's ``config.yaml``)."""
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
