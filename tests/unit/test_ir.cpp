// Graph IR: ordering, validation, shapes, float16, casts, shape inference.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/ir/half.h"
#include "core/ir/shape_inference.h"
#include "core/ir/shape_util.h"
#include "core/kernels/ref/ref_backend.h"
#include "tests/unit/graph_builders.h"

using namespace rtinfer;
using namespace rtinfer::testing;

TEST(Graph, TopoSortOrdersProducersFirstAndKeepsReadyOrder) {
    ir::Graph g;
    add_input(g, "x", {2});
    add_node(g, "Relu", {"b"}, {"c"}, "third");
    add_node(g, "Relu", {"x"}, {"a"}, "first");
    add_node(g, "Add", {"a", "x"}, {"b"}, "second");
    g.outputs = {"c"};
    ASSERT_TRUE(g.topo_sort().is_ok());
    EXPECT_EQ(g.nodes[0].name, "first");
    EXPECT_EQ(g.nodes[1].name, "second");
    EXPECT_EQ(g.nodes[2].name, "third");
    EXPECT_TRUE(g.validate().is_ok());
}

TEST(Graph, CycleAndMissingInputAreNamed) {
    ir::Graph g;
    add_input(g, "x", {2});
    add_node(g, "Add", {"x", "b"}, {"a"}, "n1");
    add_node(g, "Relu", {"a"}, {"b"}, "n2");
    Status s = g.topo_sort();
    EXPECT_EQ(s.code(), StatusCode::kInvalidModel);
    EXPECT_NE(s.message().find("cycle"), std::string::npos) << s.message();

    ir::Graph h;
    add_input(h, "x", {2});
    add_node(h, "Relu", {"ghost"}, {"y"}, "lonely");
    s = h.topo_sort();
    EXPECT_NE(s.message().find("'ghost'"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("lonely"), std::string::npos);
}

TEST(Graph, ValidateRejectsDuplicateProducersAndMissingOutputs) {
    ir::Graph g;
    add_input(g, "x", {2});
    add_node(g, "Relu", {"x"}, {"y"}, "a");
    add_node(g, "Relu", {"x"}, {"y"}, "b");
    g.outputs = {"y"};
    EXPECT_NE(g.validate().message().find("produced twice"), std::string::npos);
    ir::Graph h;
    add_input(h, "x", {2});
    h.outputs = {"nothing"};
    EXPECT_NE(h.validate().message().find("'nothing'"), std::string::npos);
}

TEST(ShapeUtil, BroadcastAndAxes) {
    auto s = ir::broadcast_shapes({2, 1, 4}, {3, 1});
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(*s, (ir::Shape{2, 3, 4}));
    EXPECT_EQ(*ir::broadcast_shapes({}, {5}), (ir::Shape{5}));
    EXPECT_FALSE(ir::broadcast_shapes({2, 3}, {4}).has_value());
    EXPECT_EQ(*ir::normalize_axis(-1, 4), 3);
    EXPECT_FALSE(ir::normalize_axis(4, 4).has_value());
    EXPECT_FALSE(ir::normalize_axis(-5, 4).has_value());
    // for_each_broadcast walks the same offsets as explicit index math.
    std::vector<std::tuple<int64_t, int64_t, int64_t>> seen;
    ir::for_each_broadcast({2, 3}, {{2, 1}, {3}}, [&](int64_t i, int64_t a, int64_t b, int64_t) { seen.emplace_back(i, a, b); });
    ASSERT_EQ(seen.size(), 6u);
    for (auto [i, a, b] : seen) {
        EXPECT_EQ(a, i / 3);
        EXPECT_EQ(b, i % 3);
    }
}

TEST(Half, ConversionsRoundTripAndRoundToNearestEven) {
    for (uint32_t h = 0; h < 0x10000; ++h) {
        const float f = ir::half_to_float(static_cast<uint16_t>(h));
        if (std::isnan(f)) {
            EXPECT_TRUE(std::isnan(ir::half_to_float(ir::float_to_half(f))));
            continue;
        }
        ASSERT_EQ(ir::float_to_half(f), h) << std::hex << h;  // every half value survives the round trip
    }
    EXPECT_EQ(ir::float_to_half(1.0f), 0x3c00);
    EXPECT_EQ(ir::float_to_half(65504.0f), 0x7bff);
    EXPECT_EQ(ir::float_to_half(1e6f), 0x7c00);                // overflow to inf
    EXPECT_EQ(ir::float_to_half(5.960464477539063e-08f), 1);   // smallest subnormal
    EXPECT_EQ(ir::float_to_half(1.0f + 1.0f / 2048), 0x3c00);  // tie rounds to even (down)
    EXPECT_EQ(ir::float_to_half(1.0f + 3.0f / 2048), 0x3c02);  // tie rounds to even (up)
}

TEST(Tensor, CastsBetweenTypes) {
    ir::Tensor t = ir::Tensor::from_floats({-2.5f, 0.0f, 3.75f}, {3});
    auto i = ir::cast_tensor(t, DataType::kInt32);
    ASSERT_TRUE(i.has_value());
    EXPECT_EQ(i->data<int32_t>()[0], -2);
    EXPECT_EQ(i->data<int32_t>()[2], 3);
    auto b = ir::cast_tensor(t, DataType::kBool);
    EXPECT_EQ(b->data<uint8_t>()[0], 1);
    EXPECT_EQ(b->data<uint8_t>()[1], 0);
    auto h = ir::cast_tensor(t, DataType::kFloat16);
    auto back = ir::cast_tensor(*h, DataType::kFloat64);
    EXPECT_DOUBLE_EQ(back->data<double>()[2], 3.75);
    EXPECT_EQ(ir::to_int64s(*i), (std::vector<int64_t>{-2, 0, 3}));
}

TEST(ShapeInference, InfersThroughAChainAndNamesTheFailingNode) {
    ir::Graph g;
    g.opsets[""] = 17;
    add_input(g, "x", {2, 3});
    add_constant(g, "b", random_tensor({3}, 1));
    add_node(g, "Add", {"x", "b"}, {"s"});
    add_node(g, "Relu", {"s"}, {"y"});
    g.outputs = {"y"};
    ASSERT_TRUE(ir::infer_shapes(g, ref::reference_registry()).is_ok());
    EXPECT_EQ(g.at("y").shape, (ir::Shape{2, 3}));
    EXPECT_EQ(g.at("y").dtype, DataType::kFloat32);

    add_constant(g, "bad", random_tensor({4}, 2));
    add_node(g, "Add", {"y", "bad"}, {"z"}, "mismatch");
    Status s = ir::infer_shapes(g, ref::reference_registry());
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("mismatch"), std::string::npos) << s.message();
}
