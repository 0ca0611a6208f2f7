// The portable direct-convolution micro-kernels: conv_direct_body.hpp over a
// plain 8-float array (the compiler vectorises what the baseline ISA allows).
// Always built; the fallback where AVX2 is missing, and tested on every machine.

#include "kernels/conv_direct_jobs.hpp"

#include <cstring>

namespace segforge::core::kernels::direct {

namespace {

#if defined(__GNUC__)
// Two 4-lane vectors per register: SSE2 (or NEON) in any build, without the ABI
// warnings a 32-byte vector type draws when AVX is off.
typedef float Float4 __attribute__((vector_size(16)));

struct PortableVec {
    struct Reg {
        Float4 lo, hi;
    };
    static constexpr int kLanes = 8;
    static Reg zero() { return Reg{Float4{}, Float4{}}; }
    static Reg load(const float* p) {
        Reg r;
        std::memcpy(&r.lo, p, sizeof r.lo);
        std::memcpy(&r.hi, p + 4, sizeof r.hi);
        return r;
    }
    static void store(float* p, const Reg& r) {
        std::memcpy(p, &r.lo, sizeof r.lo);
        std::memcpy(p + 4, &r.hi, sizeof r.hi);
    }
    static Reg broadcast(const float* p) {
        const float v = *p;
        return Reg{Float4{v, v, v, v}, Float4{v, v, v, v}};
    }
    static Reg fma(const Reg& a, const Reg& b, const Reg& c) {
        return Reg{a.lo * b.lo + c.lo, a.hi * b.hi + c.hi};
    }
    static Reg add(const Reg& a, const Reg& b) { return Reg{a.lo + b.lo, a.hi + b.hi}; }
    static Reg sub(const Reg& a, const Reg& b) { return Reg{a.lo - b.lo, a.hi - b.hi}; }
    static Reg max0(const Reg& a) {
        float v[8];
        store(v, a);
        for (float& x : v)
            x = x > 0 ? x : 0.0f;
        return load(v);
    }
    static Reg wherePositive(const Reg& m, const Reg& a) {
        float mv[8], v[8];
        store(mv, m);
        store(v, a);
        for (int i = 0; i < 8; ++i)
            v[i] = mv[i] > 0 ? v[i] : 0.0f;
        return load(v);
    }
};
#else
struct PortableVec {
    struct Reg {
        float v[8];
    };
    static constexpr int kLanes = 8;
    static Reg zero() { return Reg{}; }
    static Reg load(const float* p) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = p[i];
        return r;
    }
    static void store(float* p, const Reg& r) {
        for (int i = 0; i < 8; ++i)
            p[i] = r.v[i];
    }
    static Reg broadcast(const float* p) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = *p;
        return r;
    }
    static Reg fma(const Reg& a, const Reg& b, const Reg& c) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = a.v[i] * b.v[i] + c.v[i];
        return r;
    }
    static Reg add(const Reg& a, const Reg& b) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = a.v[i] + b.v[i];
        return r;
    }
    static Reg sub(const Reg& a, const Reg& b) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = a.v[i] - b.v[i];
        return r;
    }
    static Reg max0(const Reg& a) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = a.v[i] > 0 ? a.v[i] : 0.0f;
        return r;
    }
    static Reg wherePositive(const Reg& m, const Reg& a) {
        Reg r;
        for (int i = 0; i < 8; ++i)
            r.v[i] = m.v[i] > 0 ? a.v[i] : 0.0f;
        return r;
    }
};
#endif

#include "kernels/conv_direct_body.hpp"
#include "kernels/conv_winograd_body.hpp"

} // namespace

namespace {
constexpr MicroKernels kPortable{&rowKernel<PortableVec>,
                                 &weightKernel<PortableVec>,
                                 &winogradInput<PortableVec>,
                                 &winogradOutput<PortableVec>,
                                 &winogradFilter<PortableVec>,
                                 &winogradGradient<PortableVec>,
                                 &winogradFilterGradient<PortableVec>};
}

const MicroKernels& portableKernels() {
    return kPortable;
}

} // namespace segforge::core::kernels::direct
