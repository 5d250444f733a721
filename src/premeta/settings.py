"""The workflow's settings (config files, ``--config``) checked against its schema, every problem
named at once: the key, the value, where it was given and the rule it breaks."""

from __future__ import annotations

from pathlib import Path

import yaml

from premeta.errors import SettingsError

#: jsonschema keyword -> the rule in words, from the keyword's value in the schema.
RULES = {
    "enum": lambda v: "must be one of " + ", ".join(map(str, v)),
    "const": lambda v: f"must be {v}",
    "type": lambda v: "must be " + " or ".join({"integer": "a whole number", "number": "a number",
                                                 "string": "text", "array": "a list", "object": "a mapping",
                                                 "boolean": "true or false"}.get(t, t)
                                                for t in ([v] if isinstance(v, str) else v)),
    "minimum": lambda v: f"must be at least {v}",
    "maximum": lambda v: f"must be at most {v}",
    "exclusiveMinimum": lambda v: f"must be more than {v}",
    "exclusiveMaximum": lambda v: f"must be less than {v}",
    "minLength": lambda v: "must not be empty",
    "minItems": lambda v: "must not be empty" if v == 1 else f"must list at least {v}",
    "uniqueItems": lambda v: "must not name an item twice",
}

#: The keywords of a bound, whose reason the schema gives in its description.
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def read_config_file(path) -> dict:
    """A config file's settings, or :class:`SettingsError` naming the file and the line.

    A YAML tag (``!!python/object:...``, ``!foo``) is refused: settings are plain values.

    Parameters
    ----------
    path : str or pathlib.Path
        A YAML (or JSON) config file.

    Returns
    -------
    dict
        Its settings (empty for an empty file).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: cannot be read as a config file: {error}") from None
    try:
        settings = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        why = getattr(error, "problem", None) or str(error)
        if isinstance(error, yaml.constructor.ConstructorError):
            why += " (YAML tags such as !!python/object or !foo are not accepted: settings are plain values)"
        raise SettingsError(f"{path}{where}: not a valid YAML config file: {why}") from None
    if settings is not None and not isinstance(settings, dict):
        raise SettingsError(f"{path}: a config file holds `key: value` lines, not a {type(settings).__name__}")
    return settings or {}


def _given_as_mapping(value) -> str | None:
    """The text ``key: value`` that ``--config`` read as a one-entry mapping, else None."""
    if isinstance(value, dict) and len(value) == 1:
        (key, item), = value.items()
        if isinstance(key, str) and isinstance(item, (str, int, float)):
            return f"{key}: {item}"
    return None


def problems(config: dict, schema: dict, command_line=(), files=()) -> list[str]:
    """Every way ``config`` breaks ``schema``, one sentence each, in the order of the keys.

    Parameters
    ----------
    config : dict
        The settings as the workflow reads them.
    schema : dict
        The JSON schema (draft 2020-12) of the settings.
    command_line : collection of str
        The keys given with ``--config``; the others are said to come from ``files``.
    files : sequence of str
        The config files read.

    Returns
    -------
    list of str
        ``key 'k', value v (from --config): rule`` for each problem; empty when there is none.
    """
    from jsonschema import Draft202012Validator

    out = []
    for error in sorted(Draft202012Validator(schema).iter_errors(config), key=lambda e: [str(p) for p in e.path]):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":  # each unknown key
            known, within = error.schema.get("properties", {}), f" of {_key(path)}" if path else ""
            out += [f"key '{_key([*path, k])}', value {error.instance[k]!r}"
                    f"{_source((path or [k])[0], command_line, files)}: not a premeta setting "
                    f"(the settings{within} are {', '.join(known)})" for k in sorted(set(error.instance) - set(known))]
            continue
        if error.validator == "required":  # each missing key
            out += [f"key '{_key([*path, k])}' is missing{_source(None, command_line, files)}: it is required"
                    for k in error.validator_value if k not in error.instance]
            continue
        key = _key(path)
        rule = RULES.get(error.validator, lambda v: error.message)(error.validator_value)
        if "then" in error.schema_path:  # a rule that holds under a condition (the schema's if/then)
            rule += _condition(schema, list(error.schema_path))
        if error.validator in BOUNDS and "description" in error.schema:  # the reason for the bound
            rule += f"; {path[0]}: {error.schema['description']}"
        out.append(f"key '{key}', value {error.instance!r}{_source(path[0], command_line, files)}: {rule}")
        text = _given_as_mapping(error.instance) if len(path) == 1 and path[0] in command_line else None
        if text:
            out[-1] += (f". --config read '{text}' as a mapping because of its ': ' (Snakemake removes any "
                        f"quotes around the value): write `{path[0]}: \"{text}\"` in a config file and give it "
                        "with --configfile")
    return out


def _key(path: list) -> str:
    """A key as written in words: ``labels.treatment``, ``analyses[2]``."""
    return str(path[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])


def _condition(schema: dict, schema_path: list) -> str:
    """The words ``with key: value`` of the ``if`` beside the ``then`` of ``schema_path``."""
    node = schema
    for step in schema_path[:schema_path.index("then")]:
        node = node[step]
    when = node["if"].get("properties", {})
    return " with " + " and ".join(f"{k}: {v['const']}" for k, v in when.items() if "const" in v)


def _source(key, command_line, files) -> str:
    """Where a key was given: `` (from --config)`` or `` (in <files>)``."""
    if key is not None and key in command_line:
        return " (from --config)"
    return f" (in {', '.join(map(str, files))})" if files else ""
