"""The fleet file: one okrsync YAML per org, the broker, the queue, and where workers serve /metrics.

    version: 1
    broker: ${OKRSYNC_BROKER_URL}       # default: $OKRSYNC_BROKER_URL (amqp://… or redis://…)
    queue: okrsync-fleet                # the Celery queue the cycles go through
    redelivery_after: 1h                # Redis only: an unacknowledged cycle is delivered again after this
    metrics: {host: 127.0.0.1, port: 8080, auth_token: "${OKRSYNC_SERVE_TOKEN}"}
    orgs:
      - config: orgs/acme.yaml          # relative to this file; the org's name defaults to the file's stem
      - {config: orgs/globex-eu.yaml, name: globex-eu}

Read like the main YAML (`syncer/config/loading.py`): line marks, duplicate keys and the size
bounds from `marked_yaml.py` and `limits.py`, `${NAME}` from the environment, every problem as
`file:line: what to do`, all at once. Each org's own YAML is then loaded by the main loader, so
its problems carry its own file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

from syncer.config import limits
from syncer.config.marked_yaml import MarkedLoader, syntax_problem
from syncer.config.models import Settings
from syncer.config.serve_access import MIN_TOKEN_LENGTH, TOKEN_VARIABLE, is_loopback
from syncer.config.sources import to_timedelta
from syncer.config.strict import KEY_PATTERN, Key, Strict
from syncer.config.violations import Path as KeyPath
from syncer.config.violations import suggest
from syncer.errors import ConfigError, ConfigProblem

BROKER_VARIABLE = "OKRSYNC_BROKER_URL"
BROKER_SCHEMES = ("amqp", "amqps", "pyamqp", "redis", "rediss")
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class MetricsServer(Strict):
    """Where each worker serves /healthz and /metrics (the same access rule as `serve`)."""

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    auth_token: SecretStr | None = None


class OrgEntry(Strict):
    config: str = Field(min_length=1)
    name: Key | None = None


class FleetModel(Strict):
    version: Literal[1]
    broker: str | None = None
    queue: str = Field("okrsync-fleet", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=200)
    redelivery_after: str = "1h"
    metrics: MetricsServer = MetricsServer()
    orgs: list[OrgEntry] = Field(min_length=1)

    @field_validator("redelivery_after")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        to_timedelta(value)
        return value


_KEYS: dict[str, type[BaseModel]] = {"orgs": OrgEntry, "metrics": MetricsServer}


@dataclass(frozen=True)
class FleetOrg:
    name: str
    config: Path  # absolute
    settings: Settings


@dataclass(frozen=True)
class Fleet:
    file: Path
    broker: str
    queue: str
    redelivery_after: timedelta
    metrics: MetricsServer
    orgs: dict[str, FleetOrg]

    @property
    def broker_is_redis(self) -> bool:
        return urlsplit(self.broker).scheme in ("redis", "rediss")


def load_fleet(path: Path, env: Mapping[str, str], load_org: Callable[[Path], Settings]) -> Fleet:
    """Read and check the fleet file, then every org's YAML through `load_org`.

    Raises ConfigError with every problem found: the fleet file's and each org file's.
    """
    reader = _FleetReader(str(path), env)
    model = reader.validate(_parse(path))
    if model is None:
        raise ConfigError(reader.sorted_problems())
    broker = reader.broker(model)
    reader.check_metrics(model.metrics)
    orgs = reader.orgs(model, path.absolute().parent, load_org)
    if reader.problems or broker is None:
        raise ConfigError(reader.sorted_problems())
    return Fleet(
        file=path,
        broker=broker,
        queue=model.queue,
        redelivery_after=to_timedelta(model.redelivery_after),
        metrics=model.metrics,
        orgs=orgs,
    )


@dataclass(frozen=True)
class _Parsed:
    data: Any
    lines: dict[KeyPath, int]
    duplicates: list[tuple[int, str]]


def _parse(path: Path) -> _Parsed:
    name = str(path)
    try:
        with path.open("rb") as stream:  # bounded, as the main loader reads
            raw = stream.read(limits.MAX_FILE_BYTES + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = (exc.strerror or type(exc).__name__) if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise ConfigError([ConfigProblem(name, None, f"cannot read the fleet file: {reason}")]) from None
    problem = limits.size_problem(name, len(raw)) or limits.control_problem(name, text)
    if problem is not None:
        raise ConfigError([problem])
    loader = MarkedLoader(text)
    try:
        data = loader.construct_marked()
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([syntax_problem(name, exc)]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(
            [
                ConfigProblem(
                    name, None, "a fleet file is `version: 1` and an `orgs:` list of `- config: FILE`"
                )
            ]
        )
    return _Parsed(data, loader.lines, loader.duplicates)


class _FleetReader:
    """The problems found in one fleet file, each at its line."""

    def __init__(self, file: str, env: Mapping[str, str]) -> None:
        self.file = file
        self.env = env
        self.problems: list[ConfigProblem] = []
        self.lines: dict[KeyPath, int] = {}
        self.interpolated: set[KeyPath] = set()  # values written as ${NAME}: secrets may be there

    def report(self, path: KeyPath, message: str) -> None:
        while path not in self.lines and path:
            path = path[:-1]
        self.problems.append(ConfigProblem(self.file, self.lines.get(path), message))

    def sorted_problems(self) -> list[ConfigProblem]:
        return sorted(dict.fromkeys(self.problems), key=lambda p: (p.file != self.file, p.line or 0))

    def validate(self, parsed: _Parsed) -> FleetModel | None:
        self.lines = parsed.lines
        self.problems += [ConfigProblem(self.file, line, message) for line, message in parsed.duplicates]
        data = self._interpolate(parsed.data, ())
        try:
            return FleetModel.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                self.report(tuple(error["loc"]), self._explain(error["loc"], error["type"], error["msg"]))
            return None

    def _explain(self, loc: tuple[int | str, ...], kind: str, message: str) -> str:
        where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
        if kind == "extra_forbidden":
            model = _KEYS.get(str(loc[0]), FleetModel) if len(loc) > 1 else FleetModel
            return f"unknown key `{loc[-1]}`.{suggest(str(loc[-1]), list(model.model_fields))}".rstrip(".")
        if kind == "missing":
            return f"`{where}` is missing" + (": add `version: 1`" if loc == ("version",) else "")
        if loc == ("orgs",) and kind == "too_short":
            return "`orgs` is empty: list one `- config: FILE` per org"
        return f"`{where}`: {message}"

    def _interpolate(self, value: Any, path: KeyPath) -> Any:
        if isinstance(value, dict):
            return {key: self._interpolate(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self._interpolate(item, (*path, i)) for i, item in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value

        def fill(match: re.Match[str]) -> str:
            if match[0] == "$${":
                return "${"
            self.interpolated.add(path)
            if match[1] not in self.env:
                self.report(
                    path, f"environment variable {match[1]} is not set (used by {'.'.join(map(str, path))})"
                )
                return ""
            return self.env[match[1]]

        return _REFERENCE.sub(fill, value)

    def broker(self, model: FleetModel) -> str | None:
        url = model.broker if model.broker is not None else self.env.get(BROKER_VARIABLE)
        if not url:
            self.report(
                (),
                f"no broker: set the environment variable {BROKER_VARIABLE} or `broker:` "
                "(amqp://USER:PASSWORD@HOST:5672/VHOST or redis://HOST:6379/0)",
            )
            return None
        try:
            parts = urlsplit(url)
            password = parts.password
        except ValueError:  # a port that is not a number, …: never quote the URL (it may hold a password)
            self.report(
                ("broker",), "the broker URL cannot be read: write amqp://USER:PASSWORD@HOST:5672/VHOST"
            )
            return None
        if parts.scheme not in BROKER_SCHEMES:
            self.report(
                ("broker",),
                f"broker URL scheme `{parts.scheme}` is not one okrsync runs on: use {', '.join(BROKER_SCHEMES)}",
            )
        if model.broker is not None and password and ("broker",) not in self.interpolated:
            self.report(
                ("broker",),
                f"the broker URL holds a literal password: put the URL in an environment variable and "
                f"write `broker: ${{{BROKER_VARIABLE}}}` (or leave `broker:` out)",
            )
        return url

    def check_metrics(self, metrics: MetricsServer) -> None:
        if metrics.auth_token is None:
            if not is_loopback(metrics.host):
                self.report(
                    ("metrics", "host"),
                    f"metrics.host `{metrics.host}` lets other machines read every org's numbers without a "
                    f"password: set metrics.auth_token: ${{{TOKEN_VARIABLE}}}, or host: 127.0.0.1",
                )
            return
        if ("metrics", "auth_token") not in self.interpolated:
            self.report(
                ("metrics", "auth_token"),
                f"`metrics.auth_token` holds a literal secret: write `${{{TOKEN_VARIABLE}}}`",
            )
        elif len(metrics.auth_token.get_secret_value()) < MIN_TOKEN_LENGTH:
            self.report(
                ("metrics", "auth_token"),
                f"metrics.auth_token is shorter than {MIN_TOKEN_LENGTH} characters: use `openssl rand -hex 32`",
            )

    def orgs(
        self, model: FleetModel, base: Path, load_org: Callable[[Path], Settings]
    ) -> dict[str, FleetOrg]:
        orgs: dict[str, FleetOrg] = {}
        stores: dict[str, str] = {}
        for i, entry in enumerate(model.orgs):
            config = Path(os.path.expanduser(entry.config))
            config = config if config.is_absolute() else base / config
            name = entry.name or config.stem
            if entry.name is None and not re.fullmatch(KEY_PATTERN, name):
                self.report(
                    ("orgs", i, "config"),
                    f"the file name `{config.stem}` is not an org name: add `name:` "
                    "(lower-case letters, digits, _ and -)",
                )
                continue
            if name in orgs:
                self.report(("orgs", i), f"org `{name}` is listed twice: give one of them another `name:`")
                continue
            if not config.is_file():
                self.report(
                    ("orgs", i, "config"),
                    f"`{entry.config}` is not a file (a relative path is read from the fleet file's folder)",
                )
                continue
            try:
                settings = load_org(config)
            except ConfigError as exc:  # the org file's own problems, at its own lines
                self.problems += exc.problems
                continue
            if settings.store in stores:
                self.report(
                    ("orgs", i),
                    f"org `{name}` uses the same store as org `{stores[settings.store]}`: each org needs its "
                    "own store (its lease, cursors and ledger belong to one org)",
                )
                continue
            stores[settings.store] = name
            orgs[name] = FleetOrg(name, config.absolute(), settings)
        return orgs
