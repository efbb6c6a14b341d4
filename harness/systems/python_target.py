"""Resolving a `python:<module>:<callable>` reference: importing the user's module, finding the target,
checking how it is called, and the digest of its code (part of the system's identity). Done when the
system YAML is read; calling the target is python.py's.
"""

import importlib
import inspect
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError
from harness.hashing import digest, file_digest
from harness.privacy import scrub

ANSWER_METHODS = ("answer", "invoke", "__call__")  # tried in this order on an instance


@dataclass(frozen=True)
class Target:
    """A resolved `python:` reference: the object, how it is called, and the files its code is in."""

    ref: str
    obj: Any
    style: str  # "function", "class" or "runnable"
    passes_case: bool  # the function or answer method takes (question, case)
    files: tuple[str, ...]


_RESOLVED: dict[str, Target] = {}
_LOCK = threading.Lock()


def _parse(ref: str, where: str) -> tuple[str, str]:
    parts = ref.split(":")
    if len(parts) != 3 or not all(part.strip() for part in parts[1:]):
        raise InputError(
            where,
            f"key 'generator.model': '{ref}' should be python:<module>:<callable>, e.g. python:my_rag:answer",
        )
    return parts[1].strip(), parts[2].strip()


def _search_path(folder: Path | None) -> list[str]:
    """Where the module is looked for, before the installed packages: the working directory, and the
    project root of a systems/<name>.yaml file (the folder above it) and the file's own folder."""
    roots = [Path.cwd()]
    if folder is not None:
        roots += [folder.parent, folder]
    return list(dict.fromkeys(str(root) for root in roots))


def _import(module_name: str, where: str, folder: Path | None) -> Any:
    for root in reversed(_search_path(folder)):
        if root not in sys.path:
            sys.path.insert(0, root)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is not None and (module_name == err.name or module_name.startswith(f"{err.name}.")):
            searched = ", ".join(_search_path(folder))
            raise InputError(
                where, f"key 'generator.model': no module named '{module_name}' (searched {searched})"
            ) from None
        raise InputError(where, f"key 'generator.model': importing '{module_name}' failed: {err}") from None
    except (Exception, SystemExit) as err:  # the user's module raised (or called sys.exit) while importing:
        # one line, not its traceback, and not the harness exiting with the module's code
        detail = scrub(f"{type(err).__name__}: {err}")[:300]
        raise InputError(
            where, f"key 'generator.model': importing '{module_name}' failed{origin(err)}: {detail}"
        ) from None


def origin(err: BaseException) -> str:
    """` at file.py:12`: where the user's code raised (the deepest frame), for a one-line reason."""
    if isinstance(err, SyntaxError) and err.filename:  # the file that does not parse, not importlib's frame
        return f" at {Path(err.filename).name}:{err.lineno}"
    frames = traceback.extract_tb(err.__traceback__)
    if not frames:
        return ""
    return f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}"


def _binds(fn: Any, *args: Any) -> bool | None:
    """Whether `fn` accepts these positional arguments; None when its signature cannot be read."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(*args)
    except TypeError:
        return False
    return True


def _case_arity(fn: Any, what: str, where: str, bound: bool = True) -> bool:
    """True when `fn` takes (question, case), False for (question); anything else is refused."""
    extra = () if bound else (None,)  # an unbound method also takes self
    if _binds(fn, *extra, "question", {}):
        return True
    found = _binds(fn, *extra, "question")
    if found is False:
        try:
            shown = str(inspect.signature(fn))
        except (TypeError, ValueError):
            shown = "(...)"
        raise InputError(
            where, f"key 'generator.model': {what}{shown} must take (question) or (question, case)"
        )
    return False


def _files(module: Any, obj: Any) -> tuple[str, ...]:
    """The source files whose edits change answers: the module's, and the one defining the target."""
    found = []
    for thing in (module, obj if inspect.isclass(obj) or inspect.isroutine(obj) else type(obj)):
        try:
            path = inspect.getsourcefile(thing)
        except TypeError:  # a built-in: no source file
            path = None
        if path and Path(path).is_file() and path not in found:
            found.append(path)
    return tuple(found)


def resolve(ref: str, where: str, folder: Path | None = None) -> Target:
    """Import the module, find the callable and check how it is called; InputError names the problem."""
    with _LOCK:
        if ref in _RESOLVED:
            return _RESOLVED[ref]
        module_name, attribute = _parse(ref, where)
        module = _import(module_name, where, folder)
        obj: Any = module
        for name in attribute.split("."):
            if not hasattr(obj, name):
                public = sorted(n for n in dir(module) if not n.startswith("_"))[:12]
                raise InputError(
                    where,
                    f"key 'generator.model': module '{module_name}' has no '{attribute}' "
                    f"(it has: {', '.join(public) or 'nothing public'})",
                )
            obj = getattr(obj, name)
        target = Target(ref, obj, *_style(obj, attribute, where), files=_files(module, obj))
        _RESOLVED[ref] = target
        return target


def _style(obj: Any, name: str, where: str) -> tuple[str, bool]:
    if inspect.isclass(obj):
        if _binds(obj) is False:
            raise InputError(
                where,
                f"key 'generator.model': class {name}{inspect.signature(obj)} must take no arguments",
            )
        method = answer_method(obj)
        if method is None:
            raise InputError(
                where,
                f"key 'generator.model': class {name} has no answer(question), invoke or __call__ method",
            )
        if method == "invoke":
            return "class", False
        return "class", _case_arity(getattr(obj, method), f"{name}.{method}", where, bound=False)
    if callable(getattr(obj, "invoke", None)):
        return "runnable", False
    if callable(obj):
        return "function", _case_arity(obj, name, where)
    raise InputError(
        where, f"key 'generator.model': '{name}' is a {type(obj).__name__}, not a function, class or Runnable"
    )


def answer_method(cls: type) -> str | None:
    for method in ANSWER_METHODS:
        if method == "__call__":
            if any("__call__" in vars(base) for base in cls.__mro__ if base is not object):
                return method
        elif callable(getattr(cls, method, None)):
            return method
    return None


def code_digest(ref: str) -> str:
    """The identity of the target's code: a digest of its source files, read now (a cached answer of
    older code is never reused). Code in other modules it imports is not covered (docs/systems.md)."""
    target = _RESOLVED.get(ref) or resolve(ref, f"system generator '{ref}'")
    return digest([file_digest(path) for path in target.files])
