#include "check/size_set.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

namespace segforge::core {
namespace {

std::int64_t floorDivide(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        --q;
    return q;
}

std::int64_t ceilDivide(std::int64_t a, std::int64_t b) {
    return -floorDivide(-a, b);
}

/// Members of `c` in [lo, hi], ascending, at most `limit`.
void appendMembers(const SizeSet& s, const SizeSet::Class& c, std::int64_t lo, std::int64_t hi,
                   std::size_t limit, std::vector<std::int64_t>& out) {
    std::int64_t k = std::max(c.kMin, ceilDivide(lo - c.residue, s.modulus));
    for (std::size_t n = 0; n < limit && (!c.kMax || k <= *c.kMax); ++n, ++k) {
        const std::int64_t v = s.modulus * k + c.residue;
        if (v > hi)
            break;
        out.push_back(v);
    }
}

std::string joinList(const std::vector<std::int64_t>& values, std::size_t shown) {
    std::string text;
    for (std::size_t i = 0; i < values.size() && i < shown; ++i)
        text += strCat(i ? ", " : "", values[i]);
    return values.size() > shown ? text + ", …" : text;
}

} // namespace

bool SizeSet::contains(std::int64_t size) const {
    for (const Class& c : classes) {
        if (((size - c.residue) % modulus + modulus) % modulus != 0)
            continue;
        const std::int64_t k = floorDivide(size - c.residue, modulus);
        return k >= c.kMin && (!c.kMax || k <= *c.kMax);
    }
    return false;
}

std::optional<std::int64_t> SizeSet::atMost(std::int64_t size) const {
    std::optional<std::int64_t> best;
    for (const Class& c : classes) {
        std::int64_t k = floorDivide(size - c.residue, modulus);
        if (c.kMax)
            k = std::min(k, *c.kMax);
        if (k < c.kMin)
            continue;
        const std::int64_t v = modulus * k + c.residue;
        if (!best || v > *best)
            best = v;
    }
    return best;
}

std::optional<std::int64_t> SizeSet::atLeast(std::int64_t size) const {
    std::optional<std::int64_t> best;
    for (const Class& c : classes) {
        const std::int64_t k = std::max(c.kMin, ceilDivide(size - c.residue, modulus));
        if (c.kMax && k > *c.kMax)
            continue;
        const std::int64_t v = modulus * k + c.residue;
        if (!best || v < *best)
            best = v;
    }
    return best;
}

std::optional<std::int64_t> SizeSet::nearest(std::int64_t size) const {
    const auto below = atMost(size);
    const auto above = atLeast(size);
    if (!below)
        return above;
    if (!above)
        return below;
    return size - *below < *above - size ? below : above;
}

std::vector<std::int64_t> SizeSet::first(std::size_t count) const {
    std::vector<std::int64_t> out;
    for (const Class& c : classes)
        appendMembers(*this, c, 1, std::numeric_limits<std::int64_t>::max() / 4, count, out);
    std::sort(out.begin(), out.end());
    if (out.size() > count)
        out.resize(count);
    return out;
}

std::optional<std::pair<std::int64_t, std::int64_t>> SizeSet::commonClass() const {
    if (classes.empty())
        return std::nullopt;
    std::int64_t p = modulus;
    for (const Class& c : classes)
        p = std::gcd(p, c.residue - classes.front().residue);
    if (p <= 1)
        return std::nullopt;
    return std::pair{p, classes.front().residue % p};
}

namespace {

/// The description's shape: the smallest period P whose classes (mod P) hold
/// every unbounded class of the set, their residues, the threshold T from which
/// every size of those classes works, and the members below T.
struct Pattern {
    std::int64_t period = 0;
    std::vector<std::int64_t> residues;
    std::int64_t threshold = 0;
    std::vector<std::int64_t> exceptions;
};

std::optional<Pattern> patternOf(const SizeSet& s) {
    std::vector<std::int64_t> unbounded;
    for (const auto& c : s.classes) {
        if (!c.kMax)
            unbounded.push_back(c.residue);
    }
    if (unbounded.empty())
        return std::nullopt;
    const std::int64_t m = s.modulus;
    Pattern p;
    for (std::int64_t period = 1; period <= m; ++period) {
        if (m % period != 0)
            continue;
        const bool closed = std::all_of(unbounded.begin(), unbounded.end(), [&](std::int64_t u) {
            return std::binary_search(unbounded.begin(), unbounded.end(), (u + period) % m);
        });
        if (closed) {
            p.period = period;
            break;
        }
    }
    for (std::int64_t u : unbounded) {
        if (std::find(p.residues.begin(), p.residues.end(), u % p.period) == p.residues.end())
            p.residues.push_back(u % p.period);
    }
    std::sort(p.residues.begin(), p.residues.end());
    // Above the last invalid member of an unbounded class, every one works.
    std::int64_t bound = 1;
    for (const auto& c : s.classes) {
        if (!c.kMax)
            bound = std::max(bound, m * (c.kMin - 1) + c.residue + 1);
    }
    p.threshold = *s.atLeast(bound);
    // The smallest member of the periodic part may lie lower: walk down.
    while (true) {
        const std::int64_t below = p.threshold - 1;
        const auto prev = s.atMost(below);
        if (!prev || prev < 1)
            break;
        const bool inPattern =
            std::find(p.residues.begin(), p.residues.end(), *prev % p.period) != p.residues.end();
        // Every pattern size in [prev, threshold) must be a member.
        bool gapless = inPattern;
        for (std::int64_t v = *prev + 1; gapless && v < p.threshold; ++v) {
            if (std::find(p.residues.begin(), p.residues.end(), v % p.period) != p.residues.end())
                gapless = false;
        }
        if (!gapless)
            break;
        p.threshold = *prev;
    }
    for (const auto& c : s.classes)
        appendMembers(s, c, 1, p.threshold - 1, 64, p.exceptions);
    std::sort(p.exceptions.begin(), p.exceptions.end());
    return p;
}

} // namespace

std::pair<std::int64_t, std::int64_t> SizeSet::periodAndOffset() const {
    auto p = patternOf(*this);
    if (!p || p->residues.size() != 1)
        return {0, 0};
    return {p->period, p->residues.front()};
}

std::string SizeSet::describe(const std::string& name) const {
    if (tooComplex)
        return strCat("not derived: the network's strides and poolings repeat only every ", modulus,
                      " pixels (more than ", kMaxSizeModulus, ")");
    if (classes.empty())
        return "none";
    auto p = patternOf(*this);
    if (!p) {
        std::vector<std::int64_t> all = first(9);
        return "only " + joinList(all, 8);
    }
    std::string text;
    const std::int64_t t = p->threshold;
    if (p->period == 1) {
        text = t <= 1 ? strCat("any ", name) : strCat("any ", name, " ≥ ", t);
    } else if (p->residues.size() == 1) {
        const std::int64_t r = p->residues.front();
        const std::int64_t k0 = (t - r) / p->period;
        if (r == 0)
            text = strCat(name, " = ", p->period, "k, k ≥ ", k0);
        else
            text = strCat(name, " = ", p->period, "k + ", r, ", k ≥ ", k0, " (", t, ", ",
                          t + p->period, ", ", t + 2 * p->period, ", …)");
    } else {
        std::string residues;
        for (std::size_t i = 0; i < p->residues.size(); ++i) {
            residues += strCat(i == 0                        ? ""
                               : i + 1 == p->residues.size() ? " or "
                                                             : ", ",
                               p->residues[i]);
        }
        text = strCat(name, " ≡ ", residues, " mod ", p->period);
        if (t > p->residues.front() && t > 1)
            text += strCat(" and ", name, " ≥ ", t);
    }
    if (!p->exceptions.empty())
        text += ", also " + joinList(p->exceptions, 8);
    return text;
}

namespace {

/// One distinct constraint, tabled on its own modulus: on H = mc·j + r' the
/// difference a − b (or a alone) is slope[r']·j + offset[r'].
struct Tabled {
    bool equal = false;
    std::int64_t modulus = 1;
    std::vector<std::pair<std::int64_t, std::int64_t>> affine; ///< by r' < modulus
};

bool sameConstraint(const SizeConstraint& x, const SizeConstraint& y) {
    return x.kind == y.kind && x.a == y.a && x.b == y.b;
}

} // namespace

SizeSet deriveSizeSet(const std::vector<SizeConstraint>& constraints, int axis,
                      std::int64_t maxModulus) {
    SizeSet set;
    // A network repeats its constraints (every 'same' convolution of a level
    // says the same ⌊H/4⌋ ≥ 1): each distinct one once.
    std::vector<const SizeConstraint*> distinct;
    std::int64_t m = 1;
    for (const SizeConstraint& c : constraints) {
        if (c.axis != axis || !c.a.isKnown() ||
            (c.kind == SizeConstraint::Kind::Equal && !c.b.isKnown()))
            continue;
        if (std::any_of(distinct.begin(), distinct.end(),
                        [&c](const SizeConstraint* d) { return sameConstraint(*d, c); }))
            continue;
        distinct.push_back(&c);
        for (const SizeExpr* e : {&c.a, &c.b}) {
            if (!e->isSymbolic())
                continue;
            const std::int64_t em = e->modulus();
            m = m / std::gcd(m, em) * em;
            if (m > maxModulus || m <= 0) {
                set.modulus = m > 0 ? m : std::numeric_limits<std::int64_t>::max();
                set.tooComplex = true;
                return set;
            }
        }
    }
    set.modulus = m;
    std::vector<Tabled> tabled;
    tabled.reserve(distinct.size());
    for (const SizeConstraint* c : distinct) {
        Tabled t;
        t.equal = c->kind == SizeConstraint::Kind::Equal;
        const std::int64_t ma = c->a.modulus();
        const std::int64_t mb = t.equal ? c->b.modulus() : 1;
        t.modulus = ma / std::gcd(ma, mb) * mb;
        t.affine.resize(static_cast<std::size_t>(t.modulus));
        for (std::int64_t r = 0; r < t.modulus; ++r) {
            auto [a, b] = c->a.onResidueClass(t.modulus, r);
            if (t.equal) {
                const auto [a2, b2] = c->b.onResidueClass(t.modulus, r);
                a -= a2;
                b -= b2;
            }
            t.affine[static_cast<std::size_t>(r)] = {a, b};
        }
        tabled.push_back(std::move(t));
    }
    for (std::int64_t r = 0; r < m; ++r) {
        // Sizes m·k + r ≥ 1.
        std::int64_t lo = r == 0 ? 1 : 0;
        std::optional<std::int64_t> hi;
        bool possible = true;
        for (const Tabled& t : tabled) {
            // H = m·k + r = mc·j + r' with j = (m/mc)·k + q.
            const std::int64_t q = r / t.modulus;
            const auto [a1, b1] = t.affine[static_cast<std::size_t>(r % t.modulus)];
            const std::int64_t a = a1 * (m / t.modulus);
            const std::int64_t b = a1 * q + b1;
            if (t.equal) { // a·k + b = 0
                if (a == 0) {
                    possible = b == 0;
                } else if (b % a != 0) {
                    possible = false;
                } else {
                    const std::int64_t k = -b / a;
                    lo = std::max(lo, k);
                    hi = hi ? std::min(*hi, k) : k;
                }
            } else if (a == 0) { // b ≥ 1
                possible = b >= 1;
            } else if (a > 0) { // k ≥ (1 − b)/a
                lo = std::max(lo, ceilDivide(1 - b, a));
            } else { // k ≤ (1 − b)/a, a < 0
                const std::int64_t k = floorDivide(1 - b, a);
                hi = hi ? std::min(*hi, k) : k;
            }
            if (!possible || (hi && *hi < lo))
                break;
        }
        if (possible && (!hi || *hi >= lo))
            set.classes.push_back({r, lo, hi});
    }
    return set;
}

} // namespace segforge::core
