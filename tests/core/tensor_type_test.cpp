#include "ops/attr_spec.hpp"
#include "tensor/tensor_type.hpp"

#include <gtest/gtest.h>

using namespace segforge::core;

TEST(TensorType, PrintsLikeAnEdgeLabel) {
    EXPECT_EQ((TensorType{Shape::image(128, 128, 16), DType::Float32}).toString(),
              "N×128×128×16 f32");
    EXPECT_EQ((TensorType{Shape::image(64, 32, 1), DType::UInt8}).toString(), "N×64×32×1 u8");
    EXPECT_EQ((TensorType{Shape::scalar(), DType::Float32}).toString(), "scalar f32");
    EXPECT_EQ((TensorType{Shape{2, 3}, DType::Int32}).toString(), "2×3 i32");
}

TEST(TensorType, EqualityIgnoresValueHints) {
    TensorType a{Shape::image(8, 8, 1), DType::Float32};
    TensorType b = a;
    b.kind = ValueKind::Probability;
    b.range = ValueRange{0, 1};
    EXPECT_EQ(a, b);
    b.dtype = DType::UInt8;
    EXPECT_NE(a, b);
}

TEST(DType, NamesRoundTrip) {
    for (DType d : kAllDTypes) {
        EXPECT_EQ(parseDType(dtypeName(d)), d);
        EXPECT_EQ(parseDType(dtypeShortName(d)), d);
    }
    EXPECT_FALSE(parseDType("float64"));
    EXPECT_EQ(dtypeSize(DType::Float32), 4);
    EXPECT_EQ(Shape::image(4, 5, 6).elementsPerSample(), 120);
}

TEST(AttrSpec, CoercesKerasSpellings) {
    AttrSpec pair = pairAttr("kernel_size", 3, 1, 63, "");
    EXPECT_EQ(std::get<std::vector<std::int64_t>>(*coerceAttribute(pair, std::int64_t{5})),
              (std::vector<std::int64_t>{5, 5}));
    EXPECT_EQ(std::get<std::vector<std::int64_t>>(*coerceAttribute(pair, 3.0)),
              (std::vector<std::int64_t>{3, 3}));
    std::string why;
    EXPECT_FALSE(coerceAttribute(pair, std::int64_t{0}, &why));
    EXPECT_NE(why.find("out of range"), std::string::npos) << why;
    EXPECT_FALSE(coerceAttribute(pair, std::vector<std::int64_t>{1, 2, 3}, &why));

    AttrSpec quad = quadAttr("cropping", 0, 0, "");
    EXPECT_EQ(std::get<std::vector<std::int64_t>>(
                  *coerceAttribute(quad, std::vector<std::int64_t>{1, 2})),
              (std::vector<std::int64_t>{1, 1, 2, 2}));

    AttrSpec rate = floatAttr("rate", 0.5, 0, 1, "", true);
    EXPECT_TRUE(coerceAttribute(rate, 0.0));
    EXPECT_FALSE(coerceAttribute(rate, 1.0, &why)); // [0, 1)
    EXPECT_TRUE(coerceAttribute(rate, std::int64_t{0}));

    AttrSpec padding = enumAttr("padding", "valid", {"valid", "same"}, "");
    EXPECT_FALSE(coerceAttribute(padding, std::string("full"), &why));
    EXPECT_NE(why.find("one of valid, same"), std::string::npos) << why;
    EXPECT_FALSE(coerceAttribute(intAttr("filters", 1, 1, 10, ""), std::string("x"), &why));
    EXPECT_FALSE(coerceAttribute(intAttr("filters", 1, 1, 10, ""), 2.5, &why));
}
