#pragma once

// The runtime half of an op: what its forward and backward kernels receive.
// Shapes were checked by the schema's infer before any kernel runs, so
// kernels only assert (std::logic_error), they never diagnose.

#include "graph/attribute.hpp"
#include "tensor/tensor.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

class BufferPool;

/// Arguments of one kernel call. Outputs (and gradients) are allocated by the
/// caller with the inferred shapes; a kernel never resizes them.
/// Backward kernels *accumulate* (+=) into inputGrads and paramGrads, so a
/// tensor that fans out collects the sum of its consumers' gradients.
struct KernelContext {
    const AttrMap* attrs = nullptr;    ///< resolved: every attribute present, coerced
    std::vector<const Tensor*> inputs; ///< in input-port order (variadic: a, b, c, …)
    std::vector<Tensor*> outputs;      ///< in output-port order
    std::vector<Tensor*> params; ///< in ParamSpec order; forward may update non-trainable ones
    std::vector<Tensor>* saved = nullptr; ///< per-node state kept from forward to backward
    /// The lean memory plan's buffers: where stateTensor() takes new state from (the
    /// executor gives it back after the node's backward). nullptr: the heap.
    BufferPool* pool = nullptr;
    std::uint64_t stateTag = 0; ///< the pool's name for this node's state (slot added)
    bool training = true;       ///< Dropout and BatchNormalization behave differently
    std::uint64_t seed = 0;     ///< per node and step (Dropout)

    // Backward only.
    std::vector<const Tensor*> outputGrads; ///< dLoss/dOutput, parallel to outputs
    std::vector<Tensor*> inputGrads;        ///< nullptr where no gradient is wanted
    std::vector<Tensor*> paramGrads;        ///< nullptr for non-trainable parameters
    /// The lean memory plan frees the output gradients right after this call: a kernel
    /// may then overwrite them (the pre-activation gradient in place of a scratch copy).
    bool outputGradsDisposable = false;
    /// Parallel to inputGrads (or empty): true where the gradient was just lent by the
    /// lean plan's pool and holds garbage, for an op that assignsFreshInputGrads to
    /// overwrite rather than accumulate into.
    std::vector<bool> freshInputGrads;

    const Tensor& in(int i) const { return *inputs[static_cast<std::size_t>(i)]; }
    Tensor& out(int i) const { return *outputs[static_cast<std::size_t>(i)]; }
    Tensor& param(int i) const { return *params[static_cast<std::size_t>(i)]; }
    const Tensor& outGrad(int i) const { return *outputGrads[static_cast<std::size_t>(i)]; }
    /// Output gradient i to overwrite, or nullptr when someone reads it after this call.
    float* disposableOutGrad(int i) const;
    Tensor* inGrad(int i) const {
        return static_cast<std::size_t>(i) < inputGrads.size()
                   ? inputGrads[static_cast<std::size_t>(i)]
                   : nullptr;
    }
    Tensor* paramGrad(int i) const {
        return static_cast<std::size_t>(i) < paramGrads.size()
                   ? paramGrads[static_cast<std::size_t>(i)]
                   : nullptr;
    }
    bool inputGradFresh(int i) const {
        return static_cast<std::size_t>(i) < freshInputGrads.size() &&
               freshInputGrads[static_cast<std::size_t>(i)];
    }
    std::vector<Tensor>& state() const;
    /// Saved state `slot` with this shape and dtype, for the forward to fill: every
    /// element must be written, since its data is last step's or uninitialised. Kept
    /// when it already has the shape, else new (from the pool where there is one).
    Tensor& stateTensor(std::size_t slot, const Shape& shape, DType dtype) const;

    std::int64_t getInt(std::string_view name) const;
    double getFloat(std::string_view name) const;
    bool getBool(std::string_view name) const;
    const std::string& getString(std::string_view name) const;
    std::array<std::int64_t, 2> getPair(std::string_view name) const;
    const std::vector<std::int64_t>& getList(std::string_view name) const;
    bool hasAttr(std::string_view name) const;
};

using KernelFn = std::function<void(const KernelContext&)>;
/// Says why a node's output holds NaN/Inf for one sample, or "" when it has no
/// better explanation than the values themselves (called after forward).
using ExplainFn = std::function<std::string(const KernelContext&, std::int64_t sample)>;

} // namespace segforge::core
