"""Compiles a SegForge Keras export and compares the layers it declares.

    check_keras_script.py SCRIPT NAMES.txt

NAMES.txt holds the expected layer names, one a line. The script must
compile, list exactly those names in LAYER_NAMES, and build_model() must
create one layer (or keras.Input) with each name. Keras itself is not needed.
"""

import ast
import py_compile
import sys


def main():
    script, names_file = sys.argv[1:]
    py_compile.compile(script, doraise=True)
    with open(names_file, encoding="utf-8") as f:
        expected = [line.rstrip("\n") for line in f if line.strip()]
    with open(script, encoding="utf-8") as f:
        tree = ast.parse(f.read(), script)
    declared, built = None, []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "LAYER_NAMES" for t in node.targets):
            declared = ast.literal_eval(node.value)
        if isinstance(node, ast.FunctionDef) and node.name == "build_model":
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    for kw in call.keywords:
                        if kw.arg == "name" and isinstance(kw.value, ast.Constant) and \
                                getattr(call.func, "attr", "") != "Model":
                            built.append(kw.value.value)
    problems = []
    if declared != expected:
        problems.append(f"LAYER_NAMES {declared} != expected {expected}")
    if sorted(built) != sorted(expected):
        problems.append(f"build_model() names {sorted(built)} != expected {sorted(expected)}")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
