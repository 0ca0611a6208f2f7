#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

/// One spatial size (a height or a width) as an exact expression of the
/// network input's size under Keras semantics: a constant, or a free variable
/// ("H", "W") taken through a chain of integer steps x → x + c, x → x·k and
/// x → ⌊x/d⌋. Every layer that changes H or W is such a chain (a valid 3×3
/// convolution: x − 2; 'same' with stride 2: ⌊(x + 1)/2⌋; pooling, transposed
/// convolution, upsampling, cropping, padding), so a whole network's sizes are
/// too.
///
/// On every residue class H = M·k + r of a modulus M that every divisor of the
/// chain divides (modulus()), the expression is exactly affine in k:
/// a·k + b (onResidueClass). That is what lets the checker derive the exact set
/// of input sizes that work, analytically, with no sweep and no cap.
class SizeExpr {
public:
    struct Step {
        enum class Kind : std::uint8_t { Add, Mul, FloorDiv };
        Kind kind = Kind::Add;
        std::int64_t value = 0;
        friend bool operator==(const Step&, const Step&) = default;
    };

    /// Unknown: nothing is known (an unsupported layer's output).
    SizeExpr() = default;
    static SizeExpr constant(std::int64_t value);
    /// A free size named `name` ("H" or "W").
    static SizeExpr variable(std::string name);

    bool isKnown() const { return m_known; }
    /// A constant (no variable): constantValue() has it.
    bool isConstant() const { return m_known && m_variable.empty(); }
    bool isSymbolic() const { return m_known && !m_variable.empty(); }
    std::optional<std::int64_t> constantValue() const;
    const std::string& variable() const { return m_variable; }
    const std::vector<Step>& steps() const { return m_steps; }

    // The steps, folded where exact (x+1+2 → x+3, ⌊⌊x/2⌋/2⌋ → ⌊x/4⌋, constants
    // evaluated). Unknown stays unknown.
    SizeExpr plus(std::int64_t c) const;
    SizeExpr times(std::int64_t k) const;
    SizeExpr floorDiv(std::int64_t d) const; ///< d ≥ 1
    SizeExpr ceilDiv(std::int64_t d) const;  ///< ⌈x/d⌉ = ⌊(x + d − 1)/d⌋

    /// The value at `variableValue` (ignored for a constant); nullopt if unknown.
    std::optional<std::int64_t> evaluate(std::int64_t variableValue) const;

    /// The smallest M such that the expression is affine in k on every class
    /// H = M·k + r (the product of the divisors over the multipliers before them,
    /// as far as they do not cancel). 1 for a constant.
    std::int64_t modulus() const;
    /// (a, b) with value(M·k + r) = a·k + b for every integer k, for an M that
    /// modulus() divides. Requires isKnown().
    std::pair<std::int64_t, std::int64_t> onResidueClass(std::int64_t M, std::int64_t r) const;

    /// Exact text: "128", "H", "H − 4", "⌊H/2⌋", "⌊(H + 1)/2⌋ − 4", "2·⌊H/4⌋", "?".
    /// Steps are kept canonical (an addend inside a floor lies in [0, divisor)),
    /// so ⌊(H − 2)/2⌋ reads "⌊H/2⌋ − 1": the same value, the same text.
    std::string toString() const;
    /// Text that holds on the residue class H ≡ r (mod M), where the expression is
    /// affine: "H/16", "H/4 − 4", "2·H", "(H − 12)/16 + 3"; a constant prints
    /// as its number.
    std::string toStringOnClass(std::int64_t M, std::int64_t r) const;

    friend bool operator==(const SizeExpr&, const SizeExpr&) = default;

private:
    bool m_known = false;
    std::int64_t m_constant = 0; ///< the value, when there is no variable
    std::string m_variable;
    std::vector<Step> m_steps;
};

} // namespace segforge::core
