"""The PyYAML loader behind `parse_yaml`: line-numbered mappings, strings and lists, YAML 1.1 booleans left as
text, unknown tags as plain values, and alias bombs refused before anything is built.

Kept apart from `yamlfile` so that importing the checker does not import PyYAML (a fifth of a warm run's start-up):
only an audit that reads a YAML file pays for it.
"""

from __future__ import annotations

from typing import Any

import yaml

from fsdl_check.parsing.yamlfile import MAX_EXPANDED_NODES, LineDict, LineList, LineStr, YamlDoc

# libyaml's parser (when PyYAML was built with it) is several times faster than the pure-Python one; the constructors
# below, which add line numbers, are Python either way and see the same nodes and marks.
_SafeLoaderBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoaderBase):  # type: ignore[valid-type,misc]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> LineStr:
    value = LineStr(loader.construct_scalar(node))
    value.line = node.start_mark.line + 1
    return value


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


def _construct_document(loader: _Loader, node: yaml.Node) -> Any:
    """Construct a document only once its node graph, aliases expanded, is known to be small enough.

    Counted on the composed nodes (each distinct node once, its size memoized), so a bomb is measured in time
    linear in the file, before anything is built: a bomb used as a mapping key would otherwise be turned into text,
    gigabytes of it, while constructing.
    """
    if _node_size(node) > MAX_EXPANDED_NODES:
        raise _AliasBomb
    return yaml.constructor.BaseConstructor.construct_document(loader, node)


class _AliasBomb(yaml.YAMLError):
    pass


def _node_size(root: yaml.Node) -> int:
    """How many nodes the document holds with every alias expanded (capped just past the limit)."""
    sizes: dict[int, int] = {}
    entered: set[int] = set()  # collections whose children are being sized: meeting one again is a cycle
    # Iterative post-order walk: nesting depth is the file's to choose, Python's stack is not.
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        if children is not None:
            sizes[id(node)] = min(1 + sum([sizes[id(c)] for c in children]), MAX_EXPANDED_NODES + 1)
            continue
        if id(node) in sizes:
            continue
        if id(node) in entered:  # an alias to an enclosing node (`a: &x [*x]`): it expands without end
            return MAX_EXPANDED_NODES + 1
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        entered.add(id(node))
        kids = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        stack.append((node, kids))
        stack.extend([(c, None) for c in kids if id(c) not in sizes])
    return sizes[id(root)]


_Loader.construct_document = _construct_document
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
# GitHub Actions' `on:` must stay the string "on", not YAML 1.1's boolean True.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Unknown tags (GitLab's !reference, CloudFormation's !Ref, ...) load as their plain value.
_Loader.add_multi_constructor(
    "",
    lambda loader, _suffix, node: (
        loader.construct_scalar(node)
        if isinstance(node, yaml.ScalarNode)
        else _construct_seq(loader, node)
        if isinstance(node, yaml.SequenceNode)
        else _construct_mapping(loader, node)
    ),
)


def parse(path: str, text: str) -> YamlDoc:
    try:
        docs = tuple(yaml.load_all(text, Loader=_Loader))  # a SafeLoader subclass
    except _AliasBomb:
        return YamlDoc(path, text, (), "invalid YAML: aliases expand to too many nodes (an alias bomb)", None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        return YamlDoc(path, text, (), f"invalid YAML: {exc.problem or exc}", line)
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        return YamlDoc(path, text, (), f"invalid YAML: {type(exc).__name__}", None)
    return YamlDoc(path, text, tuple(d for d in docs if d is not None))
