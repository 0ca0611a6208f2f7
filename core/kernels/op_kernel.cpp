#include "kernels/op_kernel.hpp"

#include "tensor/buffer_pool.hpp"

#include <stdexcept>

namespace segforge::core {

namespace {

const AttrValue& lookup(const AttrMap* attrs, std::string_view name) {
    if (!attrs)
        throw std::logic_error("kernel called without attributes");
    auto it = attrs->find(name);
    if (it == attrs->end()) // the executor resolves every attribute: a kernel bug
        throw std::logic_error("kernel reads unknown attribute '" + std::string(name) + "'");
    return it->second;
}

} // namespace

std::vector<Tensor>& KernelContext::state() const {
    if (!saved)
        throw std::logic_error("kernel needs saved state but none was provided");
    return *saved;
}

Tensor& KernelContext::stateTensor(std::size_t slot, const Shape& shape, DType dtype) const {
    std::vector<Tensor>& s = state();
    if (s.size() <= slot)
        s.resize(slot + 1);
    Tensor& t = s[slot];
    if (t.shape() == shape && t.dtype() == dtype && t.hasStorage())
        return t;
    if (!pool) {
        t = Tensor(shape, dtype);
        return t;
    }
    if (t.hasStorage() && t.numel() > 0)
        pool->give(t.takeStorage());
    t = Tensor::unallocated(shape, dtype);
    t.adoptStorage(pool->take(t.dataBytes(), stateTag ? stateTag + slot : 0));
    return t;
}

std::int64_t KernelContext::getInt(std::string_view name) const {
    return std::get<std::int64_t>(lookup(attrs, name));
}
double KernelContext::getFloat(std::string_view name) const {
    return std::get<double>(lookup(attrs, name));
}
bool KernelContext::getBool(std::string_view name) const {
    return std::get<bool>(lookup(attrs, name));
}
const std::string& KernelContext::getString(std::string_view name) const {
    return std::get<std::string>(lookup(attrs, name));
}
std::array<std::int64_t, 2> KernelContext::getPair(std::string_view name) const {
    const auto& v = getList(name);
    return {v.at(0), v.at(1)};
}
const std::vector<std::int64_t>& KernelContext::getList(std::string_view name) const {
    return std::get<std::vector<std::int64_t>>(lookup(attrs, name));
}
bool KernelContext::hasAttr(std::string_view name) const {
    return attrs && attrs->find(name) != attrs->end();
}

float* KernelContext::disposableOutGrad(int i) const {
    // The executor hands every output gradient over as a mutable tensor it owns; the
    // pointers are const here only so that kernels do not write them by accident.
    return outputGradsDisposable
               ? const_cast<Tensor*>(outputGrads[static_cast<std::size_t>(i)])->f32()
               : nullptr;
}

} // namespace segforge::core
