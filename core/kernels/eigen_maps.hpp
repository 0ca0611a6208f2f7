#pragma once

// Row-major Eigen views over raw tensor memory (NHWC rows are matrix rows).

#include <Eigen/Core>
#include <cstdint>

namespace segforge::core::kernels {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<RowMatrix>;
using ConstMatrixMap = Eigen::Map<const RowMatrix>;
using RowVectorMap = Eigen::Map<Eigen::RowVectorXf>;
using ConstRowVectorMap = Eigen::Map<const Eigen::RowVectorXf>;

inline MatrixMap matrix(float* data, std::int64_t rows, std::int64_t cols) {
    return MatrixMap(data, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}
inline ConstMatrixMap matrix(const float* data, std::int64_t rows, std::int64_t cols) {
    return ConstMatrixMap(data, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}

} // namespace segforge::core::kernels
