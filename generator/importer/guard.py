"""The check every generated module passes before anything runs it.

`dashgen import` proves a module by executing it (it must render the dashboard back), and a
module it writes is executed again at every `make dashboards`. The text in it comes from a
dashboard, which anyone who can edit one in Grafana controls. So before a module (or a piece
of code the importer evaluates while choosing a factory) runs, it is parsed with `ast` and
walked against the importer's own vocabulary; anything else is `UnsafeCode` (an
`ImportFailed`) naming what was found and where, and nothing is run or written:

- the module: a docstring, `from generator[.catalog|.config] import ...` of the names the
  importer uses, the project's catalog (`from ..monitoring.catalog import CATALOG as C`,
  which `run_module` hands over itself), `DATASOURCE = <literal>`, and functions `name(cfg: Config)` whose body is at
  most a docstring, `t = cfg.thresholds` and one `return <expression>`;
- expressions: str, int, float, bool and None constants (a minus sign on a number), lists,
  dicts with str keys, f-strings whose fields are only `C.sel(...)` calls, the names `cfg` and
  `DATASOURCE`, the config values `cfg.jobs.X`, `cfg.selectors.X`, `cfg.dashboards.X`, `t.X`,
  `p.UP_DOWN_MAPPINGS`, and calls of the house factories (`p.timeseries`, ...), `C.sel`,
  `eq`/`ne`/`re_`/`nre` and the module's own row functions, `*row(cfg)` included;
- text: every line printable (no NUL, CR, form feed, U+2028, bidi or zero-width controls: the
  importer writes those as escapes) and the comments exactly the ones the importer meant.

No attribute outside that list (so no dunder), no other name (so no builtin), no lambda,
subscript, operator, comprehension or statement gets through. Running is then done with
builtins cut down to what the module needs (`dict`, and imports of those three modules and
of the catalog).
"""

from __future__ import annotations

import ast
import bisect
import re
import builtins
import types
from collections.abc import Sequence
from dataclasses import fields, is_dataclass

from generator.catalog import Catalog
from generator.config import Config
from generator.errors import DashgenError


class ImportFailed(DashgenError):
    """The generated module would not render the dashboard it came from."""


class UnsafeCode(ImportFailed):
    """Generated code holds something the importer never writes: it is not run."""


#: The house factories and constants an imported module may use from `generator.panels`.
PANEL_NAMES = frozenset({
    "dashboard", "imported_dashboard", "row", "at", "raw", "override", "target", "query_variable",
    "timeseries", "stat", "up_stat", "table", "heatmap", "gauge", "bargauge", "text",
    "query", "loki", "elasticsearch", "influx", "testdata", "piechart",
    "neutral", "up_down", "bad_above", "good_above", "UP_DOWN_MAPPINGS",
})
PANEL_CONSTANTS = frozenset({"UP_DOWN_MAPPINGS"})
MATCHERS = frozenset({"eq", "ne", "re_", "nre"})
#: What the module may import: (module, name, as).
IMPORTS = frozenset({("generator", "panels", "p"), ("generator.config", "Config", None)}
                    | {("generator.catalog", m, None) for m in MATCHERS})
#: The one relative import: the project's catalog, `from ..monitoring.catalog import CATALOG as C`.
PROJECT_IMPORT = (2, "monitoring.catalog", "CATALOG", "C")
CONFIG_GROUPS = ("jobs", "selectors", "dashboards")
#: The module-level name for the data source most of a dashboard's queries name (`factories.shared_datasource`).
SHARED_DS = "DATASOURCE"
#: Names a module function may not take (they are the module's vocabulary).
TAKEN = frozenset({"p", "C", "cfg", "t", "Config", "dict", SHARED_DS}) | MATCHERS
_CONSTANT_TYPES = (str, int, float, bool, type(None))


def _public(obj) -> set[str]:
    """The public field names of a config group."""
    names = [f.name for f in fields(obj)] if is_dataclass(obj) else list(vars(obj))
    return {n for n in names if not n.startswith("_")}


def _describe(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - only for the message
        text = type(node).__name__
    text = text if len(text) <= 80 else text[:77] + "..."
    return f"{type(node).__name__} `{text.encode('unicode_escape').decode('ascii')}`"


class _Walk:
    """Checks one tree against the vocabulary; `fail` raises UnsafeCode."""

    def __init__(self, cfg: Config, functions: frozenset[str] = frozenset(), shared_ds: bool = True):
        self.functions = functions
        self.strings: list[ast.AST] = []  # every str constant and f-string: where a `#` is not a comment
        self.values = {"cfg"} | ({SHARED_DS} if shared_ds else set())
        self.config = {g: _public(getattr(cfg, g)) for g in CONFIG_GROUPS}
        self.config["t"] = _public(cfg.thresholds)
        self.offset = 0  # the line number before the piece of the module being walked
        self.head = True  # walking the module's first piece (before its first function)
        self.defined: list[str] = []  # the functions the walk saw defined, in order

    def fail(self, node: ast.AST | None, what: str) -> None:
        line = getattr(node, "lineno", None)
        where = f"line {line + self.offset}: " if line else ""
        found = f": {_describe(node)}" if node is not None else ""
        raise UnsafeCode(f"the generated code holds what the importer never writes ({where}{what}"
                         f"{found}); nothing was run or written")

    # --- expressions ---------------------------------------------------------------------

    def expr(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if type(node.value) not in _CONSTANT_TYPES:
                self.fail(node, f"a {type(node.value).__name__} constant")
            if type(node.value) is str:
                self.strings.append(node)
        elif isinstance(node, ast.UnaryOp):
            if not (isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant)
                    and type(node.operand.value) in (int, float)):
                self.fail(node, "an operator")
        elif isinstance(node, ast.List):
            for item in node.elts:
                self.expr(item)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if not (isinstance(key, ast.Constant) and type(key.value) is str):
                    self.fail(value if key is None else key, "a dict key that is not a string")
                self.strings.append(key)
                self.expr(value)
        elif isinstance(node, ast.JoinedStr):
            self.strings.append(node)
            for part in node.values:
                if isinstance(part, ast.Constant) and type(part.value) is str:
                    continue
                if not (isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None
                        and isinstance(part.value, ast.Call) and self._is_attr(part.value.func, "C", {"sel"})):
                    self.fail(part, "an f-string field other than C.sel(...)")
                self.call(part.value)
        elif isinstance(node, ast.Name):
            if node.id not in self.values:
                self.fail(node, f"the name {node.id!r}")
        elif isinstance(node, ast.Attribute):
            self.value_attribute(node)
        elif isinstance(node, ast.Call):
            self.call(node)
        else:
            self.fail(node, "an expression")

    @staticmethod
    def _is_attr(node: ast.AST, base: str, names) -> bool:
        return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == base
                and node.attr in names)

    def value_attribute(self, node: ast.Attribute) -> None:
        """`cfg.<group>.<field>`, `t.<field>` or `p.UP_DOWN_MAPPINGS`."""
        if self._is_attr(node, "p", PANEL_CONSTANTS) or self._is_attr(node, "t", self.config["t"]):
            return
        base = node.value
        if (isinstance(base, ast.Attribute) and self._is_attr(base, "cfg", CONFIG_GROUPS)
                and node.attr in self.config[base.attr]):
            return
        self.fail(node, "an attribute")

    def call(self, node: ast.Call) -> None:
        func = node.func
        own = isinstance(func, ast.Name) and func.id in self.functions
        if own:  # a row function of the module: name(cfg)
            if node.keywords or len(node.args) != 1 or not self._is_name(node.args[0], "cfg"):
                self.fail(node, "a call of the module's own function other than f(cfg)")
            return
        if not (self._is_attr(func, "p", PANEL_NAMES - PANEL_CONSTANTS) or self._is_attr(func, "C", {"sel"})
                or (isinstance(func, ast.Name) and func.id in MATCHERS)):
            self.fail(func, "a call")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                inner = arg.value
                if not (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name)
                        and inner.func.id in self.functions):
                    self.fail(arg, "a *argument other than a row function's panels")
                self.call(inner)
            else:
                self.expr(arg)
        for kw in node.keywords:  # a keyword's name is data; a ** must unpack a dict literal
            if kw.arg is None and not isinstance(kw.value, ast.Dict):
                self.fail(kw.value, "a ** argument that is not a dict literal")
            self.expr(kw.value)

    @staticmethod
    def _is_name(node: ast.AST, name: str) -> bool:
        return isinstance(node, ast.Name) and node.id == name

    # --- the module ----------------------------------------------------------------------

    def docstring(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """The statements after the docstring, if there is one."""
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and type(body[0].value.value) is str:
            self.strings.append(body[0].value)
            return body[1:]
        return body

    def module(self, tree: ast.Module) -> None:
        body = self.docstring(list(tree.body)) if self.head else tree.body
        for stmt in body:
            if isinstance(stmt, ast.ImportFrom):
                found = {(stmt.module, a.name, a.asname) for a in stmt.names}
                project = {(stmt.level, stmt.module, a.name, a.asname) for a in stmt.names}
                if not (stmt.level == 0 and found <= IMPORTS or project == {PROJECT_IMPORT}):
                    self.fail(stmt, "an import")
            elif isinstance(stmt, ast.Assign):
                if not (self.head and len(stmt.targets) == 1 and self._is_name(stmt.targets[0], SHARED_DS)):
                    self.fail(stmt, "an assignment")
                self.literal(stmt.value)
            elif isinstance(stmt, ast.FunctionDef):
                self.defined.append(stmt.name)
                self.function(stmt)
            else:
                self.fail(stmt, "a statement")

    def literal(self, node: ast.AST) -> None:
        """JSON-like data only (the shared data source)."""
        saved, self.values, self.functions = (self.values, self.functions), set(), frozenset()
        try:
            for sub in ast.walk(node):
                if isinstance(sub, (ast.Call, ast.Attribute, ast.Name, ast.JoinedStr)):
                    self.fail(sub, "code in a literal")
            self.expr(node)
        finally:
            self.values, self.functions = saved

    def function(self, fn: ast.FunctionDef) -> None:
        a = fn.args
        ann = a.args[0].annotation if len(a.args) == 1 else None
        if (fn.decorator_list or a.posonlyargs or a.vararg or a.kwonlyargs or a.kwarg or a.defaults
                or len(a.args) != 1 or a.args[0].arg != "cfg" or not self._is_name(ann, "Config")
                or getattr(fn, "type_params", None)):
            self.fail(fn, f"a function other than {fn.name}(cfg: Config)")
        if fn.returns is not None and not self._is_name(fn.returns, "dict"):
            self.fail(fn.returns, "a return annotation")
        body = self.docstring(list(fn.body))
        if body and isinstance(body[0], ast.Assign) and len(body[0].targets) == 1 \
                and self._is_name(body[0].targets[0], "t") and self._is_attr(body[0].value, "cfg", {"thresholds"}):
            body = body[1:]
        if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
            self.fail(body[0] if body else fn, f"a statement in {fn.name}() other than one return")
        self.expr(body[0].value)


def _functions(names: list[str], walk: _Walk) -> frozenset[str]:
    for n in names:
        if not n.isascii() or n.startswith("_") or n in TAKEN or names.count(n) > 1:
            walk.fail(None, f"a function name {n!r}")
    if "build" not in names:
        raise UnsafeCode("the generated module has no build(cfg); nothing was run or written")
    return frozenset(names)


def _check_text(source: str, offset: int = 0) -> None:
    for n, line in enumerate(source.split("\n"), offset + 1):
        if not line.isprintable():
            bad = next(c for c in line if not c.isprintable())
            raise UnsafeCode(f"the generated code holds an unescaped {ascii(bad)} at line {n}; "
                             "nothing was run or written")


def _comments(source: str, strings: list[ast.AST]) -> list[str]:
    """The module's comments, in order: every `#` outside the string literals the walk saw
    starts one (names, numbers and operators hold no `#`), up to the end of its line. The
    same as `tokenize` finds, without tokenizing megabytes of literals in Python."""
    lines = source.split("\n")
    wanted = {n for n, line in enumerate(lines, 1) if "#" in line}
    ordered = sorted(wanted)
    spans: dict[int, list[tuple[int, float]]] = {}  # line -> (start, end) byte columns of strings
    for node in strings:
        first, last = node.lineno, node.end_lineno
        i = bisect.bisect_left(ordered, first)  # the wanted lines within the string's, if any
        if i == len(ordered) or ordered[i] > last:
            continue
        for n in ordered[i:bisect.bisect_right(ordered, last)]:
            spans.setdefault(n, []).append((node.col_offset if n == first else 0,
                                            node.end_col_offset if n == last else float("inf")))
    out = []
    for n in sorted(wanted):
        data, start = lines[n - 1].encode("utf-8"), 0
        while (i := data.find(b"#", start)) >= 0:
            inside = next((end for a, end in spans.get(n, ()) if a <= i < end), None)
            if inside is None:
                out.append(data[i:].decode("utf-8"))
                break
            if inside == float("inf"):
                break
            start = int(inside)
    return out


_DEF = re.compile(r"^def ([^(\n]*)\(", re.M)


def _pieces(source: str) -> list[tuple[int, str]]:
    """(lines before it, text) of the module's top-level pieces: the head, then one piece from
    each line that starts with `def ` to the next.

    Each piece is parsed, checked and compiled on its own, so a module of tens of megabytes is
    never one syntax tree in memory. That checks the module itself: a piece that parses on its
    own ends outside any bracket, string or line continuation, and the next one starts with
    `def` at column 0 (no indent carried over; tabs and form feeds are refused), so Python
    reads the whole module as the pieces' statements, in order. A cut that is not such a
    boundary (a `def ` line inside a string) leaves a piece that does not parse, and the module
    is refused (UnsafeCode)."""
    starts = [0] + [m.start() for m in _DEF.finditer(source) if m.start()]
    out, line = [], 0
    for a, b in zip(starts, starts[1:] + [len(source)]):
        text = source[a:b]
        out.append((line, text))
        line += text.count("\n")
    return out


def _shifted(code: types.CodeType, lines: int) -> types.CodeType:
    """`code` (and the functions in it) numbered as lines further down the module, for
    tracebacks (cheaper than renumbering the syntax tree: line numbers are kept relative)."""
    if not lines:
        return code
    consts = tuple(_shifted(c, lines) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + lines, co_consts=consts)


def _check_pieces(source: str, comments: Sequence[str] | None, cfg: Config) -> list[types.CodeType]:
    """`check_module`'s check, piece by piece (`_pieces`); the pieces' compiled code, in order."""
    walk = _Walk(cfg)
    walk.functions = _functions([m.group(1) for m in _DEF.finditer(source)], walk)
    found: list[str] = []
    code = []
    for offset, text in _pieces(source):
        _check_text(text, offset)
        try:
            tree = ast.parse(text, "<dashgen import>", "exec")
        except SyntaxError:
            ast.parse(source, "<dashgen import>", "exec")  # the module's own SyntaxError, if it has one
            raise UnsafeCode(f"the generated code holds what the importer never writes (line {offset + 1}: "
                             "a piece between two lines starting with `def ` that is not whole statements, "
                             "e.g. a decorator); nothing was run or written") from None
        walk.offset, walk.strings = offset, []
        if walk.head:
            walk.values.discard(SHARED_DS)  # the shared data source, if the head defines it
            if any(isinstance(s, ast.Assign) for s in tree.body):
                walk.values.add(SHARED_DS)
        walk.module(tree)
        walk.head = False
        if comments is not None:
            found += _comments(text, walk.strings)
        code.append(_shifted(compile(tree, "<dashgen import>", "exec"), offset))
        del tree
    if walk.defined != [m.group(1) for m in _DEF.finditer(source)]:  # every def line is one function, and no other
        walk.fail(None, "a function not at the start of a line")
    if comments is not None and found != list(comments):
        extra = [c for c in found if c not in comments] or found
        raise UnsafeCode(f"the generated module's comments are not the ones the importer wrote "
                         f"({len(found)} found, {len(comments)} meant; e.g. {ascii(extra[0][:80])}); "
                         "nothing was run or written")
    return code


def check_module(source: str, comments: Sequence[str] | None, cfg: Config) -> None:
    """None when the module holds only what the importer writes (see the module docstring)
    and, given `comments`, exactly those comment lines; else UnsafeCode. A module that does
    not parse raises SyntaxError (nothing can run it either)."""
    _check_pieces(source, comments, cfg)


def check_expression(code: str, cfg: Config) -> ast.Expression:
    """One expression the importer evaluates (a factory call it tries), checked the same way."""
    _check_text(code)
    tree = ast.parse(code, "<dashgen import>", "eval")
    _Walk(cfg).expr(tree.body)
    return tree


def safe_eval(code: str, namespace: dict, cfg: Config):
    """`code` evaluated in `namespace` without builtins, once `check_expression` passed it."""
    tree = check_expression(code, cfg)
    return eval(compile(tree, "<dashgen import>", "eval"), {**namespace, "__builtins__": {}})  # noqa: S307


_MODULES = {"generator": {"panels"}, "generator.catalog": set(MATCHERS), "generator.config": {"Config"}}


def _importer(catalog: Catalog):
    """`__import__` for a generated module: the three generator modules, and the project's catalog."""
    project = types.SimpleNamespace(CATALOG=catalog)

    def _import(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002 - __import__'s signature
        if level == 0 and name in _MODULES and fromlist and set(fromlist) <= _MODULES[name]:
            return builtins.__import__(name, globals, locals, fromlist, level)
        if (level, name, tuple(fromlist or ())) == (PROJECT_IMPORT[0], PROJECT_IMPORT[1], (PROJECT_IMPORT[2],)):
            return project
        raise ImportError(f"a generated module may not import {'.' * level}{name!r}")

    return _import


def run_module(source: str, comments: Sequence[str] | None, cfg: Config, catalog: Catalog) -> types.ModuleType:
    """The generated module, executed once `check_module` passed it, with only the builtins
    it needs (its catalog import gives `catalog`)."""
    code = _check_pieces(source, comments, cfg)
    module = types.ModuleType("_dashgen_imported")
    module.__dict__["__builtins__"] = {"__import__": _importer(catalog), "dict": dict}
    for piece in code:  # the module's statements, in order (`_pieces`)
        exec(piece, module.__dict__)  # noqa: S102
    return module
