#pragma once

#include "tensor/tensor.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace segforge::core {

/// One batch as the Dataset node emits it: tensors in the data's own dtypes
/// (usually uint8), NHWC. The graph's explicit Rescale/Cast nodes convert them.
struct Batch {
    Tensor image;                   ///< B×H×W×C
    Tensor mask;                    ///< B×H×W×Cm
    std::vector<std::string> names; ///< file stem of each sample, for reports
};

/// Where the trainer gets its data. Implemented by core/data's pipeline (image
/// folders) and by small synthetic sources in tests. Deterministic: the same
/// seed and epoch give the same batches in the same order.
class BatchSource {
public:
    virtual ~BatchSource() = default;
    virtual std::size_t trainBatchCount() const = 0; ///< per epoch
    virtual std::size_t validationBatchCount() const = 0;
    /// Prepares epoch `epoch` (0-based): reshuffles the training order from the seed.
    virtual void beginEpoch(int epoch) = 0;
    virtual Batch trainBatch(std::size_t index) = 0;
    virtual Batch validationBatch(std::size_t index) = 0;
};

} // namespace segforge::core
