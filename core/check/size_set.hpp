#pragma once

#include "graph/graph.hpp"
#include "tensor/size_expr.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace segforge::core {

/// One condition the network puts on its input's height (axis 0) or width
/// (axis 1), collected by the checker's symbolic walk: a size must stay ≥ 1
/// (every image output), or two sizes must agree (the image inputs of a
/// Concatenate, an Add, a loss).
struct SizeConstraint {
    enum class Kind : std::uint8_t { AtLeastOne, Equal };
    Kind kind = Kind::AtLeastOne;
    int axis = 0;
    NodeId node = kNoNode; ///< where it arises
    SizeExpr a;
    SizeExpr b; ///< Equal only
};

/// The exact set of input sizes (of one axis) that satisfy a set of
/// constraints: the union over residue classes r mod `modulus` of
/// {modulus·k + r : kMin ≤ k ≤ kMax}. Derived, not swept: no cap.
struct SizeSet {
    struct Class {
        std::int64_t residue = 0;
        std::int64_t kMin = 0;
        std::optional<std::int64_t> kMax; ///< nullopt: unbounded
        friend bool operator==(const Class&, const Class&) = default;
    };
    std::int64_t modulus = 1;
    std::vector<Class> classes; ///< by residue
    /// The modulus exceeded the limit: nothing was derived (classes is empty).
    bool tooComplex = false;

    bool empty() const { return classes.empty(); }
    bool contains(std::int64_t size) const;
    /// The largest member ≤ size / the smallest ≥ size.
    std::optional<std::int64_t> atMost(std::int64_t size) const;
    std::optional<std::int64_t> atLeast(std::int64_t size) const;
    /// The closest member; on a tie the larger, which keeps more detail.
    std::optional<std::int64_t> nearest(std::int64_t size) const;
    /// The smallest `count` members, ascending.
    std::vector<std::int64_t> first(std::size_t count) const;
    /// (P, r) when every member is ≡ r (mod P) for some P > 1, P | modulus (the
    /// largest such P): an expression whose modulus divides P is affine there.
    std::optional<std::pair<std::int64_t, std::int64_t>> commonClass() const;
    /// The set in words, for the size named `name` ("H"): "H = 16k, k ≥ 1",
    /// "H = 16k + 12, k ≥ 1 (28, 44, 60, …)", "H ≡ 4 or 12 mod 16 and H ≥ 20",
    /// "any H ≥ 5", "only 5, 9, 13", "none".
    std::string describe(const std::string& name) const;
    /// The period and offset of the description's single residue class
    /// (0, 0 when there is none: a finite set, several classes).
    std::pair<std::int64_t, std::int64_t> periodAndOffset() const;

    friend bool operator==(const SizeSet&, const SizeSet&) = default;
};

/// Above this modulus (the lcm of every expression's) the derivation gives up.
inline constexpr std::int64_t kMaxSizeModulus = 1'000'000;

/// The sizes of axis `axis` that satisfy every constraint on that axis. For
/// each residue r < M (M the lcm of the expressions' moduli) each constraint is
/// affine in k, so its solutions are a half-line, a point, everything or
/// nothing: their intersection is one range of k per class.
SizeSet deriveSizeSet(const std::vector<SizeConstraint>& constraints, int axis,
                      std::int64_t maxModulus = kMaxSizeModulus);

} // namespace segforge::core
