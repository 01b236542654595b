"""Validate JSON instances against the contracts in ``schemas/json``.

Two engines, one contract: jsonschema-rs answers "valid or not" fast (bulk dumps),
the ``jsonschema`` package explains failures field by field in Chinese or English.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from conformance.check.formats import cached_check, format_checker, format_kinds, format_sites
from conformance.check.limits import MAX_JSON_DEPTH, depth_error, schema_depth_bound, value_depth
from conformance.codes import check
from conformance.contract import registry as schema_registry

_JSON_TYPES_ZH = {
    "string": "字符串",
    "integer": "整数",
    "number": "数值",
    "object": "对象",
    "array": "数组",
    "boolean": "布尔值",
    "null": "空值",
}


@dataclass(frozen=True)
class FieldError:
    """One violation, located by JSON Pointer, explained in both languages."""

    path: str
    keyword: str
    message_zh: str
    message_en: str

    def message(self, lang: str = "zh") -> str:
        return self.message_en if lang == "en" else self.message_zh

    def as_dict(self, lang: str = "zh") -> dict[str, str]:
        return {"path": self.path, "rule": self.keyword, "message": self.message(lang)}


def dig(instance: Any, path: tuple[str, ...]) -> Any:
    """The value at a property path, or None where the path is absent or not an object."""
    for key in path:
        if not isinstance(instance, dict):
            return None
        instance = instance.get(key)
    return instance


def pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _short(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_STRUCTURAL = frozenset({"required", "additionalProperties", "unevaluatedProperties", "type", "const"})


def _mismatch(errors: list[ValidationError]) -> int:
    """How far an instance is from one branch: structural misses weigh more than a bad value."""
    return sum(3 if e.validator in _STRUCTURAL else 1 for e in errors)


def _explain(err: ValidationError, strict: bool = True) -> list[FieldError]:
    """Turn one jsonschema error into field errors with Chinese and English text."""
    if err.validator in ("anyOf", "oneOf") and err.context:
        # Explain the branch the instance came closest to: fewest errors, then jsonschema's relevance.
        branches: dict[object, list[ValidationError]] = {}
        for sub in err.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        closest = min(branches.values(), key=_mismatch)
        if _mismatch(closest) < min((_mismatch(b) for b in branches.values() if b is not closest), default=1 << 30):
            return [fe for sub in closest for fe in _explain(sub, strict)]
        return _explain(best_match(err.context), strict)
    path = pointer(err.absolute_path)
    kw = str(err.validator)
    title = err.schema.get("title") if isinstance(err.schema, dict) else None
    label_zh = f"“{title}”" if title else "取值"
    inst = err.instance
    if kw == "required":
        missing = [p for p in err.validator_value if isinstance(inst, dict) and p not in inst]
        return [
            FieldError(path + pointer([m]), kw, f"缺少必填字段“{m}”", f"required property '{m}' is missing")
            for m in missing
        ]
    if kw in ("additionalProperties", "unevaluatedProperties") and isinstance(inst, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed) or ["?"]
        return [
            FieldError(path + pointer([x]), kw, f"不允许的字段“{x}”", f"property '{x}' is not allowed") for x in extra
        ]
    if kw == "format" and err.validator_value in format_kinds() and isinstance(inst, str):
        result = check(format_kinds()[err.validator_value], inst, strict=strict)
        return [
            FieldError(
                path,
                kw,
                f"{label_zh}无效：{result.reason('zh')}",
                f"invalid {err.validator_value}: {result.reason('en')}",
            )
        ]
    zh: str
    if kw == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        zh = f"{label_zh}类型错误：应为{'或'.join(_JSON_TYPES_ZH.get(t, t) for t in want)}，实为{_JSON_TYPES_ZH[_json_type(inst)]}"
    elif kw == "enum":
        zh = f"{label_zh}“{_short(inst)}”不在允许范围内：{_short('、'.join(map(str, err.validator_value)), 80)}"
    elif kw == "const":
        zh = f"{label_zh}应为“{_short(err.validator_value)}”"
    elif kw == "pattern":
        zh = f"{label_zh}格式不符：“{_short(inst)}”不匹配 {err.validator_value}"
    elif kw == "format":
        zh = f"{label_zh}不符合 {err.validator_value} 格式（日期时间按 GB/T 7408，须带时区）：“{_short(inst)}”"
    elif kw in ("minLength", "maxLength"):
        zh = f"{label_zh}长度应{'不少于' if kw == 'minLength' else '不超过'} {err.validator_value} 个字符，实为 {len(inst)}"
    elif kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        zh = f"{label_zh}{'过小' if 'min' in kw.lower() else '过大'}：{inst}（界限 {err.validator_value}）"
    elif kw in ("minItems", "maxItems"):
        zh = f"{label_zh}条目数应{'不少于' if kw == 'minItems' else '不超过'} {err.validator_value}，实为 {len(inst)}"
    elif kw == "uniqueItems":
        zh = f"{label_zh}存在重复条目"
    elif kw in ("maxProperties", "minProperties"):
        zh = f"{label_zh}字段数超出范围（{kw} {err.validator_value}）"
    else:
        zh = f"{label_zh}不符合规则 {kw}"
    return [FieldError(path, kw, _short(zh, 280), _short(err.message, 280))]


def _constrains(doc: dict[str, Any]) -> bool:
    """Whether a schema document constrains its root (a file of ``$defs`` only does not)."""
    return any(k in doc for k in ("type", "$ref", "oneOf", "anyOf", "allOf", "const", "enum", "properties", "not"))


class SchemaValidator:
    """Validator for one schema reference, e.g. ``equipment`` or ``gov-platform#/$defs/receipt``."""

    def __init__(self, ref: str, *, strict: bool = True, uri: str | None = None) -> None:
        self.ref = ref
        self.uri = uri or schema_registry.schema_uri(ref)
        if uri is None and "#" not in ref and not _constrains(schema_registry.documents()[self.uri]):
            raise KeyError(f"{ref} only holds definitions; name one, e.g. {ref}#/$defs/<name>")
        wrapper = schema_registry.reference_to(self.uri)
        self._explainer = Draft202012Validator(
            _explained(self.uri), registry=schema_registry.registry(), format_checker=format_checker(strict)
        )
        rs_registry = _rs_registry()
        sites = format_sites(self.uri)
        if sites is None:
            # Project formats under combinators or arrays: let the engine call them where they apply.
            self._fast = jsonschema_rs.validator_for(
                wrapper,
                registry=rs_registry,
                validate_formats=True,
                formats={f: cached_check(k, strict) for f, k in format_kinds().items()},
            )
            self._sites: tuple[tuple[tuple[str, ...], Any], ...] = ()
        else:
            # Structure and standard formats in Rust; identifier formats at their known sites, memoised.
            # (the project's format names are unknown to the engine, which then ignores them)
            self._fast = jsonschema_rs.validator_for(wrapper, registry=rs_registry, validate_formats=True)
            self._sites = tuple((path, cached_check(kind, strict)) for path, kind in sites)
        self._flat_sites = tuple((path[0], ok) for path, ok in self._sites if len(path) == 1)
        self._nested_sites = tuple((path, ok) for path, ok in self._sites if len(path) != 1)
        self._plain_root = _plain_root(self._explainer.schema)
        bound = schema_depth_bound(self.uri)
        # a value nested deeper than the limit is never valid; only a schema open somewhere can let one pass
        self.depth_open = bound is None or bound > MAX_JSON_DEPTH
        self.strict = strict

    def structure_valid(self, instance: Any) -> bool:
        """Structure and standard formats only (identifier formats at their sites are not checked)."""
        return self._fast.is_valid(instance)

    def is_valid(self, instance: Any) -> bool:
        """Fast yes/no: jsonschema-rs for structure, memoised identifier checks; never valid when nested
        deeper than :data:`conformance.check.limits.MAX_JSON_DEPTH`."""
        return (
            self._fast.is_valid(instance)
            and next(self._bad_sites(instance), None) is None
            and (not self.depth_open or value_depth(instance, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH)
        )

    def _bad_sites(self, instance: Any) -> Iterator[str]:
        """The top-level property of every identifier site whose value fails its kind's check
        ("" for the instance itself, where the schema is an identifier)."""
        if type(instance) is dict:
            get = instance.get
            for key, known in self._flat_sites:
                value = get(key)
                if type(value) is not str or value in known.values:
                    continue
                if not known(value):
                    yield key
        for path, known in self._nested_sites:
            value = dig(instance, path)
            if isinstance(value, str) and not known(value):
                yield path[0] if path else ""

    def _failing(self, instance: Any) -> tuple[set[str], bool]:
        """The top-level properties whose values break their own schema (structure, standard and identifier
        formats), and whether the root's own keywords fail (a required property missing, one not allowed)."""
        failing: set[str] = set()
        root_fails = False
        for err in self._fast.iter_errors(instance):
            if err.instance_path:
                failing.add(str(err.instance_path[0]))
            else:
                root_fails = True
        failing.update(self._bad_sites(instance))
        return failing, root_fails

    def failing_fields(self, instance: Any) -> set[str]:
        """The top-level properties of ``instance`` whose values break their own schema, identifier formats
        included (what the audit reports per field for a record ``is_valid`` refused)."""
        return self._failing(instance)[0] if type(instance) is dict else set()

    def _failing_parts(self, instance: Any) -> Iterator[ValidationError] | None:
        """The explaining engine's errors, found where the fast engine and the identifier checks
        point: the root's own keywords if they fail, then each failing property alone (about 5×
        faster than the whole record). None where the root is not a plain object schema."""
        plain = self._plain_root
        if plain is None or type(instance) is not dict:
            return None
        properties, root_only = plain
        failing, root_fails = self._failing(instance)
        descend = self._explainer.descend
        found = list(descend(instance, root_only)) if root_fails else []
        for name in properties:
            if name in failing and name in instance:
                found += descend(instance[name], properties[name], path=name, schema_path="properties")
        return iter(found)

    def errors(self, instance: Any) -> list[FieldError]:
        """Every violation, explained (the slower engine; use after ``is_valid`` said no). A value nested
        deeper than :data:`conformance.check.limits.MAX_JSON_DEPTH` gets that one error (the engines would recurse
        into it)."""
        if value_depth(instance, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            return [depth_field_error()]
        out: list[FieldError] = []
        seen: set[tuple[str, str, str]] = set()
        found = self._failing_parts(instance)
        if found is None:
            found = self._explainer.iter_errors(instance)
        for err in sorted(found, key=lambda e: list(map(str, e.absolute_path))):
            for fe in _explain(err, self.strict):
                key = (fe.path, fe.keyword, fe.message_zh)
                if key not in seen:
                    seen.add(key)
                    out.append(fe)
        if not out and not self.is_valid(instance):
            # The engines disagree: report the fast engine's own words rather than nothing.
            out = [
                FieldError(
                    pointer(e.instance_path), "schema", _short(f"不符合模式：{e.message}", 280), _short(e.message, 280)
                )
                for e in self._fast.iter_errors(instance)
            ]
        return out


def depth_field_error() -> FieldError:
    """The error of a record nested deeper than :data:`conformance.check.limits.MAX_JSON_DEPTH`."""
    zh, _, en = str(depth_error()).partition(" / ")
    return FieldError("", "maxDepth", zh, en)


#: Root keywords that let a record be explained property by property (see ``_failing_parts``).
_PLAIN_ROOT = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "minProperties",
        "maxProperties",
        "title",
        "description",
        "$comment",
        "$schema",
        "$id",
        "$defs",
        "examples",
    }
)


def _plain_root(schema: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """For an object schema made of properties: (the property schemas, the root without them)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return None
    if any(k not in _PLAIN_ROOT and not k.startswith("x-") for k in schema):
        return None
    properties = schema["properties"]
    root_only = {
        **{k: v for k, v in schema.items() if k not in ("properties", "$defs")},
        "properties": dict.fromkeys(properties, True),
    }
    return properties, root_only


def _explained(uri: str) -> Any:
    """What the explaining engine validates against: the schema at ``uri`` with its references
    inlined (:mod:`conformance.contract.inline`), or a plain reference to it where that is not possible."""
    from conformance.contract.inline import NotInlinable, inline

    found = schema_registry.registry().resolver().lookup(uri)
    try:
        body = inline(found.contents, found.resolver)
    except NotInlinable:
        body = {"$ref": uri}
    if not isinstance(body, dict):
        body = {"allOf": [body]}
    return {**body, "$schema": schema_registry.DRAFT_2020_12}


@functools.cache
def _rs_registry() -> jsonschema_rs.Registry:
    return jsonschema_rs.Registry(list(schema_registry.documents().items()))


@functools.cache
def validator(ref: str, strict: bool = True) -> SchemaValidator:
    """Validator for a contract by name, e.g. ``equipment`` or ``gov-platform#/$defs/receipt``."""
    return SchemaValidator(ref, strict=strict)


@functools.cache
def validator_at(uri: str, strict: bool = True) -> SchemaValidator:
    """Validator for a schema at an absolute URI (e.g. inside an OpenAPI document)."""
    return SchemaValidator(uri, strict=strict, uri=uri)
