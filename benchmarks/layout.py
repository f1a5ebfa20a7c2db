"""How hard the client is to find your way in: the figures issue 16 asks for.

Prints the package's lines and modules (the client only: ``testing/``, the
emulator, is left out), its largest modules and functions, and the hops of one
``stream()`` call: the package's own functions it runs, and their modules, taken
with ``sys.setprofile`` on a real stream from the bundled emulator. Named
functions leave out comprehensions, lambdas and the ``__init__`` dataclasses
generate. Give another checkout's root to measure that one instead::

    python benchmarks/layout.py [CHECKOUT]
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent)
PACKAGE = ROOT.resolve() / "langchain_gptoss"
sys.path.insert(0, str(PACKAGE.parent))  # the hops are walked in that checkout
UNNAMED = ("<listcomp>", "<genexpr>", "<dictcomp>", "<setcomp>", "<lambda>")


def client_modules() -> list[Path]:
    """Every module of the client: the package minus the emulator."""
    return sorted(p for p in PACKAGE.rglob("*.py") if "testing" not in p.parts)


def functions(path: Path) -> list[tuple[int, str]]:
    """(lines, qualified name) of each function or method in ``path``."""
    tree = ast.parse(path.read_text())
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (child.end_lineno or child.lineno) - child.lineno + 1
                found.append((lines, f"{path.stem}.{prefix}{child.name}"))
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def stream_hops() -> tuple[set[str], set[str]]:
    """The package functions and modules one ``stream()`` call runs."""
    from langchain_gptoss.testing import TirEmulator

    with TirEmulator() as emulator:
        model = emulator.chat_model(max_retries=0)
        list(model.stream("warm up"))  # imports and pools are not the walk
        seen: set[tuple[str, str]] = set()

        def profile(frame, event, arg):  # noqa: ANN001, ANN202, ARG001
            if event == "call":
                name = frame.f_globals.get("__name__", "")
                if name.startswith("langchain_gptoss") and ".testing" not in name:
                    seen.add((name, frame.f_code.co_qualname))

        sys.setprofile(profile)
        try:
            list(model.stream("Say hi"))
        finally:
            sys.setprofile(None)
    names = {f"{module}.{function}" for module, function in seen}
    return names, {module for module, _ in seen}


def main() -> None:
    """Print the figures."""
    modules = client_modules()
    sizes = sorted(
        ((len(p.read_text().splitlines()), p) for p in modules), reverse=True
    )
    total = sum(size for size, _ in sizes)
    print(f"client: {total:,} lines in {len(modules)} modules (testing/ excluded)")
    print("largest modules:")
    for size, path in sizes[:5]:
        print(f"  {size:5d}  {path.relative_to(PACKAGE.parent)}")
    every = sorted((f for p in modules for f in functions(p)), reverse=True)
    print("largest functions:")
    for lines, name in every[:5]:
        print(f"  {lines:5d}  {name}")
    names, hops = stream_hops()
    named = {n for n in names if "__create_fn__" not in n and not n.endswith(UNNAMED)}
    print(
        f"one stream(): {len(names)} functions ({len(named)} named) "
        f"in {len(hops)} modules"
    )
    for module in sorted(hops):
        print(f"  {module}")


if __name__ == "__main__":
    main()
