"""The layers of app/ hold: factory -> resources -> kernel -> models -> extensions.

Read from the import graph (every ``import`` and ``from ... import``, at any
depth, function-level and TYPE_CHECKING imports included):

- a resource (a folder of app/ with a routes.py: gifts, people, lists,
  access, and any that comes) never imports another resource's routes,
  schemas or cursors; it may read another's store where it works on that
  data. ``app/access`` imports no other resource at all;
- the kernel (every other module of app/, app/models/ included) imports no
  resource: only the factory (app/__init__.py) and app/backup.py, which tie
  everything together, may;
- the models import nothing of app/ but the models and app/extensions.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
# Modules that tie every resource together.
TIES = {"app", "app.backup"}
# What a resource keeps to itself.
PRIVATE = {"routes", "schemas", "cursors"}
ACCESS = "access"


def module_names(root: Path) -> dict[str, Path]:
    """Every module of the package at ``root`` (a folder named app), by name."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def resources(root: Path) -> set[str]:
    """The resource folders: packages directly under ``root`` with a routes.py."""
    return {
        f"{root.name}.{folder.name}"
        for folder in root.iterdir()
        if (folder / "__init__.py").is_file() and (folder / "routes.py").is_file()
    }


def imports(name: str, path: Path, known: set[str]) -> list[tuple[int, str, ast.stmt]]:
    """(line, imported module, statement) for each import in the module.

    ``from a.b import c`` imports ``a.b.c`` when that is a module, else ``a.b``;
    relative imports are resolved against the module's package.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, node) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.append((node.lineno, target if target in known else base, node))
    return found


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def resource_of(module: str, folders: set[str]) -> str | None:
    return next((folder for folder in folders if within(module, folder)), None)


def is_private(module: str) -> bool:
    """A resource's routes, schemas or cursors (or a module inside one)."""
    parts = module.split(".")
    return len(parts) > 2 and parts[2] in PRIVATE


def broken_rules(root: Path) -> list[str]:
    """One line per import that breaks a rule, naming the module and import."""
    known = module_names(root)
    folders = resources(root)
    problems = []
    for name, path in known.items():
        own = resource_of(name, folders)
        for line, target, node in imports(name, path, set(known)):
            if not within(target, "app"):
                continue  # the standard library or a third-party package
            other = resource_of(target, folders)
            why = None
            if own is not None and other is not None and other != own:
                if own.rpartition(".")[2] == ACCESS:
                    why = "access imports no other resource"
                elif is_private(target):
                    why = (
                        "a resource never imports another's routes, schemas or cursors"
                    )
            elif own is None and other is not None and name not in TIES:
                why = "the kernel imports no resource"
            elif within(name, "app.models") and not (
                within(target, "app.models") or target == "app.extensions"
            ):
                why = "the models import only models and extensions"
            if why:
                where = path.relative_to(root.parent)
                problems.append(f"{where}:{line} `{ast.unparse(node)}`: {why}")
    return list(dict.fromkeys(problems))  # once per statement and rule


def test_the_layers_of_app_hold() -> None:
    assert {"app.access", "app.gifts", "app.lists", "app.people"} <= resources(APP)
    problems = broken_rules(APP)
    assert not problems, "imports across the layers:\n" + "\n".join(problems)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)


def test_each_broken_rule_is_named_with_its_module_and_import(
    tmp_path: Path,
) -> None:
    root = tmp_path / "app"
    _write(
        root,
        {
            "__init__.py": "from app.gifts.routes import blp\n",
            "backup.py": "from app.people.schemas import PersonRecordSchema\n",
            "fields.py": "import sqlalchemy\nfrom app.models import MAX_URL\n",
            "resources.py": "def later():\n    from app.gifts import cursors\n",
            "models/__init__.py": "from app.extensions import db\n",
            "models/gift.py": "from app import fields\n",
            "extensions.py": "",
            "gifts/__init__.py": "",
            "gifts/routes.py": "from app.gifts import schemas, store\n",
            "gifts/schemas.py": "from app.fields import MAX_URL\n",
            "gifts/cursors.py": "",
            "gifts/store.py": "",
            "people/__init__.py": "",
            "people/routes.py": (
                "from app.gifts import store\n"
                "from ..gifts.schemas import GiftSchema, MAX_ID\n"
                "import app.gifts\n"
            ),
            "people/store.py": "import app.gifts.store\n",
            "access/__init__.py": "",
            "access/routes.py": "from app.access import auth\n",
            "access/auth.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from app.people.store import Person\n"
            ),
            "notes/__init__.py": "from app.gifts.routes import blp\n",
        },
    )

    assert sorted(broken_rules(root)) == [
        "app/access/auth.py:3 `from app.people.store import Person`:"
        " access imports no other resource",
        "app/models/gift.py:1 `from app import fields`:"
        " the models import only models and extensions",
        "app/notes/__init__.py:1 `from app.gifts.routes import blp`:"
        " the kernel imports no resource",
        "app/people/routes.py:2 `from ..gifts.schemas import GiftSchema, MAX_ID`:"
        " a resource never imports another's routes, schemas or cursors",
        "app/resources.py:2 `from app.gifts import cursors`:"
        " the kernel imports no resource",
    ]
