"""YAML with line marks: PyYAML's SafeLoader keeping the line of every value by its path.

Also the bounds of `limits.py` (nesting, alias expansion), dates that do not exist as marked
errors, and PyYAML's error messages put in words ops can act on.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

from syncer.config import limits
from syncer.config.violations import Path as KeyPath
from syncer.errors import ConfigProblem

_MERGE_TAG = "tag:yaml.org,2002:merge"

# (what PyYAML says, report at its context mark (where the construct began)?, what ops should do)
_YAML_HINTS = (
    ("found character '\\t'", False, "a tab character: indent with spaces only"),
    ("cannot start any token", False, "a value cannot start with this character: put the value in quotes"),
    (
        "mapping values are not allowed",
        False,
        "unexpected `:`: quote a value that contains `: `, or fix the indentation",
    ),
    ("expected <block end>", False, "the indentation of this line does not match the lines above it"),
    ("did not find expected key", False, "the indentation of this line does not match the lines above it"),
    ("could not find expected ':'", False, "expected `key: value`: add the `:` or fix the indentation"),
    ("found unexpected end of stream", True, "this quoted value is never closed: add the closing quote"),
    ("expected ',' or ']'", True, "this `[` list is not closed or lacks a comma: add `]` or `,`"),
    ("expected ',' or '}'", True, "this `{` mapping is not closed or lacks a comma: add `}` or `,`"),
    ("found undefined alias", False, "`*alias` without an `&anchor` above it: define the anchor first"),
    ("but found another document", False, "a second YAML document starts here: keep one, remove the `---`"),
    ("could not determine a constructor", False, "unknown YAML tag (`!...`): remove it or quote the value"),
)


class MarkedLoader(yaml.SafeLoader):
    """A SafeLoader that records the line of every node by its path and reports duplicate keys.

    Keys stay the text written: YAML 1.1 would read `on:` as True and `1:` as 1, and every key in
    okrsync's YAML is a name.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[KeyPath, int] = {}
        self.duplicates: list[tuple[int, str]] = []
        self._open: set[int] = set()
        self._depth = 0  # of the node being composed
        self._built = 0  # values built, aliases expanded
        self._seen: set[int] = set()  # collections built once: meeting one again is an alias
        self._expanding: yaml.Mark | None = None  # where the outermost alias being expanded is used

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """PyYAML composes recursively: refuse deep nesting before the stack runs out."""
        self._depth += 1
        try:
            if self._depth > limits.MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ConstructorError(None, None, limits.depth_message(), mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_marked(self) -> Any:
        """The single document, built with its line marks; None for an empty stream."""
        node = self.get_single_node()
        data = None if node is None else self._build(node, ())
        self.lines[()] = 1  # a problem with the whole file (a missing top-level key) points at its top
        return data

    def _build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.lines[path] = node.start_mark.line + 1
        self._built += 1
        if self._built > limits.MAX_NODES:
            raise ConstructorError(None, None, limits.nodes_message(), self._expanding or node.start_mark)
        if len(path) > limits.MAX_DEPTH:  # aliases nest too: an alias of a deep node, inside another
            raise ConstructorError(None, None, limits.depth_message(), self._expanding or node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if id(node) in self._open:
            raise ConstructorError(
                None, None, "an alias refers to the node that contains it", self._expanding or node.start_mark
            )
        self._open.add(id(node))
        self._seen.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._build_mapping(node, path)
            return [self._child(child, (*path, i), node.start_mark) for i, child in enumerate(node.value)]
        finally:
            self._open.discard(id(node))

    def _child(self, node: yaml.Node, path: KeyPath, used_at: yaml.Mark) -> Any:
        """Build a value; an alias of a collection remembers where it is used, for the size limit."""
        if id(node) not in self._seen or self._expanding is not None:
            return self._build(node, path)
        self._expanding = used_at
        try:
            return self._build(node, path)
        finally:
            self._expanding = None

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        """The scalar's value; a date that does not exist or a number too long is a marked error."""
        try:
            return self.construct_object(node)
        except (ValueError, OverflowError) as exc:
            if node.tag.endswith(":timestamp"):
                problem = f"`{node.value}` is not a date ({exc}): write an existing date like 2026-02-28"
            else:
                problem = f"`{node.value[:40]}` cannot be read as a {node.tag.rsplit(':', 1)[-1]}: quote it or fix it"
            raise ConstructorError(None, None, problem, node.start_mark) from None

    def _build_mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        first: dict[str, int] = {}
        for key_node, _ in node.value:
            key, line = self._key(key_node), key_node.start_mark.line + 1
            if key in first and key_node.tag != _MERGE_TAG:
                self.duplicates.append(
                    (line, f"duplicate key `{key}` (first at line {first[key]}): remove one")
                )
            first.setdefault(key, line)
        own = {id(key_node) for key_node, _ in node.value}
        self.flatten_mapping(node)  # `<<: *anchor` merges; the mapping's own keys come last and win
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            mapping[key] = self._child(value_node, (*path, key), key_node.start_mark)
            # A key's line, not its value's; a merged key is reported where it is merged in.
            self.lines[(*path, key)] = key_node.start_mark.line + 1 if id(key_node) in own else first["<<"]
        return mapping

    def _key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise ConstructorError(
                None, None, "a key must be a plain name, not a list or mapping", node.start_mark
            )
        return str(node.value)


def syntax_problem(file: str, exc: yaml.MarkedYAMLError) -> ConfigProblem:
    """A PyYAML error as `file:line`, in words ops can act on."""
    problem = exc.problem or exc.context or "unreadable YAML"
    mark = exc.problem_mark or exc.context_mark
    hint = problem + (f" ({exc.context})" if exc.context and exc.problem else "")
    for fragment, at_context, advice in _YAML_HINTS:
        if fragment in problem:
            hint, mark = advice, (exc.context_mark if at_context and exc.context_mark else mark)
            break
    if mark is None:
        return ConfigProblem(file, None, f"invalid YAML: {hint}")
    return ConfigProblem(file, mark.line + 1, f"invalid YAML at column {mark.column + 1}: {hint}")
