#pragma once

// The output ports of a concrete node. Most ops have the fixed outputs their
// schema lists; an op that declares the attribute `num_outputs` (the KerasLayer
// placeholder, which stands for a layer of any arity) has that many, named
// after its first output: output, output_1, output_2, … — the outputs'
// counterpart of variadic inputs (OpSchema::inputNames).

#include "ops/op_schema.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

/// The attribute that gives a node its number of outputs.
inline constexpr const char* kNumOutputsAttr = "num_outputs";
/// The most outputs one node may have.
inline constexpr int kMaxVariadicOutputs = 16;

/// Output port names of a concrete node (expands num_outputs).
std::vector<std::string> outputNames(const OpSchema& schema, const Node& node);
/// True when the node has an output port of that name.
bool hasOutputPort(const OpSchema& schema, const Node& node, std::string_view port);
/// The name of output `index` (0-based) of an op with variadic outputs: output, output_1, ….
std::string variadicOutputName(const OpSchema& schema, int index);

} // namespace segforge::core
