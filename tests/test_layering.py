"""The house rules of ARCHITECTURE.md, checked: features import only downward, never lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import normhub

PACKAGE = Path(normhub.__file__).parent

# Lowest first, as ARCHITECTURE.md lists them; a module may import its own layer and below.
LAYERS = [
    {"core"},
    {"mail", "jobs"},
    {"accounts"},
    {"communities"},
    {"norms"},
    {"responses"},
    {"discussion"},
    {"forum"},
    {"exposure"},
    {"reviews"},
    {"records"},
    {"notifications", "newcomers"},
    {"search", "digest", "api", "home", "pagecache"},
    {"demo", "cli", "models", "__init__"},
]
TOP_LEVEL_OUTSIDE_CORE = {"cli", "models", "__init__"}


def layer_of(module: str) -> int:
    """``normhub.norms.page`` -> the norms layer; ``normhub.db`` -> core."""
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    group = name if (PACKAGE / name).is_dir() or name in TOP_LEVEL_OUTSIDE_CORE else "core"
    for index, layer in enumerate(LAYERS):
        if group in layer:
            return index
    raise AssertionError(f"{module} is in no layer: add its package to ARCHITECTURE.md and LAYERS")


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts)


def normhub_imports(tree: ast.AST):
    """(imported module, line, inside a function?) for every import of normhub."""
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, functions)
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("normhub"):
                yield child.module, child.lineno, in_function
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("normhub"):
                        yield alias.name, child.lineno, in_function
            yield from visit(child, nested)

    yield from visit(tree, False)


def all_modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), path, ast.parse(path.read_text(), str(path))


def test_every_module_imports_only_its_own_layer_or_below():
    upward = []
    for module, path, tree in all_modules():
        here = layer_of(module)
        for imported, line, _ in normhub_imports(tree):
            if imported != "normhub" and layer_of(imported) > here:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {imported}")
    assert upward == []


def test_no_module_imports_normhub_inside_a_function():
    # The factory is the one place that imports late: it builds the app.
    lazy = [
        f"{path.relative_to(PACKAGE)}:{line} imports {imported}"
        for module, path, tree in all_modules()
        if module != "normhub.__init__"
        for imported, line, in_function in normhub_imports(tree)
        if in_function
    ]
    assert lazy == []


def test_the_layer_check_sees_an_upward_import():
    tree = ast.parse("from normhub.digest.models import DigestSend\n")
    ((imported, _line, _lazy),) = normhub_imports(tree)
    assert layer_of(imported) > layer_of("normhub.norms.services")
