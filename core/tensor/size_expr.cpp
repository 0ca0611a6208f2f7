#include "tensor/size_expr.hpp"

#include <limits>
#include <numeric>

namespace segforge::core {
namespace {

using Step = SizeExpr::Step;
using Kind = SizeExpr::Step::Kind;

/// ⌊a/b⌋ for b > 0, rounding toward −∞ (C++ rounds toward zero).
std::int64_t floorDivide(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && (a < 0))
        --q;
    return q;
}

/// a·b, saturated: moduli of absurd graphs must not wrap around.
std::int64_t saturatingMul(std::int64_t a, std::int64_t b) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max() / 4;
    if (a != 0 && b > kMax / a)
        return kMax;
    return a * b;
}

std::string number(std::int64_t v) {
    return v < 0 ? "−" + std::to_string(-v) : std::to_string(v);
}

/// " + c" or " − c".
std::string addend(std::int64_t c) {
    return c < 0 ? " − " + std::to_string(-c) : " + " + std::to_string(c);
}

} // namespace

SizeExpr SizeExpr::constant(std::int64_t value) {
    SizeExpr e;
    e.m_known = true;
    e.m_constant = value;
    return e;
}

SizeExpr SizeExpr::variable(std::string name) {
    SizeExpr e;
    e.m_known = true;
    e.m_variable = std::move(name);
    return e;
}

std::optional<std::int64_t> SizeExpr::constantValue() const {
    if (!isConstant())
        return std::nullopt;
    return m_constant;
}

SizeExpr SizeExpr::plus(std::int64_t c) const {
    if (!m_known || c == 0)
        return *this;
    if (isConstant())
        return constant(m_constant + c);
    SizeExpr e = *this;
    if (!e.m_steps.empty() && e.m_steps.back().kind == Kind::Add) {
        e.m_steps.back().value += c;
        if (e.m_steps.back().value == 0)
            e.m_steps.pop_back();
    } else {
        e.m_steps.push_back({Kind::Add, c});
    }
    return e;
}

SizeExpr SizeExpr::times(std::int64_t k) const {
    if (!m_known || k == 1)
        return *this;
    if (isConstant())
        return constant(m_constant * k);
    if (k == 0)
        return constant(0);
    SizeExpr e = *this;
    if (!e.m_steps.empty() && e.m_steps.back().kind == Kind::Add) {
        // (y + c)·k = y·k + c·k: addends stay outermost, where they fold.
        const std::int64_t c = e.m_steps.back().value;
        e.m_steps.pop_back();
        return e.times(k).plus(c * k);
    }
    if (!e.m_steps.empty() && e.m_steps.back().kind == Kind::Mul)
        e.m_steps.back().value *= k;
    else
        e.m_steps.push_back({Kind::Mul, k});
    return e;
}

SizeExpr SizeExpr::floorDiv(std::int64_t d) const {
    if (!m_known)
        return *this;
    if (d <= 0)
        return SizeExpr{};
    if (d == 1)
        return *this;
    if (isConstant())
        return constant(floorDivide(m_constant, d));
    // The value is k·y + c, where y is the rest (a variable or a floor).
    SizeExpr base = *this;
    std::int64_t c = 0;
    std::int64_t k = 1;
    if (!base.m_steps.empty() && base.m_steps.back().kind == Kind::Add) {
        c = base.m_steps.back().value;
        base.m_steps.pop_back();
    }
    if (!base.m_steps.empty() && base.m_steps.back().kind == Kind::Mul) {
        k = base.m_steps.back().value;
        base.m_steps.pop_back();
    }
    // ⌊(k·y + c)/d⌋ = ⌊((k/g)·y + ⌊c/g⌋)/(d/g)⌋ for g = gcd(k, d).
    const std::int64_t g = std::gcd(k, d);
    k /= g;
    d /= g;
    c = floorDivide(c, g);
    if (d == 1)
        return base.times(k).plus(c);
    // Whole multiples of d leave the floor: the addend inside lies in [0, d).
    const std::int64_t q = floorDivide(c, d);
    const std::int64_t rem = c - q * d;
    if (k == 1 && !base.m_steps.empty() && base.m_steps.back().kind == Kind::FloorDiv) {
        // ⌊(⌊z/d1⌋ + rem)/d⌋ = ⌊(z + rem·d1)/(d1·d)⌋.
        const std::int64_t d1 = base.m_steps.back().value;
        base.m_steps.pop_back();
        return base.plus(rem * d1).floorDiv(d1 * d).plus(q);
    }
    if (k != 1)
        base.m_steps.push_back({Kind::Mul, k});
    if (rem != 0)
        base.m_steps.push_back({Kind::Add, rem});
    base.m_steps.push_back({Kind::FloorDiv, d});
    return base.plus(q);
}

SizeExpr SizeExpr::ceilDiv(std::int64_t d) const {
    if (d <= 0)
        return SizeExpr{};
    return plus(d - 1).floorDiv(d);
}

std::optional<std::int64_t> SizeExpr::evaluate(std::int64_t variableValue) const {
    if (!m_known)
        return std::nullopt;
    if (isConstant())
        return m_constant;
    std::int64_t v = variableValue;
    for (const Step& s : m_steps) {
        switch (s.kind) {
        case Kind::Add:
            v += s.value;
            break;
        case Kind::Mul:
            v *= s.value;
            break;
        case Kind::FloorDiv:
            v = floorDivide(v, s.value);
            break;
        }
    }
    return v;
}

std::int64_t SizeExpr::modulus() const {
    if (!isSymbolic())
        return 1;
    // On H = M·k + r the value so far is A·k + B with A = M·p/q (p/q the slope
    // in lowest terms). A floor by d stays affine in k for every r iff d | A.
    std::int64_t m = 1;
    std::int64_t p = 1;
    std::int64_t q = 1;
    for (const Step& s : m_steps) {
        if (s.kind == Kind::Mul) {
            p = saturatingMul(p, s.value);
        } else if (s.kind == Kind::FloorDiv) {
            const std::int64_t need = saturatingMul(q, s.value / std::gcd(p, s.value));
            m = saturatingMul(m / std::gcd(m, need), need);
            q = saturatingMul(q, s.value);
        }
        const std::int64_t g = std::gcd(p, q);
        if (g > 1) {
            p /= g;
            q /= g;
        }
    }
    return m;
}

std::pair<std::int64_t, std::int64_t> SizeExpr::onResidueClass(std::int64_t M,
                                                               std::int64_t r) const {
    const std::int64_t b = evaluate(r).value_or(0);
    const std::int64_t a = evaluate(M + r).value_or(0) - b;
    return {a, b};
}

std::string SizeExpr::toString() const {
    if (!m_known)
        return "?";
    if (isConstant())
        return number(m_constant);
    std::string text = m_variable;
    bool sum = false; // the text is a sum: parenthesise it inside a product or a floor
    for (const Step& s : m_steps) {
        switch (s.kind) {
        case Kind::Add:
            text += addend(s.value);
            sum = true;
            break;
        case Kind::Mul:
            text = number(s.value) + "·" + (sum ? "(" + text + ")" : text);
            sum = false;
            break;
        case Kind::FloorDiv:
            text = "⌊" + (sum ? "(" + text + ")" : text) + "/" + std::to_string(s.value) + "⌋";
            sum = false;
            break;
        }
    }
    return text;
}

std::string SizeExpr::toStringOnClass(std::int64_t M, std::int64_t r) const {
    if (!m_known)
        return "?";
    if (isConstant())
        return number(m_constant);
    // value = a·k + b with k = (H − r)/M: (a/M)·(H − r) + b.
    const auto [a, b] = onResidueClass(M, r);
    if (a == 0)
        return number(b);
    const std::int64_t g = std::gcd(a, M);
    const std::int64_t p = a / g; // the slope p/q in lowest terms (q > 0)
    const std::int64_t q = M / g;
    const std::string& h = m_variable;
    auto scaled = [p](const std::string& x) {
        if (p == 1)
            return x;
        if (p == -1)
            return "−" + x;
        return number(p) + "·" + x;
    };
    const std::int64_t r0 = ((r % q) + q) % q;
    // (p/q)·(H − r) + b = (p/q)·(H − r0) + (b − p·(r − r0)/q).
    const std::int64_t c = b - p * ((r - r0) / q);
    std::string text;
    if (q == 1)
        text = scaled(h) + (r0 != 0 ? addend(-p * r0) : "");
    else if (r0 == 0)
        text = scaled(h) + "/" + std::to_string(q);
    else
        text = scaled("(" + h + addend(-r0) + ")") + "/" + std::to_string(q);
    return c == 0 ? text : text + addend(c);
}

} // namespace segforge::core
