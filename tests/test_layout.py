"""The shape of the code: public names, one-way arrows between packages, no import cycles.

docs/development.md draws the same map; a change that breaks it fails here,
so the map stays true.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

import crosspin

SRC = Path(crosspin.__file__).resolve().parent

#: Package (or top-level module) -> layer. A module may import modules of
#: its own package and of lower layers only (docs/development.md).
LAYERS: dict[str, int] = {
    "errors": 0,
    "_noop": 1,
    "distributions": 1,
    "environments": 1,
    "reqfile": 1,
    "index": 2,
    "markers": 2,
    "metadata": 2,
    "lock": 3,
    "inputs": 4,
    "lockfiles": 4,
    "resolver": 4,
    "settings": 5,
    "pipeline": 6,
    "sync": 6,
    "cli": 7,
    "__main__": 8,
}

#: Third-party libraries kept behind one package each.
ONLY_IN: dict[str, str] = {
    "httpx": "index",
    "installer": "sync",
    "resolvelib": "resolver",
    "rich": "cli",
}

#: Every package's public names (``__all__``), pinned: a change here is a change of API.
PUBLIC: dict[str, list[str]] = {
    "crosspin": ["__version__"],
    "crosspin.cli": ["cli", "main"],
    "crosspin.environments": [
        "DEFAULT_PLATFORMS", "DEFAULT_PYTHONS", "PLATFORMS", "Environment", "Matrix", "Platform",
        "describe_environments", "describe_in_order", "python_first",
    ],
    "crosspin.index": [
        "ACCEPT", "DEFAULT_INDEX_URL", "DEFAULT_PAGE_MAX_AGE", "IndexClient", "IndexSettings",
        "IndexStrategy", "atomic_write", "hash_file", "lock_url", "redact",
        "strip_credentials",
    ],
    "crosspin.inputs": [
        "Checkout", "InputOptions", "InputSet", "RootRequirement", "checkout", "input_digest",
        "is_vcs", "read_inputs",
    ],
    "crosspin.lock": [
        "MAX_CHAINS", "UNSAFE_PACKAGES", "CheckProblem", "EnvironmentClass", "Fork", "ForkPin",
        "Lock", "LockedPackage", "Sources", "chains_to", "check_lock", "environment_classes",
        "merge_forks", "selected_sets",
    ],
    "crosspin.lockfiles": [
        "LoadedLock", "LockData", "LockFile", "LockFormat", "format_of", "is_pylock_path",
        "load_lock", "merge_locks", "read_existing", "read_lock", "read_lock_text",
        "read_lockfile", "recorded_command",
    ],
    "crosspin.lockfiles.pylock": ["PylockFile", "PylockOptions", "read", "render"],
    "crosspin.lockfiles.requirements": ["RenderOptions", "RequirementsFile", "read", "render"],
    "crosspin.markers": [
        "conjoin", "disjoin", "environments_of", "evaluate", "marker_for", "simplify",
    ],
    "crosspin.metadata": [
        "BuildSettings", "DistMetadata", "MetadataProvider", "MetadataSource", "Release",
        "SdistLimits", "project_metadata", "stop_children", "unpack_sdist",
    ],
    "crosspin.pipeline": [
        "Client", "ClientPool", "CompileRequest", "CompileResult", "ParseCommand", "Reporter",
        "check_compile_inputs", "check_consistency", "check_stale", "compile_lock",
        "compile_order", "default_output", "file_sha256s", "not_newest", "run_compile",
    ],
    "crosspin.reqfile": [
        "GLOBAL_OPTIONS", "MAX_FILE_SIZE", "REQUIREMENT_OPTIONS", "FileRefused", "ReqLine",
        "expand_env_vars", "is_stdin", "logical_lines", "parse_text", "read_text_file", "spans",
    ],
    "crosspin.resolver": [
        "RESOLVELIB_VERSION", "Candidate", "Finder", "ForkResult", "HeldBack", "Metadata", "Pin",
        "PinsFor",
        "Rejection", "Resolution", "ResolveOptions", "ResolveRequest", "Root",
        "resolve_environment", "resolve_matrix",
    ],
    "crosspin.settings": [
        "Access", "CompileOptions", "CompileSettings", "ConfigChoice", "ConfigFiles",
        "IndexCommandLine", "IndexOptions", "InputSelection", "LockOutput", "PipConfig",
        "ToolConfig", "Tuning", "binary_set", "build_settings", "compile_settings",
        "index_settings", "load_config", "load_pip_config", "load_tool_config",
        "lock_index_settings", "parse_exclude_newer", "parse_upgrade_packages",
        "parse_uploaded_prior_to",
        "pip_environment",
    ],
    "crosspin.sync": [
        "LINK_MODES", "PROTECTED", "FileSource", "InstallOptions", "InstalledDist", "LinkMode",
        "Prepared", "Reporter",
        "SyncPlan", "SyncRequest", "SyncResult", "Target", "apply_plan", "choose_file",
        "create_venv", "export_requirements", "inspect_target", "make_plan", "plan_for",
        "prepare", "scan_installed", "session", "venv_python",
    ],
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _imports(name: str) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for every import of a module, in functions too."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                # "from pkg import sub" imports the module pkg.sub when there is one.
                sub = f"{module}.{alias.name}"
                yield node.lineno, sub if sub in MODULES else module


def _owner(module: str) -> str:
    """The package (or top-level module) of ``crosspin`` a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH: dict[str, set[str]] = {
    name: {target for _, target in _imports(name) if target in MODULES and target != name}
    for name in MODULES
}


def test_public_names_are_pinned_and_sorted() -> None:
    """Every package declares its public names; they are the pinned ones, isort-sorted."""
    packages = sorted(n for n, p in MODULES.items() if p.name == "__init__.py")
    assert packages == sorted(PUBLIC), "pin the public names of a new package here"
    for name, names in PUBLIC.items():
        module = importlib.import_module(name)
        assert module.__all__ == names, name
        key = sorted(names, key=lambda n: (not n.isupper(), not n[:1].isupper(), n))
        assert names == key, f"{name}.__all__ is not sorted"
        for public in names:
            assert hasattr(module, public), f"{name} does not define {public}"


def test_every_module_belongs_to_a_layer() -> None:
    """A new package or top-level module gets a place in the map (LAYERS and the docs)."""
    owners = {_owner(name) for name in MODULES} - {""}
    assert owners == set(LAYERS)


def test_arrows_point_down() -> None:
    """A module imports its own package and lower layers only: nothing imports cli."""
    wrong = []
    for name in MODULES:
        mine = _owner(name)
        for line, target in _imports(name):
            if not target.startswith("crosspin.") or target not in MODULES:
                continue
            theirs = _owner(target)
            if mine and theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{MODULES[name].relative_to(SRC)}:{line} imports {target}")
    assert wrong == []


def test_third_party_libraries_stay_behind_one_package() -> None:
    """httpx only in index, resolvelib only in resolver, installer only in sync, rich in cli."""
    wrong = []
    for name in MODULES:
        for line, target in _imports(name):
            home = ONLY_IN.get(target.split(".")[0])
            if home is not None and _owner(name) != home:
                wrong.append(f"{MODULES[name].relative_to(SRC)}:{line} imports {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    """No module reaches itself through imports (in functions included)."""
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(MODULES):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_imports_inside_functions_say_why() -> None:
    """An import inside a function has a '# lazy: <reason>' line above it (start-up, optional)."""
    silent = []
    for path in MODULES.values():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)) and not _says_why(
                    lines, inner.lineno
                ):
                    silent.append(f"{path.relative_to(SRC)}:{inner.lineno}")
    assert silent == []


def _says_why(lines: list[str], lineno: int) -> bool:
    """Whether the import group (and a ``try:``) above line ``lineno`` starts with '# lazy:'."""
    for text in reversed(lines[: lineno - 1]):
        stripped = text.strip()
        if stripped.startswith("# lazy:"):
            return True
        if not stripped.startswith(("import ", "from ", "try:", "#")):
            return False
    return False


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_function_takes_more_than_twelve_parameters(name: str) -> None:
    """Long parameter lists become small frozen request values."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    long = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
            if args.args and args.args[0].arg in ("self", "cls"):
                count -= 1
            if count > 12:
                long.append(f"{node.name} ({count})")
    assert long == []


def test_each_command_lives_in_its_own_cli_module() -> None:
    """One module per command in crosspin.cli, named after it."""
    from crosspin.cli import cli

    ctx = click.Context(cli)
    commands = cli.list_commands(ctx)
    modules = sorted(n.rpartition(".")[2] for n in MODULES if n.startswith("crosspin.cli."))
    assert commands == [m for m in modules if not m.startswith("_")]
    for name in commands:
        command = cli.get_command(ctx, name)
        assert command is not None
        assert command.callback is not None
        assert command.callback.__module__ == f"crosspin.cli.{name}"
