"""Load the YAML ops write into a validated `Settings`, or report every mistake as `file:line: message`.

Stages: YAML with line marks (duplicate keys refused) → `${NAME}` interpolation from the environment
passed in → pydantic validation and the cross-field rules → secret and file-path checks. Nothing this
module raises or logs contains a value interpolated into a secret field.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from syncer.config import limits, store_url
from syncer.config.marked_yaml import MarkedLoader as MarkedLoader  # re-exported: pitfalls reads YAML too
from syncer.config.marked_yaml import syntax_problem
from syncer.config.models import JwtBearer, SalesforceSource, Settings
from syncer.config.rules import check_rules
from syncer.config.schema import dotted, explain_errors
from syncer.config.violations import Path as KeyPath
from syncer.errors import ConfigError, ConfigProblem

log = logging.getLogger(__name__)

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)(\}?)")  # `$${` is an escaped, literal `${`
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# What an unset `${NAME}` becomes when loading offline, tried in turn until the field accepts it:
# any text, a URL (instance_url, base_url), a store URL, a number. None of them is reachable.
PLACEHOLDERS = ("unset", "https://unset.invalid", "sqlite:///unset.invalid.db", "1")


@dataclass(frozen=True)
class OfflineSettings:
    """The YAML loaded for a command that touches no CRM (`validate`, `status`, `report`, `db`).

    An unset `${NAME}` is a warning here, not an error; the field it fills holds a placeholder
    from PLACEHOLDERS, so `settings` must not be used to reach a CRM. `unset_paths` says which
    fields those are (a store URL among them cannot be opened).
    """

    settings: Settings
    unset: list[ConfigProblem]
    unset_paths: frozenset[KeyPath]

    @property
    def store_is_set(self) -> bool:
        return ("store",) not in self.unset_paths


def load_settings(path: str | Path, env: Mapping[str, str]) -> Settings:
    """Read, interpolate and validate one YAML file.

    Raises ConfigError with every problem found, sorted by line. File paths in the result are
    absolute (resolved against the YAML file's directory).
    """
    return _load(Path(path), env, offline=False).settings


def load_offline(path: str | Path, env: Mapping[str, str]) -> OfflineSettings:
    """`load_settings` for a command that reaches no CRM: an unset `${NAME}` is only a warning.

    Raises ConfigError for every other problem (and for a field no placeholder fits, since the
    rules that depend on it cannot be checked without its value).
    """
    return _load(Path(path), env, offline=True)


def _load(file: Path, env: Mapping[str, str], *, offline: bool) -> OfflineSettings:
    base = _read(file)
    shape: dict[KeyPath, int] = {}  # an unset field → the PLACEHOLDERS entry it is given
    for attempt in range(len(PLACEHOLDERS) if offline else 1):
        document = base.fresh()
        fits = (lambda path: PLACEHOLDERS[shape.get(path, 0)]) if offline else None
        _interpolate(document, env, fits)
        errors: list[ErrorDetails] = []
        settings: Settings | None = None
        try:
            settings = Settings.model_validate(document.data)
        except ValidationError as exc:
            errors = exc.errors(
                include_url=False
            )  # reported below, outside the handler: no input in a traceback
        explained = explain_errors(errors)
        misfits = {path for path, _ in explained if path in document.unfilled}
        if not misfits or attempt == len(PLACEHOLDERS) - 1:
            break
        for path in misfits:
            shape[path] = shape.get(path, 0) + 1
    violations = (
        check_rules(settings) if settings is not None else []
    )  # the cross-field rules need a whole model
    for problem_path, message in [*explained, *((v.path, v.message) for v in violations)]:
        if problem_path not in document.unfilled:  # already reported: its variable is not set
            document.report(problem_path, message)
    for path in sorted(misfits, key=str) if offline else ():
        names = ", ".join(document.variables.get(path, {})) or "its variable"
        document.report(path, f"set {names} to check `{dotted(path)}`: no placeholder value fits it")
    if settings is not None:
        _check_secrets(document, settings)
        _check_store_url(document, settings)
    if document.problems or settings is None:
        raise ConfigError(document.sorted_problems())
    log.info("configuration loaded", extra={"file": str(file), "sources": len(settings.sources)})
    resolved = _with_files_resolved(settings, file.absolute().parent)
    masked = resolved.with_masked(_variable_host(document, settings.store))
    return OfflineSettings(masked, document.sorted_unset(), frozenset(document.unfilled))


# ---------------------------------------------------------------- the document and its line marks


@dataclass
class _Document:
    """One YAML file being loaded: its data, the line of every path, and the problems found."""

    file: str
    data: Any
    lines: dict[KeyPath, int]
    problems: list[ConfigProblem] = field(default_factory=list)
    # path → the variables interpolated there, with their values, to keep those out of messages
    variables: dict[KeyPath, dict[str, str]] = field(default_factory=dict)
    unfilled: set[KeyPath] = field(default_factory=set)
    unset: list[ConfigProblem] = field(default_factory=list)  # offline: unset variables, as warnings

    def fresh(self) -> _Document:
        """The document as read, before interpolation: for another pass over the same file."""
        return _Document(self.file, self.data, self.lines, problems=list(self.problems))

    def line_of(self, path: KeyPath) -> int | None:
        """The line of `path`, or of its nearest parent written in the file (for a missing key)."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path)

    def report(self, path: KeyPath, message: str) -> None:
        """Add a problem at `path`'s line, showing `${NAME}` where a message would show its value.

        A message only quotes the value at its own path, so this keeps every secret out of reports.
        """
        for name, value in self.variables.get(path, {}).items():
            message = message.replace(value, f"${{{name}}}") if value else message
        self.problems.append(ConfigProblem(self.file, self.line_of(path), message))

    def sorted_problems(self) -> list[ConfigProblem]:
        return _by_line(self.problems)

    def sorted_unset(self) -> list[ConfigProblem]:
        return _by_line(self.unset)


def _by_line(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return sorted(dict.fromkeys(problems), key=lambda p: (p.line or 0, p.message))


def _read(file: Path) -> _Document:
    """Parse the file; a file that cannot be read or parsed raises at once (nothing else can be checked)."""
    name = str(file)
    try:
        with file.open("rb") as stream:  # a bounded read: `-c /dev/zero` must not fill memory
            raw = stream.read(limits.MAX_FILE_BYTES + 1)
            size = max(len(raw), os.fstat(stream.fileno()).st_size)
        too_large = limits.size_problem(name, size)
        if too_large is not None:
            raise ConfigError([too_large])
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError([ConfigProblem(name, None, f"cannot read the configuration: {reason}")]) from None
    control = limits.control_problem(name, text)
    if control is not None:
        raise ConfigError([control])
    loader = MarkedLoader(text)
    problem: ConfigProblem | None = None
    try:
        data = loader.construct_marked()
    except yaml.MarkedYAMLError as exc:
        problem = syntax_problem(name, exc)
    except yaml.YAMLError:  # the reader refuses control characters; it has no line mark
        problem = ConfigProblem(name, None, "invalid YAML: the file contains a control character; remove it")
    finally:
        loader.dispose()
    if problem is None:
        problem = _top_level_problem(name, data, loader.lines.get((), 1))
    if problem is not None:
        raise ConfigError([problem])
    document = _Document(name, data, loader.lines)
    document.problems.extend(ConfigProblem(name, line, message) for line, message in loader.duplicates)
    return document


def _top_level_problem(file: str, data: Any, line: int) -> ConfigProblem | None:
    if data is None:
        return ConfigProblem(
            file, None, "the file is empty: start with `version: 1` and a `sources:` section"
        )
    if not isinstance(data, dict):
        found = "a list" if isinstance(data, list) else f"the single value {data!r}"
        return ConfigProblem(
            file, line, f"the top level must be `key: value` lines (`version: 1`, `sources:`, …), not {found}"
        )
    return None


# ---------------------------------------------------------------- ${NAME} interpolation


def _interpolate(
    document: _Document, env: Mapping[str, str], placeholder: Callable[[KeyPath], str] | None
) -> None:
    """Replace `${NAME}` in every string value with env[NAME].

    A missing variable is a problem; offline (with `placeholder`) it is a warning, and the value
    becomes `placeholder(path)`.
    """

    def fill(text: str, path: KeyPath) -> str:
        def replace(match: re.Match[str]) -> str:
            if match[0] == "$${":
                return "${"
            name = match[1]
            if not match[2] or not _VARIABLE.fullmatch(name):
                problem = f"`{match[0]}` is not a variable: write ${{NAME}} (letters, digits, _), or $${{ for a literal ${{"
            elif name not in env:
                problem = f"environment variable {name} is not set (used by {dotted(path)})"
                if placeholder is not None:
                    document.unset.append(ConfigProblem(document.file, document.line_of(path), problem))
                    used[name] = ""
                    unset.append(name)
                    return ""
            else:
                used[name] = env[name]
                return env[name]
            document.report(path, problem)
            document.unfilled.add(path)
            return ""

        used: dict[str, str] = {}
        unset: list[str] = []
        filled = _REFERENCE.sub(replace, text)
        if unset and placeholder is not None:  # the whole value, so that it fits the field's shape
            document.unfilled.add(path)
            filled = placeholder(path)
        if used or path in document.unfilled:
            document.variables[path] = used
        return filled

    def walk(value: Any, path: KeyPath) -> Any:
        if isinstance(value, dict):
            return {key: walk(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*path, i)) for i, item in enumerate(value)]
        return fill(value, path) if isinstance(value, str) and "$" in value else value

    document.data = walk(document.data, ())


# ---------------------------------------------------------------- secrets and files


def _iter_secrets(value: Any, path: KeyPath, *, required: bool = True) -> Iterator[tuple[KeyPath, str, bool]]:
    """(path, secret, required) for every SecretStr in a validated model, found by walking it."""
    if isinstance(value, SecretStr):
        yield path, value.get_secret_value(), required
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            yield from _iter_secrets(
                getattr(value, name), (*path, info.alias or name), required=info.is_required()
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _iter_secrets(item, (*path, key), required=required)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _iter_secrets(item, (*path, i), required=required)


def _check_secrets(document: _Document, settings: Settings) -> None:
    """A secret must come from the environment, and a required one must not be empty."""
    for path, secret, required in _iter_secrets(settings, ()):
        if path not in document.variables:
            parts = [path[1], path[-1]] if len(path) > 2 else list(path)
            variable = re.sub(r"[^A-Z0-9]+", "_", "_".join(map(str, parts)).upper())
            document.report(
                path,
                f"`{dotted(path)}` holds a literal secret: put it in an environment variable "
                f"and write `${{{variable}}}`",
            )
        elif not secret and required and path not in document.unfilled:
            names = ", ".join(document.variables[path])
            document.report(path, f"environment variable {names} is empty (used by {dotted(path)}): set it")


def _check_store_url(document: _Document, settings: Settings) -> None:
    """A password in the store URL is a secret like any other: it must come from a variable."""
    password = store_url.password(settings.store)
    used = document.variables.get(("store",), {})
    if password and not any(password in value for value in used.values()):
        document.report(
            ("store",),
            "the store URL holds a literal password: put it in an environment variable, "
            "like postgresql+psycopg://okr:${PGPASSWORD}@db/okr",
        )


def _variable_host(document: _Document, url: str) -> frozenset[str]:
    """The store URL's host when it came from a `${VAR}`: connection errors show it masked."""
    try:
        host = make_url(url).host
    except (ArgumentError, ValueError):
        return frozenset()
    used = document.variables.get(("store",), {})
    return frozenset({host}) if host and any(host in value for value in used.values()) else frozenset()


def _with_files_resolved(settings: Settings, base: Path) -> Settings:
    """Anchor relative file paths at the YAML file's directory.

    Done here, after validation, so that `okrsync run -c /etc/okrsync/okr.yaml` finds its CA bundle,
    key file and SQLite store from any working directory (the default store too).
    """
    sources = {}
    for name, source in settings.sources.items():
        if isinstance(source, SalesforceSource):
            update: dict[str, Any] = {}
            if source.ca_bundle:
                update["ca_bundle"] = str(_anchored(source.ca_bundle, base))
            if isinstance(source.auth, JwtBearer):
                key_file = str(_anchored(source.auth.private_key_file, base))
                update["auth"] = source.auth.model_copy(update={"private_key_file": key_file})
            source = source.model_copy(update=update)
        sources[name] = source
    return settings.model_copy(update={"sources": sources, "store": _anchored_store(settings.store, base)})


def _anchored(path: str, base: Path) -> Path:
    expanded = Path(path).expanduser()
    return expanded if expanded.is_absolute() else base / expanded


def _anchored_store(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    database = url.removeprefix(prefix)
    if not url.startswith(prefix) or not database or database.startswith((":memory:", "file:", "/")):
        return url
    return prefix + str(_anchored(database, base))
