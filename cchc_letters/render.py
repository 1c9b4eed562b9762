"""Letter templates: a DOCX with docxtpl placeholders, compiled once, rendered per letter.

docxtpl's own ``render()`` reloads the package and recompiles Jinja for every letter. Here a
template is cleaned once with docxtpl's ``patch_xml`` (which rejoins placeholders that Word
split across runs and turns ``{%p %}``/``{%tr %}`` into plain Jinja), compiled once in Jinja's
sandbox with autoescape and strict undefined, and each letter renders only its body XML.
The print-file writer (output.py) streams those bodies into one document.
"""

from __future__ import annotations

import functools
import hashlib
import io
import itertools
import re
import sys
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cchc_letters.errors import TemplateProblem
from cchc_letters.models import Kind

if TYPE_CHECKING:  # Jinja is imported where a template is first compiled (start-up time)
    from jinja2.compiler import Frame
    from jinja2.nodes import Concat, For, Getattr
    from jinja2.runtime import Context
    from jinja2.sandbox import ImmutableSandboxedEnvironment

DOCUMENT_PART = "word/document.xml"
_BODY_OPEN = re.compile(r"<w:body(?:\s[^>]*)?>")
_FINAL_SECT_PR = re.compile(r"<w:sectPr[ >].*?</w:sectPr>\s*$", re.DOTALL)
_PARAGRAPH_START = re.compile(r"<w:p([ >])")
_DOC_PR_ID = re.compile(r'(<wp:docPr\b[^>]*?\bid=")(\d+)(")')
_BOOKMARK_ID = re.compile(r'(<w:bookmark(?:Start|End)\b[^>]*?\bw:id=")(\d+)(")')


def template_path(kind: Kind, folder: Path | None = None) -> Path:
    """Return the template file for ``kind``: from ``folder`` when it has one, else the default."""
    from cchc_letters.kinds import entry

    letter = entry(kind)
    if folder is not None:
        candidate = Path(folder) / letter.template_name
        if candidate.is_file():
            return candidate
    return letter.default_template()


# Characters XML 1.0 forbids (control characters, lone surrogates, U+FFFE/U+FFFF): one in a
# registry value (pasted from another program) would make Word refuse the whole print file.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile("[\t\r\n]")  # inside <w:t> they would show as stray spaces
_NOT_PLAIN = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")  # either of the above
_DICT_ATTRIBUTES = frozenset(dir(dict))


def printable(value: Any) -> Any:
    """Return what a placeholder prints: '' for None; text without XML-forbidden characters,
    tabs and line breaks as spaces.

    Jinja applies this to every ``{{ }}`` value before autoescaping.
    """
    if type(value) is str:  # nearly every value: one search, most need nothing
        if _NOT_PLAIN.search(value) is None:
            return value
        return _NOT_XML.sub("", _LINE_BREAKS.sub(" ", value))
    if value is None:
        return ""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return _NOT_XML.sub("", _LINE_BREAKS.sub(" ", value))
    return value


# A plain ``str`` value none of whose characters ``printable`` or XML escaping would touch
# (nearly every value of a letter) prints as it is: ``escape(printable(value))`` would give
# the same characters. The compiled template looks for these characters with this one C
# call and makes the two Python calls only for a value that has one (LetterCodeGenerator).
_NOT_VERBATIM = re.compile("[\x00-\x1f&<>'\"\ud800-\udfff\ufffe\uffff]")


def _escaped(value: Any) -> Any:
    """Return what autoescape prints for ``value``: ``escape(printable(value))``."""
    from markupsafe import escape

    return escape(printable(value))


# ---- bounds on template work (issue 11, item 9) -----------------------------------------
# A template is written by an editor, not by us: one `{{ 'A' * 10**10 }}`, nested range
# loops or a huge format width would run for minutes or exhaust memory and hold the batch
# lock. A letter is a page of text, so these limits are far above what any letter needs.
MAX_TEMPLATE_TEXT = 100_000  # characters one operation may produce ('A' * n, n ** m …)
MAX_TEMPLATE_NUMBER = 100_000  # largest number passed to a call (range, ljust, center …)
MAX_TEMPLATE_LOOP = 10_000  # items of one range()
MAX_TEMPLATE_ITERATIONS = 100_000  # range() items over the whole letter
MAX_LETTER_XML = 4_000_000  # characters of one letter's body XML (a letter is ~30,000)
LETTER_TIME_BUDGET = 5.0  # seconds of template work per letter
MAX_TEMPLATE_PACKAGE = 64 << 20  # bytes of a template DOCX once decompressed
_HUGE_WIDTH = re.compile(r"\d{6,}")  # a format width of a million characters or more


class TemplateLimit(Exception):
    """A template went beyond a bound on its work (reported as a template error)."""


class _Budget(threading.local):
    """The current letter's deadline and range() items left, per thread."""

    deadline = float("inf")
    iterations = MAX_TEMPLATE_ITERATIONS
    countdown = 0

    def start(self) -> None:
        self.deadline = time.monotonic() + LETTER_TIME_BUDGET
        self.iterations = MAX_TEMPLATE_ITERATIONS
        self.countdown = 0

    def tick(self) -> None:
        """Look at the clock every 64th call (template steps are called very often)."""
        self.countdown -= 1
        if self.countdown < 0:
            self.countdown = 64
            if time.monotonic() > self.deadline:
                raise TemplateLimit(
                    f"điền một lá thư mất quá {LETTER_TIME_BUDGET:g} giây (time budget per letter)"
                )


_BUDGET = _Budget()


def _too_big(what: str) -> TemplateLimit:
    return TemplateLimit(f"{what} vượt giới hạn của mẫu thư (template work limit)")


def _bounded_range(*args: int) -> range:
    """Return range(*args) when small; its items count against the letter's budget."""
    items = range(*args)
    if len(items) > MAX_TEMPLATE_LOOP:
        raise _too_big(f"range() có {len(items):,} phần tử (tối đa {MAX_TEMPLATE_LOOP:,})")
    _BUDGET.iterations -= len(items)
    if _BUDGET.iterations < 0:
        raise _too_big(
            f"các vòng lặp range() của một lá thư quá {MAX_TEMPLATE_ITERATIONS:,} lần lặp"
        )
    _BUDGET.tick()
    return items


def _check_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple) and len(value) > MAX_TEMPLATE_TEXT:
        raise _too_big(f"một giá trị dài {len(value):,} (tối đa {MAX_TEMPLATE_TEXT:,})")
    return value


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int | float) and abs(value) > MAX_TEMPLATE_NUMBER:
            raise _too_big(f"số {value:g} trong một lời gọi (tối đa {MAX_TEMPLATE_NUMBER:,})")
        if isinstance(value, str) and _HUGE_WIDTH.search(value) and "{" in value:
            raise _too_big("độ rộng định dạng quá lớn")


# What a loop printed, kept per loop for this many lists (a batch's schedule tables are one
# per birth date: 418 for 10,000 births; 1,024 tables of ~7 kB with their lists is ~10 MB),
# and for lists and tuples only (the letter context's sequences: built by the kinds' Python
# code, never changed once made; the sandbox cannot change them).
LOOP_TEXTS_KEPT = 1024
_KEPT = (list, tuple)


def repeats_alike(loop: Any, environment: Any) -> bool:
    """True when a ``{% for %}`` prints only from its own items: what its body, test and
    ``else`` read is the loop's variables, constants and the letter filters (pure functions
    of their arguments) — no other variable, no call, no assignment, no recursion. Such a loop
    prints the same for the same list, whichever letter it is in."""
    from jinja2 import nodes

    allowed = (
        nodes.Output, nodes.TemplateData, nodes.Const, nodes.Getattr, nodes.Getitem,
        nodes.Slice, nodes.If, nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.And,
        nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.BinExpr, nodes.Concat, nodes.Tuple,
        nodes.List, nodes.Dict, nodes.Pair, nodes.Keyword,
    )  # fmt: skip

    def targets(loop: Any) -> frozenset[str]:  # "visit", or "a", "b" of "for a, b in …"
        target = loop.target
        found = (target, *target.find_all(nodes.Name))
        return frozenset(n.name for n in found if isinstance(n, nodes.Name))

    def pure(node: Any, bound: frozenset[str]) -> bool:
        if isinstance(node, nodes.For):
            if node.recursive or not pure(node.iter, bound):
                return False
            own = bound | targets(node)
            return (
                all(pure(n, own | {"loop"}) for n in node.body)
                and (node.test is None or pure(node.test, own))
                and all(pure(n, bound) for n in node.else_)
            )
        if isinstance(node, nodes.Name):
            return node.ctx == "load" and node.name in bound
        if isinstance(node, nodes.Filter):
            if node.name not in environment.filters or node.node is None:
                return False
        elif isinstance(node, nodes.Test):
            if node.name not in environment.tests:
                return False
        elif not isinstance(node, allowed):
            return False
        return all(pure(child, bound) for child in node.iter_child_nodes())

    if loop.recursive:
        return False
    own = targets(loop)
    return (
        all(pure(n, own | {"loop"}) for n in loop.body)
        and (loop.test is None or pure(loop.test, own))
        and all(pure(n, frozenset()) for n in loop.else_)
    )


@functools.cache
def _environment_class() -> type[ImmutableSandboxedEnvironment]:
    from jinja2 import nodes
    from jinja2.compiler import CodeGenerator, optimizeconst
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def evaluated(name: str, lineno: int) -> nodes.InternalName:
        """Return the node of a value the generated code has already computed, by its Python
        name (made as jinja2's ``Parser.free_identifier`` makes one)."""
        node = object.__new__(nodes.InternalName)
        nodes.Node.__init__(node, name, lineno=lineno)
        return node

    class LetterCodeGenerator(CodeGenerator):
        """Jinja's code generator, with each ``~`` concatenation's length checked (Jinja
        joins those itself, outside the sandbox's hooks)."""

        def visit_Concat(self, node: Concat, frame: Frame) -> None:  # noqa: N802 — Jinja's visitor name
            self.write("environment.checked_size(")
            super().visit_Concat(node, frame)
            self.write(")")

        @optimizeconst
        def visit_Getattr(self, node: Getattr, frame: Frame) -> None:  # noqa: N802 — Jinja's visitor name
            # ``child.name`` of a context dict, without a Python call (LetterEnvironment.getattr
            # gives a dict's key for a name that is no dict attribute; so does this):
            #   (t_1['name'] if type(t_1 := (child)) is dict and 'name' in t_1
            #    else environment.getattr(t_1, 'name'))
            if self.environment.is_async or node.attr in _DICT_ATTRIBUTES:
                super().visit_Getattr(node, frame)
                return
            name, key = self.temporary_identifier(), repr(node.attr)
            self.write(f"({name}[{key}] if type({name} := (")
            self.visit(node.node, frame)
            self.write(f")) is dict and {key} in {name} else environment.getattr({name}, {key}))")

        # A loop whose body reads nothing but its own items (``{%tr for visit in
        # schedule.visits %}``: the birth letter's schedule table, half its rendering time)
        # prints the same for the same list: the children born the same day share one
        # schedule table (enrich.py), so each list's rows are rendered once per process and
        # printed again from ``LetterEnvironment.loop_text``:
        #   t_1 = (schedule.visits); t_2 = environment.loop_text('t_3', t_1)
        #   if t_2 is None: <the loop, into a list t_4>; t_2 = environment.keep_loop_text(...)
        #   yield t_2
        def visit_For(self, node: For, frame: Frame) -> None:  # noqa: N802 — Jinja's visitor name
            if self.environment.is_async or not repeats_alike(node, self.environment):
                super().visit_For(node, frame)
                return
            value, text, site = (self.temporary_identifier() for _ in range(3))
            self.writeline(f"{value} = ", node)
            self.visit(node.iter, frame)
            self.writeline(f"{text} = environment.loop_text({site!r}, {value})")
            self.writeline(f"if {text} is None:")
            self.indent()
            buffered = frame.copy()
            self.buffer(buffered)
            loop = nodes.For(node.target, evaluated(value, node.lineno), node.body, node.else_,
                             node.test, node.recursive, lineno=node.lineno)  # fmt: skip
            super().visit_For(loop, buffered)
            self.writeline(
                f"{text} = environment.keep_loop_text({site!r}, {value}, {buffered.buffer})"
            )
            self.outdent()
            self.start_write(frame, node)
            self.write(text)
            self.end_write(frame)

        # Each ``{{ value }}`` is ``escape(environment.finalize(value))`` in Jinja's code: two
        # Python calls per value, a third of rendering time. Where autoescape is on (always:
        # the lint refuses a template turning it off), a plain ``str`` with nothing to clean
        # or escape (``_NOT_VERBATIM``) is output as it is, every other value as before:
        #   (t_1 if type(t_1 := (value)) is str and environment.verbatim(t_1) is None
        #    else environment.escaped(t_1))
        # The same characters either way; a plain str and a Markup of it join alike.
        def _verbatim(self, frame: Frame, finalize: Any) -> bool:
            return (
                not frame.eval_ctx.volatile
                and bool(frame.eval_ctx.autoescape)
                and finalize.src == "environment.finalize("
            )

        def _output_child_pre(self, node: Any, frame: Frame, finalize: Any) -> None:
            if not self._verbatim(frame, finalize):
                super()._output_child_pre(node, frame, finalize)
                return
            name = self.temporary_identifier()
            self._verbatim_names.append(name)
            self.write(f"({name} if type({name} := (")

        def _output_child_post(self, node: Any, frame: Frame, finalize: Any) -> None:
            if not self._verbatim(frame, finalize):
                super()._output_child_post(node, frame, finalize)
                return
            name = self._verbatim_names.pop()
            self.write(
                f")) is str and environment.verbatim({name}) is None "
                f"else environment.escaped({name}))"
            )

        @property
        def _verbatim_names(self) -> list[str]:
            names: list[str] | None = self.__dict__.get("_verbatim_stack")
            if names is None:
                names = self.__dict__["_verbatim_stack"] = []
            return names

    class LetterEnvironment(ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox with bounds on what one letter may cost."""

        code_generator_class = LetterCodeGenerator
        intercepted_binops = frozenset({"*", "**", "%", "+"})
        verbatim = _NOT_VERBATIM.search  # None: a str value prints as it is
        escaped = staticmethod(_escaped)

        def loop_text(self, site: str, value: Any) -> str | None:
            """Return what the loop at ``site`` printed for this very list, or None."""
            kept = self._loop_texts.get(site, {}).get(id(value)) if type(value) in _KEPT else None
            return kept[1] if kept is not None and kept[0] is value else None

        def keep_loop_text(self, site: str, value: Any, pieces: list[str]) -> str:
            """Return the loop's pieces joined, kept for ``value`` (a list or tuple; held, so
            that its id is not reused) when it is one, at most LOOP_TEXTS_KEPT per loop."""
            text = "".join(pieces)
            if type(value) in _KEPT:
                kept = self._loop_texts.setdefault(site, {})
                if len(kept) >= LOOP_TEXTS_KEPT:
                    kept.clear()
                kept[id(value)] = (value, text)
            return text

        def loop_texts_of(self, value: Any) -> list[str]:
            """Return what the loops kept for ``value`` (every text kept, for None)."""
            return [
                text
                for kept in self._loop_texts.values()
                for held, text in kept.values()
                if value is None or held is value
            ]

        @property
        def _loop_texts(self) -> dict[str, dict[int, tuple[Any, str]]]:
            texts: dict[str, dict[int, tuple[Any, str]]] | None = self.__dict__.get("_texts")
            if texts is None:
                texts = self.__dict__["_texts"] = {}
            return texts

        @staticmethod
        def checked_size(value: Any) -> Any:
            _BUDGET.tick()
            return _check_size(value)

        def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
            _BUDGET.tick()
            if operator == "**":
                # 10 ** 10 ** 10 is computed before anything could look at its size.
                if (
                    isinstance(left, int)
                    and isinstance(right, int)
                    and right > 0
                    and abs(left) > 1
                    and right * abs(left).bit_length() > MAX_TEMPLATE_TEXT
                ):
                    raise _too_big(f"{left} ** {right}")
            elif operator == "*":
                for seq, times in ((left, right), (right, left)):
                    if isinstance(seq, str | list | tuple) and isinstance(times, int):
                        if len(seq) * times > MAX_TEMPLATE_TEXT:
                            raise _too_big(f"phép nhân chuỗi ra {len(seq) * times:,} ký tự")
            elif operator == "%" and isinstance(left, str):
                if _HUGE_WIDTH.search(left):
                    raise _too_big("độ rộng định dạng quá lớn")
                _check_arguments(right if isinstance(right, tuple) else (right,), {})
            return _check_size(super().call_binop(context, operator, left, right))

        def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 — Jinja's signature
            _BUDGET.tick()
            _check_arguments(args, kwargs)
            return _check_size(super().call(__context, __obj, *args, **kwargs))

        def getattr(self, obj: Any, attribute: str) -> Any:
            # A letter's context is plain dicts: ``child.name`` is a key. Jinja would try the
            # attribute first and catch the AttributeError (a third of rendering time); a
            # name that is no dict attribute can only be the key, as Jinja would find it.
            if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
                try:
                    return obj[attribute]
                except KeyError:
                    return self.undefined(obj=obj, name=attribute)
            if attribute in ("format", "format_map") and isinstance(obj, str):
                if _HUGE_WIDTH.search(obj):  # "{:>999999999}".format(x)
                    raise _too_big("độ rộng định dạng quá lớn")
            return super().getattr(obj, attribute)

    return LetterEnvironment


def jinja_environment() -> ImmutableSandboxedEnvironment:
    """Return the sandboxed, autoescaping, strict Jinja environment with the letter filters.

    Template work is bounded (see TemplateLimit): range() is small and counted, long texts
    cannot be built by one operation, numbers passed to calls are bounded, each letter has
    a time budget, and ``lipsum`` (filler text of any length) is not available.
    """
    from jinja2 import StrictUndefined

    from cchc_letters.filters import FILTERS

    env = _environment_class()(
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        finalize=printable,
    )
    # Only the documented filters (filters.FILTER_SPECS): no ``safe``, no surprises.
    env.filters = dict(FILTERS)
    env.globals["range"] = _bounded_range
    env.globals.pop("lipsum", None)
    return env


def autoescape_findings(ast: Any) -> list[str]:
    """Return a description of each ``{% autoescape %}`` block of a parsed template that is
    not plainly ``true``: without escaping, one "&" in a name breaks the whole print file."""
    from jinja2 import nodes

    found = []
    for node in ast.find_all((nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)):
        for option in node.options:
            if option.key == "autoescape" and not (
                isinstance(option.value, nodes.Const) and option.value.value is True
            ):
                found.append(f"dòng {node.lineno}: {{% autoescape … %}} tắt thoát ký tự XML")
    return found


def _joined_paragraphs() -> Any:
    """Return a Jinja extension that takes out, at compile time, the line break the cleaned
    source has before each paragraph (one paragraph per line, for error messages' line
    numbers; read_template): searching every letter's 15,000 characters of XML for it took
    a sixth of the rendering time. Line numbers are the lexer's, so messages do not change."""
    from jinja2.ext import Extension
    from jinja2.lexer import Token

    class JoinedParagraphs(Extension):
        def filter_stream(self, stream: Any) -> Any:
            for token in stream:
                if token.type == "data" and "\n<w:p" in token.value:
                    token = Token(token.lineno, "data", token.value.replace("\n<w:p", "<w:p"))
                yield token

    return JoinedParagraphs


def _joins_every_paragraph(env: Any, source: str) -> bool:
    """True when joining each text of the template gives the letters joining each rendered
    letter gave: no text ends with a line break (a tag could put a paragraph after it).
    Values cannot bring one: ``printable`` turns line breaks into spaces, ``<`` is escaped.
    Unreadable source: False (the compile says what is wrong)."""
    from jinja2 import TemplateSyntaxError

    try:
        return not any(
            value.replace("\n<w:p", "<w:p").endswith("\n")
            for _, kind, value in env.lex(source)
            if kind == "data"
        )
    except TemplateSyntaxError:
        return False


@functools.lru_cache(maxsize=16)
def _compiled_source(source: str) -> tuple[Any, bool, tuple[str, ...], Any, frozenset[str]]:
    """Return (the compiled Jinja template, whether it joins every paragraph itself, its
    ``{% autoescape %}`` findings, its parsed tree as compiling left it, the variables it
    looks up in the context) of a cleaned body; TemplateSyntaxError if it does not parse.

    The last two are what the lint (templatelint.name_findings) would get from parsing the
    body again and from ``jinja2.meta.find_undeclared_variables`` (a second pass of the code
    generator over that tree, which folds its constants as compiling does); they are
    collected while compiling, as that function collects them.

    Kept per process by the body's text: the office app, ``watch`` and the tests load the same
    templates for batch after batch, and compiling one costs about 20 ms. The same text always
    compiles to the same template (a fresh environment from ``jinja_environment``), which is
    read-only once made and safe to render from several threads. Across processes it is kept
    in the start-up cache (``_cached_compile``)."""
    env = jinja_environment()
    key = _compiled_key(source, env)
    cached = _cached_compile(env, key)
    if cached is not None:
        return cached
    joined = _joins_every_paragraph(env, source)
    if joined:  # else joined after rendering, as before (the same letters either way)
        env.add_extension(_joined_paragraphs())
    ast = env.parse(source)
    undeclared: set[str] = set()
    generator = env.code_generator_class

    class Tracking(generator):  # type: ignore[misc,valid-type]
        def enter_frame(self, frame: Frame) -> None:
            super().enter_frame(frame)
            for action, param in frame.symbols.loads.values():  # as jinja2.meta does
                if action == "resolve" and param not in self.environment.globals:
                    undeclared.add(param)

    env.code_generator_class = Tracking
    code = env.compile(ast)
    compiled = env.template_class.from_code(env, code, env.make_globals(None))  # from_string's
    env.code_generator_class = generator
    found = compiled, joined, tuple(autoescape_findings(ast)), ast, frozenset(undeclared)
    _store_compile(key, code, found)
    return found


# ---- compiled templates in the start-up cache ---------------------------------------------
# Lexing, parsing, generating and compiling the three default templates' Python took about a
# tenth of a daily batch. What it gives is a pure function of the cleaned body and the code
# that compiles it: this module (the environment and its code generator), the filters (Jinja
# folds a filter of constants at compile time: filters.py and vietnamese.py, which they call),
# Jinja, and the Python that compiles the generated code. So it is kept in the start-up cache
# (cache.py) under exactly those: the code object (``marshal``, as Python keeps a module's
# bytecode in __pycache__) and the parsed tree as compiling left it (``pickle``, without its
# environment: the lint reads it, templatelint.name_findings). Like __pycache__, what is read
# back is code: the cache folder is the user's own (set $CCHC_CACHE_DIR only to a folder no
# one else may write).
_COMPILED_VERSION = "compiled-1"
_COMPILING_MODULES = ("render.py", "filters.py", "vietnamese.py")  # beside this file


@functools.cache
def _compiling_code() -> str | None:
    """Return the SHA-256 of the source of the modules a compiled template depends on (None
    when one cannot be read): an edited code generator or filter is a miss, never the old
    letters."""
    digest = hashlib.sha256()
    try:
        for name in _COMPILING_MODULES:
            digest.update(Path(__file__).with_name(name).read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def _compiled_key(source: str, env: Any) -> list[str] | None:
    from cchc_letters import cache

    return cache.key_of(
        _COMPILED_VERSION,
        sys.version,
        sys.implementation.cache_tag,
        _compiling_code(),
        cache.installed("jinja2"),
        cache.installed("markupsafe"),
        "\0".join(sorted(env.filters)),
        "\0".join(sorted(env.tests)),
        hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest(),
    )


def _cached_compile(
    env: Any, key: list[str] | None
) -> tuple[Any, bool, tuple[str, ...], Any, frozenset[str]] | None:
    """Return what ``_compiled_source`` would, from the start-up cache; None on a miss (no
    entry, or one that does not load)."""
    from cchc_letters import cache

    stored = cache.lookup("compiled", key)
    if not isinstance(stored, dict):
        return None
    import base64
    import marshal
    import pickle

    class Unpickler(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            if pid != "environment":
                raise pickle.UnpicklingError(pid)
            return env

    try:
        joined = stored["joined"]
        if joined:
            env.add_extension(_joined_paragraphs())
        code = marshal.loads(base64.b64decode(stored["code"]))
        ast = Unpickler(io.BytesIO(base64.b64decode(stored["ast"]))).load()
        compiled = env.template_class.from_code(env, code, env.make_globals(None))
        unescaped = tuple(stored["unescaped"])
        undeclared = frozenset(stored["undeclared"])
    except Exception:  # noqa: BLE001 — anything unreadable is a miss: compiled again
        return None
    if not (
        isinstance(joined, bool) and all(isinstance(n, str) for n in (*unescaped, *undeclared))
    ):
        return None
    return compiled, joined, unescaped, ast, undeclared


def _store_compile(
    key: list[str] | None, code: Any, found: tuple[Any, bool, tuple[str, ...], Any, frozenset[str]]
) -> None:
    """Keep a compile in the start-up cache; nothing when its tree does not pickle."""
    from cchc_letters import cache

    if key is None or cache.cache_dir() is None:
        return
    import base64
    import marshal
    import pickle

    compiled, joined, unescaped, ast, undeclared = found
    env = compiled.environment

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            return "environment" if obj is env else None

    tree = io.BytesIO()
    try:
        Pickler(tree, protocol=pickle.HIGHEST_PROTOCOL).dump(ast)
    except Exception:  # noqa: BLE001 — a folded constant that does not pickle: not kept
        return
    cache.store(
        "compiled",
        key,
        {
            "code": base64.b64encode(marshal.dumps(code)).decode("ascii"),
            "ast": base64.b64encode(tree.getvalue()).decode("ascii"),
            "joined": joined,
            "unescaped": list(unescaped),
            "undeclared": sorted(undeclared),
        },
    )


def _next_pieces(compiled: Any, generated: Iterator[str]) -> list[str]:
    """Return the next 256 pieces of a letter (fewer at its end); an error in the template
    raised as ``jinja2.Template.generate`` raises it (``handle_exception``)."""
    try:
        return list(itertools.islice(generated, 256))
    except Exception:
        compiled.environment.handle_exception()
        raise  # not reached: handle_exception raises


@dataclass
class LetterTemplate:
    """A compiled letter template and the fixed parts of its DOCX package."""

    path: Path
    source: str  # the cleaned body XML the Jinja template was compiled from
    compiled: Any  # jinja2.Template
    document_prefix: str  # word/document.xml up to and including <w:body>
    document_suffix: str  # </w:body></w:document>
    section_properties: str  # the template's final <w:sectPr>
    other_parts: tuple[tuple[zipfile.ZipInfo, bytes], ...]
    renumber_ids: bool
    document_xml: str = ""  # word/document.xml as stored, for the lint (templatelint.py)
    joined: bool = False  # the compiled template itself writes no line break before <w:p
    # the template's Jinja globals (range …) as a plain dict: jinja2's Template.new_context
    # reads them from a ChainMap, in Python, for every letter (a tenth of its rendering time)
    context_globals: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    ast: Any = None  # the parsed tree as compiling left it, and the variables it looks up in
    undeclared: frozenset[str] | None = None  # the context, for the lint (_compiled_source)

    @classmethod
    def load(cls, path: Path) -> LetterTemplate:
        """Return the template at ``path`` cleaned and compiled; TemplateProblem if unusable."""
        return cls.compile(read_template(path))

    @classmethod
    def compile(cls, parts: TemplateSource) -> LetterTemplate:
        """Return the compiled template of a package read by ``read_template``."""
        from jinja2 import TemplateSyntaxError

        try:
            compiled, joined, unescaped, ast, undeclared = _compiled_source(parts.source)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                f"{parts.path}: {_syntax_message(exc.message)} "
                f"(gần: {text_near(parts.source, exc.lineno, _quoted(exc.message))!r})"
            ) from None
        if unescaped:
            raise TemplateProblem(
                f"{parts.path}: mẫu thư không được tắt autoescape ({'; '.join(unescaped)}): "
                "một ký tự & hay < trong dữ liệu sẽ làm hỏng cả tệp in. Hãy xóa thẻ "
                "{% autoescape false %} và {% endautoescape %}."
            )
        return cls(
            path=parts.path,
            source=parts.source,
            compiled=compiled,
            document_prefix=parts.document_prefix,
            document_suffix=parts.document_suffix,
            section_properties=parts.section_properties,
            other_parts=parts.other_parts,
            renumber_ids=bool(_DOC_PR_ID.search(parts.source) or _BOOKMARK_ID.search(parts.source)),
            document_xml=parts.document_xml,
            joined=joined,
            context_globals=dict(compiled.globals),
            ast=ast,
            undeclared=undeclared,
        )

    def render_body(self, context: Mapping[str, Any], index: int = 0) -> str:
        """Return the body XML of one letter (no final section properties).

        ``index`` (the letter's position in its print file) keeps drawing and bookmark ids
        unique when many letters share one document.
        """
        from jinja2 import TemplateError

        _BUDGET.start()
        try:
            xml = self._render_bounded(context)
        except (
            TemplateLimit,
            TemplateError,
            TypeError,
            ValueError,
            AttributeError,
            LookupError,
            ArithmeticError,
        ) as exc:
            # Any failure inside a template is the template's problem, reported in one line
            # (never a traceback: the context holds names and ID numbers).
            raise TemplateProblem(f"{self.path}: {describe_template_error(exc)}") from None
        if not self.joined:
            xml = xml.replace("\n<w:p", "<w:p")
        if self.renumber_ids:
            offset = (index + 1) * 1000
            xml = _DOC_PR_ID.sub(lambda m: f"{m[1]}{offset + int(m[2])}{m[3]}", xml)
            xml = _BOOKMARK_ID.sub(lambda m: f"{m[1]}{offset + int(m[2])}{m[3]}", xml)
        return xml

    def _render_bounded(self, context: Mapping[str, Any]) -> str:
        """Return the rendered body, stopping as soon as it is longer than MAX_LETTER_XML or
        over the time budget (the output is produced piece by piece)."""
        from jinja2.runtime import new_context

        pieces: list[str] = []
        size = 0
        # What jinja2.Template.generate does, without its generator around the template's
        # own (each of the ~140 pieces of a letter passed through both), and with the
        # template's globals already in a dict (Template.new_context: the same Context).
        compiled = self.compiled
        globals_ = self.context_globals or dict(compiled.globals)
        generated = compiled.root_render_func(
            new_context(
                compiled.environment, compiled.name, compiled.blocks, dict(context), False, globals_
            )
        )
        # A few hundred pieces at a time: looking at each one would cost a third of the
        # rendering time.
        while batch := _next_pieces(compiled, generated):
            size += sum(map(len, batch))
            if size > MAX_LETTER_XML:
                raise _too_big(f"lá thư dài hơn {MAX_LETTER_XML:,} ký tự XML")
            _BUDGET.tick()
            pieces += batch
        return "".join(pieces)

    def render_document(self, context: Mapping[str, Any]) -> str:
        """Return a whole ``word/document.xml`` holding one letter (for the XML check).

        Files are written by output.py only (``write_single_letter``, ``PrintFile``).
        """
        return (
            self.document_prefix
            + self.render_body(context)
            + self.section_properties
            + self.document_suffix
        )


@dataclass(frozen=True)
class TemplateSource:
    """A template's package split into what Jinja compiles and what is copied unchanged."""

    path: Path
    document_xml: str  # word/document.xml as stored (before docxtpl's clean-up)
    source: str  # the cleaned body, one paragraph per line
    document_prefix: str
    document_suffix: str
    section_properties: str
    other_parts: tuple[tuple[zipfile.ZipInfo, bytes], ...]


def check_copied_parts(path: Path, parts: Iterable[tuple[str, bytes]]) -> None:
    """Raise TemplateProblem naming the part when an XML part of a template is not
    well-formed XML or declares a DTD.

    Every part but the body is copied unchanged into every print file (output.py), and the
    readers of the template (python-docx) parse only the parts they use, without expanding
    entities: a broken customXml item, or a "billion laughs" in styles.xml, would load
    silently and be written into every letter of every batch — files Word refuses to
    open. No Office part declares a DTD (OOXML forbids one), so a DOCTYPE is refused
    before anything could expand it; the parser never loads a DTD nor the network.
    """
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False
    )
    for name, data in parts:
        if not name.lower().endswith((".xml", ".rels")):
            continue  # pictures, fonts, thumbnails: copied as they are
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise TemplateProblem(
                f"{path}: phần {name} của mẫu thư DOCX không phải XML đúng ({exc}); Word không "
                "mở được tệp in nào có phần này. Hãy mở mẫu bằng Word hoặc LibreOffice và lưu "
                "lại, hoặc lấy lại mẫu gốc (templates export)."
            ) from None
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise TemplateProblem(
                f"{path}: phần {name} của mẫu thư DOCX khai báo DTD/thực thể XML (<!DOCTYPE …>) "
                "— tệp Word thật không bao giờ có, và đó là cách một tệp XML 'nổ' ra hàng tỷ ký "
                "tự; mẫu này không được dùng. Hãy lấy lại mẫu gốc (templates export) hoặc lưu "
                "lại mẫu bằng Word."
            )


def read_template(path: Path) -> TemplateSource:
    """Return the template at ``path`` cleaned by docxtpl (tags split by Word rejoined).

    Raises TemplateProblem when the file is not a usable DOCX.
    """
    path = Path(path)
    try:
        # Read once: the bytes cleaned are the bytes the cache entry is keyed by.
        if path.stat().st_size > MAX_TEMPLATE_PACKAGE:
            raise TemplateProblem(
                f"{path}: mẫu thư DOCX nặng {path.stat().st_size:,} byte, quá giới hạn "
                f"{MAX_TEMPLATE_PACKAGE:,} byte (hỏng, hoặc chứa ảnh quá lớn)"
            )
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            # Every part is held in memory: a zip bomb saved as .docx must not expand.
            expanded = sum(info.file_size for info in package.infolist())
            if expanded > MAX_TEMPLATE_PACKAGE:
                raise TemplateProblem(
                    f"{path}: mẫu thư DOCX giải nén ra {expanded:,} byte, quá giới hạn "
                    f"{MAX_TEMPLATE_PACKAGE:,} byte (hỏng, hoặc chứa ảnh quá lớn)"
                )
            other_parts = tuple(
                (info, package.read(info.filename))
                for info in package.infolist()
                if info.filename != DOCUMENT_PART
            )
            document_xml = package.read(DOCUMENT_PART).decode("utf-8")
        body_xml = _cleaned_body(data, path)
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as exc:
        raise TemplateProblem(f"{path}: không mở được mẫu thư DOCX ({exc})") from None
    except SyntaxError as exc:  # lxml's XMLSyntaxError: malformed XML, an entity bomb
        raise TemplateProblem(
            f"{path}: mẫu thư DOCX có phần XML hỏng, Word cũng không mở được ({exc}). "
            "Hãy mở lại bằng Word hoặc LibreOffice và lưu lại, hoặc lấy lại mẫu gốc "
            "(templates export)."
        ) from None

    opening = _BODY_OPEN.match(body_xml)
    sect_pr = _FINAL_SECT_PR.search(body_xml[: -len("</w:body>")])
    doc_body = _BODY_OPEN.search(document_xml)
    if not opening or not body_xml.endswith("</w:body>") or not sect_pr or not doc_body:
        raise TemplateProblem(f"{path}: mẫu thư thiếu phần thân hoặc định dạng trang (w:sectPr)")
    inner = body_xml[opening.end() : sect_pr.start()]
    body_close = document_xml.rindex("</w:body>")
    return TemplateSource(
        path=path,
        document_xml=document_xml,
        # Put each paragraph on its own line so Jinja's line numbers point near the error.
        source=_PARAGRAPH_START.sub(r"\n<w:p\1", inner),
        document_prefix=document_xml[: doc_body.end()],
        document_suffix=document_xml[body_close:],
        section_properties=sect_pr.group(0),
        other_parts=other_parts,
    )


def _cleaned_body(data: bytes, path: Path) -> str:
    """Return docxtpl's clean-up of a template package's body (``patch_xml(get_xml())``),
    after ``check_copied_parts`` has passed the package's parts.

    Importing docxtpl and opening the package with python-docx cost more than a daily batch
    of letters, so the result is kept in the start-up cache (cache.py), keyed by the package's
    bytes and the installed docxtpl, python-docx and lxml: the same file cleaned (and checked)
    by the same code gives the same body. Raises TemplateProblem for a hostile part, what
    docxtpl raises for a broken package.
    """
    from cchc_letters import cache

    key = cache.key_of(
        "cleaned-body-2",  # 2: only packages whose copied parts passed check_copied_parts
        hashlib.sha256(data).hexdigest(),
        cache.installed("docxtpl"),
        cache.installed("docx"),
        cache.installed("lxml"),
    )
    cached = cache.lookup("templates", key)
    if isinstance(cached, str):
        return cached
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        check_copied_parts(path, [(i.filename, package.read(i)) for i in package.infolist()])
    from docxtpl import DocxTemplate

    docx = DocxTemplate(io.BytesIO(data))
    docx.init_docx()
    body_xml: str = docx.patch_xml(docx.get_xml())
    cache.store("templates", key, body_xml)
    return body_xml


def describe_template_error(exc: Exception) -> str:
    """Return a Vietnamese one-line description of a Jinja error raised while rendering."""
    from jinja2 import TemplateError, UndefinedError
    from jinja2.exceptions import SecurityError

    if isinstance(exc, TemplateLimit):
        return f"mẫu thư làm quá nhiều việc: {exc}"
    if isinstance(exc, SecurityError):
        return f"mẫu thư dùng thao tác không được phép (sandbox, not allowed): {exc}"
    if isinstance(exc, UndefinedError):
        return f"biến không có trong dữ liệu thư (undefined variable): {exc.message}"
    if isinstance(exc, TemplateError):
        return f"lỗi khi điền mẫu thư: {exc.message or exc}"
    return f"lỗi khi điền mẫu thư ({type(exc).__name__}): {exc}"


def text_near(source: str, lineno: int | None, focus: str | None = None, width: int = 160) -> str:
    """Return the visible text of the paragraph at line ``lineno`` of a cleaned body.

    Each paragraph is one line of the source; when that paragraph shows no text (a table
    row, an empty paragraph), the next lines with text are used. A long paragraph is cut to
    ``width`` characters around ``focus`` (the name in the error) when it occurs.
    """
    if not lineno:
        return ""
    lines = source.splitlines()
    for line in lines[lineno - 1 : lineno + 2]:
        text = re.sub(r"<[^>]+>", "", line).strip()
        if not text:
            continue
        if len(text) <= width:
            return text
        at = text.find(focus) if focus else -1
        start = max(0, min(at - width // 2, len(text) - width)) if at >= 0 else 0
        cut = text[start : start + width]
        return ("…" if start else "") + cut + ("…" if start + width < len(text) else "")
    return ""


def _syntax_message(message: str | None) -> str:
    """Return a compile error in Vietnamese; an unknown filter with the closest known one."""
    import difflib

    from cchc_letters.filters import FILTERS

    unknown = re.fullmatch(r"No filter named '([^']+)'\.?", message or "")
    if unknown:
        close = difflib.get_close_matches(unknown[1], sorted(FILTERS), n=1, cutoff=0.5)
        hint = f" — có phải ý bạn là `{close[0]}`? (did you mean)" if close else ""
        return f"bộ lọc không tồn tại (unknown filter): {unknown[1]}{hint}"
    return f"lỗi cú pháp trong mẫu thư: {message}"


def _quoted(message: str | None) -> str | None:
    """Return the first 'quoted' name in a Jinja error message (what to show the text around)."""
    found = re.search(r"'([^']+)'", message or "")
    return found[1] if found else None


def load_templates(kinds: set[Kind], folder: Path | None = None) -> dict[Kind, LetterTemplate]:
    """Return the compiled template of each kind, from ``folder`` or the defaults.

    Raises TemplateProblem naming every template that cannot be loaded (not a DOCX, Jinja
    syntax); what else is wrong with a loaded one is templatelint's to say.
    """
    loaded, problems = {}, []
    for kind in sorted(kinds):
        try:
            loaded[kind] = LetterTemplate.load(template_path(kind, folder))
        except TemplateProblem as exc:
            problems.append(exc.message)
    if problems:
        lines = "\n  ".join(problems)
        raise TemplateProblem(
            f"mẫu thư có lỗi, chưa tạo thư nào (template errors, nothing written):\n  {lines}",
            hint="Sửa mẫu thư rồi chạy: cchc-letters templates check",
        )
    return loaded
