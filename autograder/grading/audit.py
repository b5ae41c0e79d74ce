"""A static audit of a submission: where an instructor should look, never a score.

Each ``.py`` file of the graded folder is parsed (never run) and every use of
something a homework has no need for is listed with its line: the grader or
pytest, the interpreter's internals (``sys.modules``, frames, ``gc``,
``builtins``), native code, signals, processes, the network, ending the
process, replacing attributes of imported modules (``torch.equal = ...``),
files written by path, and references to the solutions or the results file.
Isolation (:mod:`autograder.grading.isolation`) already stops what these
could do to other tests and to the results; what it cannot stop, code that
rewrites the checks running beside it, needs exactly these, so the audit
shows where such code would be. The list goes to the instructor (the end of
the grader's output, hidden from students on Gradescope, and ``extra_data``
in ``results.json``); it never changes a score.
"""

from __future__ import annotations

import ast
from pathlib import Path

MODULES = {
    "autograder": "the grader itself",
    "pytest": "pytest, which runs the grader",
    "_pytest": "pytest's internals",
    "conftest": "the grader's configuration",
    "solutions": "the course's solutions",
    "ctypes": "native code (ctypes)",
    "cffi": "native code (cffi)",
    "signal": "signal handling",
    "faulthandler": "the fault handler",
    "resource": "process limits",
    "subprocess": "starting processes",
    "multiprocessing": "starting processes",
    "pty": "starting processes",
    "socket": "the network",
    "urllib": "the network",
    "http": "the network",
    "requests": "the network",
    "gc": "the garbage collector's view of every object",
    "inspect": "frames and source of other code",
    "builtins": "Python's built-in functions",
    "importlib": "importing modules by path",
    "atexit": "code that runs at exit",
    "threading": "threads",
    "_thread": "threads",
}
CALLS = {
    "os._exit": "ends the process",
    "os.kill": "sends signals",
    "os.killpg": "sends signals",
    "os.fork": "starts processes",
    "os.system": "runs shell commands",
    "os.popen": "runs shell commands",
    "os.setsid": "detaches from the grader",
    "os.chdir": "changes the working folder",
    "os.putenv": "changes the environment",
    "sys.exit": "ends the program",
    "sys._getframe": "reads the caller's frames",
    "sys.settrace": "traces other code",
    "sys.setprofile": "traces other code",
    "torch.set_default_dtype": "changes PyTorch's default dtype for everything after it",
    "torch.set_default_device": "changes PyTorch's default device for everything after it",
    "torch.set_grad_enabled": "switches gradients on or off for everything after it",
    "torch.set_num_threads": "changes PyTorch's thread count",
    "torch.save": "writes a file",
    "__import__": "imports by name",
    "exec": "runs code from a string",
    "eval": "runs code from a string",
    "compile": "compiles code from a string",
}
ATTRIBUTES = {"sys.modules": "the table of loaded modules", "__builtins__": "Python's built-in functions"}
WORDS = ("solutions", "results.json", "/autograder", "autograder/")
WRITE_MODES = set("wax+")


def _dotted(node: ast.AST) -> str | None:
    """``torch.nn.functional.relu`` for a chain of names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


class _Auditor(ast.NodeVisitor):
    def __init__(self):
        self.findings: list[tuple[int, str]] = []
        self.aliases: dict[str, str] = {}  # local name -> imported module

    def note(self, node: ast.AST, what: str) -> None:
        self.findings.append((getattr(node, "lineno", 0), what))

    def _module(self, node: ast.AST, name: str) -> None:
        root = name.split(".")[0]
        if root in MODULES:
            self.note(node, f"imports {name}: {MODULES[root]}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(node, alias.name)
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.note(node, "a relative import: the file is graded alone, so it imports the grader's neighbours")
        if node.module:
            self._module(node, node.module)
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                if f"{node.module}.{alias.name}" in CALLS:
                    self.note(node, f"imports {node.module}.{alias.name}: {CALLS[f'{node.module}.{alias.name}']}")
        self.generic_visit(node)

    def _resolved(self, node: ast.AST) -> str | None:
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        module = self.aliases.get(head)
        return f"{module}.{rest}" if module and rest else (module or dotted)

    def visit_Call(self, node: ast.Call) -> None:
        name = self._resolved(node.func)
        if name in CALLS:
            self.note(node, f"calls {name}: {CALLS[name]}")
        if name in ("open", "io.open", "builtins.open") and self._writes(node):
            self.note(node, "opens a file for writing")
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("write_text", "write_bytes"):
            self.note(node, f"writes a file ({node.func.attr})")
        self.generic_visit(node)

    @staticmethod
    def _writes(node: ast.Call) -> bool:
        mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
        return isinstance(mode, ast.Constant) and isinstance(mode.value, str) and bool(WRITE_MODES & set(mode.value))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = self._resolved(node)
        if name in ATTRIBUTES:
            self.note(node, f"uses {name}: {ATTRIBUTES[name]}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in ATTRIBUTES:
            self.note(node, f"uses {node.id}: {ATTRIBUTES[node.id]}")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assigned(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._assigned(node.target)
        self.generic_visit(node)

    def _assigned(self, target: ast.AST) -> None:
        if isinstance(target, ast.Attribute):
            dotted = _dotted(target)
            if dotted and dotted.split(".")[0] in self.aliases:
                self.note(target, f"replaces {self._resolved(target)}, an attribute of an imported module")

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for word in WORDS:
                if word in node.value:
                    self.note(node, f"refers to {word!r} in a string")
                    break


def audit_source(source: str, filename: str) -> list[str]:
    """The findings for one file, as ``"<file>, line <n>: <what>"``."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as error:
        return [f"{filename}: could not be parsed ({type(error).__name__}), so it was not audited"]
    auditor = _Auditor()
    auditor.visit(tree)
    return [f"{filename}, line {line}: {what}" for line, what in sorted(set(auditor.findings))]


def audit_folder(folder: Path) -> list[str]:
    """The findings for every ``.py`` file directly in ``folder`` (the graded files)."""
    findings = []
    for path in sorted(folder.glob("*.py")):
        try:
            source = path.read_text(errors="replace")
        except OSError as error:
            findings.append(f"{path.name}: could not be read ({error.strerror})")
            continue
        findings.extend(audit_source(source, path.name))
    return findings
