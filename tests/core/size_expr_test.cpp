// SizeExpr: exact sizes under Keras semantics, folded, and affine on every
// residue class of their modulus.

#include "tensor/size_expr.hpp"

#include <gtest/gtest.h>
#include <random>

using namespace segforge::core;

namespace {

std::int64_t floorDivide(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if (a % b != 0 && a < 0)
        --q;
    return q;
}

const SizeExpr kH = SizeExpr::variable("H");

} // namespace

TEST(SizeExpr, ConstantsFoldToNumbers) {
    SizeExpr e = SizeExpr::constant(100).plus(-2).floorDiv(2).times(2).ceilDiv(3);
    ASSERT_TRUE(e.isConstant());
    EXPECT_EQ(e.constantValue(), 33); // ⌈(⌊98/2⌋·2)/3⌉ = ⌈98/3⌉
    EXPECT_EQ(e.toString(), "33");
    EXPECT_EQ(SizeExpr::constant(-7).floorDiv(2).constantValue(), -4); // toward −∞
    EXPECT_EQ(SizeExpr::constant(-3).toString(), "−3");
}

TEST(SizeExpr, UnknownStaysUnknown) {
    SizeExpr u;
    EXPECT_FALSE(u.isKnown());
    EXPECT_FALSE(u.plus(1).times(2).floorDiv(2).isKnown());
    EXPECT_EQ(u.evaluate(10), std::nullopt);
    EXPECT_EQ(u.toString(), "?");
    EXPECT_EQ(u.modulus(), 1);
}

TEST(SizeExpr, FoldsWhereExact) {
    EXPECT_EQ(kH.plus(1).plus(2).toString(), "H + 3");
    EXPECT_EQ(kH.plus(2).plus(-2), kH);
    EXPECT_EQ(kH.floorDiv(2).floorDiv(2).toString(), "⌊H/4⌋");
    EXPECT_EQ(kH.floorDiv(2).floorDiv(2), kH.floorDiv(4));
    // ⌈⌈H/2⌉/2⌉ = ⌈H/4⌉ ('same' convolutions with stride 2, twice).
    EXPECT_EQ(kH.ceilDiv(2).ceilDiv(2), kH.ceilDiv(4));
    EXPECT_EQ(kH.ceilDiv(2).ceilDiv(2).toString(), "⌊(H + 3)/4⌋");
    // Whole multiples of the divisor leave the floor: ⌊(H − 2)/2⌋ = ⌊H/2⌋ − 1.
    EXPECT_EQ(kH.plus(-2).floorDiv(2).toString(), "⌊H/2⌋ − 1");
    EXPECT_EQ(kH.plus(-3).floorDiv(2).toString(), "⌊(H + 1)/2⌋ − 2");
    // Multiplications cancel against divisions: ⌊2H/2⌋ = H, ⌊2H/4⌋ = ⌊H/2⌋.
    EXPECT_EQ(kH.times(2).floorDiv(2), kH);
    EXPECT_EQ(kH.times(2).floorDiv(4), kH.floorDiv(2));
    EXPECT_EQ(kH.times(6).floorDiv(4).toString(), "⌊3·H/2⌋");
    EXPECT_EQ(kH.times(3).times(2).toString(), "6·H");
    EXPECT_EQ(kH.plus(1).times(2).toString(), "2·H + 2");
    // A U-Net level: down four times, up once.
    EXPECT_EQ(kH.floorDiv(2).floorDiv(2).floorDiv(2).floorDiv(2).times(2).toString(), "2·⌊H/16⌋");
    EXPECT_EQ(kH.times(1), kH);
    EXPECT_EQ(kH.floorDiv(1), kH);
    EXPECT_EQ(kH.times(0), SizeExpr::constant(0));
}

TEST(SizeExpr, ModulusIsWhereTheExpressionBecomesAffine) {
    EXPECT_EQ(SizeExpr::constant(5).modulus(), 1);
    EXPECT_EQ(kH.plus(-4).modulus(), 1);
    EXPECT_EQ(kH.floorDiv(16).modulus(), 16);
    EXPECT_EQ(kH.floorDiv(16).times(2).modulus(), 16);
    EXPECT_EQ(kH.times(2).floorDiv(4).modulus(), 2);
    EXPECT_EQ(kH.floorDiv(2).times(3).floorDiv(2).modulus(), 4);
    EXPECT_EQ(kH.ceilDiv(3).ceilDiv(2).modulus(), 6);
}

TEST(SizeExpr, AffineOnResidueClasses) {
    const SizeExpr e = kH.floorDiv(16);
    EXPECT_EQ(e.onResidueClass(16, 0), (std::pair<std::int64_t, std::int64_t>{1, 0}));
    EXPECT_EQ(e.onResidueClass(16, 5), (std::pair<std::int64_t, std::int64_t>{1, 0}));
    EXPECT_EQ(e.onResidueClass(32, 20), (std::pair<std::int64_t, std::int64_t>{2, 1}));
    const SizeExpr valid = kH.plus(-4).floorDiv(2).plus(-4);
    EXPECT_EQ(valid.onResidueClass(2, 0), (std::pair<std::int64_t, std::int64_t>{1, -6}));
}

TEST(SizeExpr, TextOnAResidueClassIsAffine) {
    EXPECT_EQ(kH.floorDiv(16).toStringOnClass(16, 0), "H/16");
    EXPECT_EQ(kH.floorDiv(16).times(2).toStringOnClass(16, 0), "H/8");
    EXPECT_EQ(kH.floorDiv(4).plus(-4).toStringOnClass(4, 0), "H/4 − 4");
    EXPECT_EQ(kH.times(2).toStringOnClass(1, 0), "2·H");
    EXPECT_EQ(kH.plus(-2).toStringOnClass(1, 0), "H − 2");
    EXPECT_EQ(kH.floorDiv(16).plus(3).toStringOnClass(16, 12), "(H − 12)/16 + 3");
    EXPECT_EQ(kH.floorDiv(4).times(3).toStringOnClass(4, 0), "3·H/4");
    EXPECT_EQ(kH.floorDiv(16).toStringOnClass(32, 0), "H/16");
    EXPECT_EQ(SizeExpr::constant(7).toStringOnClass(16, 0), "7");
    // The text holds on the class: evaluate it by hand for H = 28.
    EXPECT_EQ(kH.floorDiv(16).plus(3).evaluate(28), (28 - 12) / 16 + 3);
}

TEST(SizeExpr, RandomChainsMatchBruteForceAndAreAffineOnTheirClasses) {
    std::mt19937 rng(15);
    for (int trial = 0; trial < 3000; ++trial) {
        SizeExpr e = kH;
        std::vector<std::pair<int, std::int64_t>> steps; // 0: add, 1: mul, 2: floorDiv, 3: ceilDiv
        const int n = static_cast<int>(rng() % 9);
        for (int i = 0; i < n; ++i) {
            const int kind = static_cast<int>(rng() % 4);
            const std::int64_t v = kind == 0 ? static_cast<std::int64_t>(rng() % 11) - 5
                                             : static_cast<std::int64_t>(rng() % 4) + 1;
            steps.emplace_back(kind, v);
            e = kind == 0   ? e.plus(v)
                : kind == 1 ? e.times(v)
                : kind == 2 ? e.floorDiv(v)
                            : e.ceilDiv(v);
        }
        for (std::int64_t x = -40; x <= 300; ++x) {
            std::int64_t want = x;
            for (auto [kind, v] : steps) {
                want = kind == 0   ? want + v
                       : kind == 1 ? want * v
                       : kind == 2 ? floorDivide(want, v)
                                   : -floorDivide(-want, v);
            }
            ASSERT_EQ(e.evaluate(x), want) << e.toString() << " at " << x;
        }
        const std::int64_t m = e.modulus();
        for (std::int64_t r = 0; r < m; ++r) {
            const auto [a, b] = e.onResidueClass(m, r);
            for (std::int64_t k = -3; k <= 12; ++k)
                ASSERT_EQ(e.evaluate(m * k + r), a * k + b) << e.toString() << " mod " << m;
        }
        // The same holds on a multiple of the modulus.
        const auto [a, b] = e.onResidueClass(2 * m, m + 1);
        for (std::int64_t k = 0; k <= 5; ++k)
            ASSERT_EQ(e.evaluate(2 * m * k + m + 1), a * k + b) << e.toString();
    }
}
