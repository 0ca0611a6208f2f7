#!/usr/bin/env python3
"""Prints which folders of core/ include which, bottom layer first, and exits
non-zero when the folders include each other in a cycle (the build enforces
the layers of core/CMakeLists.txt; this shows the picture and catches a cycle
even where a folder links more than it should).

    scripts/include_graph.py [CORE_DIR]      (default: core/ next to this script)
"""
import os
import re
import sys

INCLUDE = re.compile(r'\s*#\s*include\s+"([^"]+)"')


def folder_graph(core):
    folders = sorted(d for d in os.listdir(core) if os.path.isdir(os.path.join(core, d)))
    graph = {f: {} for f in folders}
    for folder in folders:
        for dirpath, _, files in os.walk(os.path.join(core, folder)):
            for name in sorted(files):
                if not name.endswith((".hpp", ".cpp", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1).split("/")[0]
                        if target != folder and target in graph:
                            where = f"{os.path.relpath(path, os.path.dirname(core))}:{number}"
                            graph[folder].setdefault(target, where)
    return graph


def find_cycle(graph):
    state = {f: 0 for f in graph}  # 0 new, 1 on the stack, 2 done
    stack = []

    def visit(f):
        state[f] = 1
        stack.append(f)
        for t in sorted(graph[f]):
            if state[t] == 1:
                return stack[stack.index(t):] + [t]
            if state[t] == 0:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[f] = 2
        return None

    for f in sorted(graph):
        if state[f] == 0:
            found = visit(f)
            if found:
                return found
    return None


def layers(graph):
    """Folders by height: 0 for those that include no other folder."""
    height = {}

    def h(f):
        if f not in height:
            height[f] = 0
            height[f] = 1 + max((h(t) for t in graph[f]), default=-1)
        return height[f]

    for f in graph:
        h(f)
    return height


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    core = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "core"))
    graph = folder_graph(core)
    cycle = find_cycle(graph)
    if cycle:
        print("include cycle between folders of core/: " + " -> ".join(cycle), file=sys.stderr)
        for a, b in zip(cycle, cycle[1:]):
            print(f"  {a} -> {b}: {graph[a][b]}", file=sys.stderr)
        return 1
    height = layers(graph)
    for level in range(max(height.values()) + 1):
        for f in sorted(x for x in graph if height[x] == level):
            uses = ", ".join(sorted(graph[f])) or "-"
            print(f"layer {level}  {f:<10} includes {uses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
