"""onnx.checker (with shape inference) on an exported model; prints what it holds.

    check_onnx.py MODEL.onnx
"""

import sys

import onnx


def main():
    model = onnx.load(sys.argv[1])
    onnx.checker.check_model(model, full_check=True)
    opset = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    ops = sorted({n.op_type for n in model.graph.node})
    print("ir", model.ir_version, "opset", opset)
    print("inputs", [i.name for i in model.graph.input])
    print("outputs", [o.name for o in model.graph.output])
    print("initializers", len(model.graph.initializer), "nodes", len(model.graph.node))
    print("ops", " ".join(ops))


if __name__ == "__main__":
    main()
