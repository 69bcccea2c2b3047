// Einsum (opset 12): any equation NumPy accepts with explicit ("ij,jk->ik") or implicit ("ij,jk") output,
// repeated labels within a term (diagonals), and "..." broadcast dimensions. Computed by walking the output
// labels and, for each output element, the summed labels; a repeated label gets the sum of its axes' strides,
// which is what makes "ii->i" read the diagonal.
#include <algorithm>
#include <string>
#include <vector>

#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

using reduce::Wide;

constexpr int kLetterLabels = 52;  // 'A'..'Z' then 'a'..'z': ids in ASCII order, the order of implicit output

struct EinsumPlan {
    std::vector<int64_t> out_dims;                  // per output label
    std::vector<int64_t> sum_dims;                  // per summed label
    std::vector<std::vector<int64_t>> out_strides;  // [input][output label]
    std::vector<std::vector<int64_t>> sum_strides;  // [input][summed label]
};

struct Term {
    std::vector<int> labels;  // letter ids; -1 marks where "..." stands
    bool ellipsis = false;
};

Expected<Term> parse_term(const std::string& text, const ir::Node& node) {
    Term t;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= 'A' && c <= 'Z') {
            t.labels.push_back(c - 'A');
        } else if (c >= 'a' && c <= 'z') {
            t.labels.push_back(26 + (c - 'a'));
        } else if (c == '.' && text.compare(i, 3, "...") == 0 && !t.ellipsis) {
            t.ellipsis = true;
            t.labels.push_back(-1);
            i += 2;
        } else {
            return Status(StatusCode::kInvalidModel,
                          node.describe() + ": equation term '" + text + "' is not a valid Einsum term");
        }
    }
    return t;
}

Expected<EinsumPlan> plan_einsum(const ir::Node& node, const std::vector<ir::Shape>& shapes) {
    auto fail = [&](const std::string& msg) { return Status(StatusCode::kInvalidModel, node.describe() + ": " + msg); };
    std::string eq;
    for (char c : node.attr_string("equation", "")) {
        if (c != ' ') eq.push_back(c);
    }
    const size_t arrow = eq.find("->");
    const std::string lhs = eq.substr(0, arrow);
    std::vector<Term> terms;
    for (size_t start = 0;;) {
        const size_t comma = lhs.find(',', start);
        RT_ASSIGN_OR_RETURN(Term t, parse_term(lhs.substr(start, comma - start), node));
        terms.push_back(std::move(t));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    if (terms.size() != shapes.size()) {
        return fail("equation '" + eq + "' has " + std::to_string(terms.size()) + " terms but the node has " +
                    std::to_string(shapes.size()) + " inputs");
    }

    // Expand "..." into labels kLetterLabels + j, right-aligned across inputs like broadcasting.
    size_t ell_rank = 0;
    std::vector<size_t> ell_of(terms.size(), 0);
    for (size_t i = 0; i < terms.size(); ++i) {
        const size_t letters = terms[i].labels.size() - (terms[i].ellipsis ? 1 : 0);
        if (shapes[i].size() < letters || (!terms[i].ellipsis && shapes[i].size() != letters)) {
            return fail("term " + std::to_string(i) + " of '" + eq + "' does not match input rank " +
                        std::to_string(shapes[i].size()));
        }
        ell_of[i] = shapes[i].size() - letters;
        ell_rank = std::max(ell_rank, ell_of[i]);
    }
    const int num_labels = kLetterLabels + static_cast<int>(ell_rank);
    std::vector<int64_t> label_dim(static_cast<size_t>(num_labels), -1);
    std::vector<int> label_count(static_cast<size_t>(num_labels), 0);
    std::vector<std::vector<int>> axis_labels(terms.size());
    for (size_t i = 0; i < terms.size(); ++i) {
        for (int l : terms[i].labels) {
            if (l >= 0) {
                axis_labels[i].push_back(l);
                continue;
            }
            for (size_t j = 0; j < ell_of[i]; ++j) {
                axis_labels[i].push_back(kLetterLabels + static_cast<int>(ell_rank - ell_of[i] + j));
            }
        }
        for (size_t a = 0; a < axis_labels[i].size(); ++a) {
            const int l = axis_labels[i][a];
            const int64_t d = shapes[i][a];
            int64_t& known = label_dim[static_cast<size_t>(l)];
            if (known == -1 || known == 1) {
                known = d;
            } else if (d != known && d != 1) {
                return fail("label dimensions " + std::to_string(known) + " and " + std::to_string(d) + " of '" + eq +
                            "' do not match");
            }
            ++label_count[static_cast<size_t>(l)];
        }
    }

    std::vector<int> out_labels;
    if (arrow != std::string::npos) {
        RT_ASSIGN_OR_RETURN(const Term out, parse_term(eq.substr(arrow + 2), node));
        for (int l : out.labels) {
            if (l < 0) {
                for (size_t j = 0; j < ell_rank; ++j) out_labels.push_back(kLetterLabels + static_cast<int>(j));
                continue;
            }
            if (label_count[static_cast<size_t>(l)] == 0)
                return fail("output label of '" + eq + "' is not an input label");
            for (int seen : out_labels) {
                if (seen == l) return fail("output of '" + eq + "' repeats a label");
            }
            out_labels.push_back(l);
        }
    } else {
        for (size_t j = 0; j < ell_rank; ++j) out_labels.push_back(kLetterLabels + static_cast<int>(j));
        for (int l = 0; l < kLetterLabels; ++l) {
            if (label_count[static_cast<size_t>(l)] == 1) out_labels.push_back(l);
        }
    }
    std::vector<bool> is_out(static_cast<size_t>(num_labels), false);
    for (int l : out_labels) is_out[static_cast<size_t>(l)] = true;
    std::vector<int> sum_labels;
    for (int l = 0; l < num_labels; ++l) {
        if (label_count[static_cast<size_t>(l)] > 0 && !is_out[static_cast<size_t>(l)]) sum_labels.push_back(l);
    }

    EinsumPlan plan;
    for (int l : out_labels) plan.out_dims.push_back(label_dim[static_cast<size_t>(l)]);
    for (int l : sum_labels) plan.sum_dims.push_back(label_dim[static_cast<size_t>(l)]);
    for (size_t i = 0; i < terms.size(); ++i) {
        std::vector<int64_t> by_label(static_cast<size_t>(num_labels), 0);
        const std::vector<int64_t> strides = ir::shape_strides(shapes[i]);
        for (size_t a = 0; a < axis_labels[i].size(); ++a) {
            if (shapes[i][a] != 1) by_label[static_cast<size_t>(axis_labels[i][a])] += strides[a];
        }
        std::vector<int64_t> os, ss;
        for (int l : out_labels) os.push_back(by_label[static_cast<size_t>(l)]);
        for (int l : sum_labels) ss.push_back(by_label[static_cast<size_t>(l)]);
        plan.out_strides.push_back(std::move(os));
        plan.sum_strides.push_back(std::move(ss));
    }
    return plan;
}

std::vector<ir::Shape> input_shapes_of(const ir::InferContext& ctx) {
    std::vector<ir::Shape> shapes;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) shapes.push_back(ctx.input_shape(i));
    return shapes;
}

Status infer(ir::InferContext& ctx) {
    if (ctx.num_inputs() == 0) return ctx.error("Einsum needs at least one input");
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_float_type(t) && t != ir::DType::kInt32 && t != ir::DType::kInt64) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    for (size_t i = 1; i < ctx.num_inputs(); ++i) {
        if (ctx.input_dtype(i) != t) return ctx.error("all inputs must have the same type");
    }
    RT_ASSIGN_OR_RETURN(const EinsumPlan plan, plan_einsum(ctx.node(), input_shapes_of(ctx)));
    ctx.set_output(0, t, plan.out_dims);
    return Status();
}

// Advances a row-major odometer over dims, keeping per-input offsets in step with it.
void advance(std::vector<int64_t>& idx, const std::vector<int64_t>& dims,
             const std::vector<std::vector<int64_t>>& strides, std::vector<int64_t>& off, size_t last) {
    for (size_t d = last; d-- > 0;) {
        ++idx[d];
        for (size_t i = 0; i < off.size(); ++i) off[i] += strides[i][d];
        if (idx[d] < dims[d]) return;
        for (size_t i = 0; i < off.size(); ++i) off[i] -= strides[i][d] * idx[d];
        idx[d] = 0;
    }
}

template <class T>
void einsum(const EinsumPlan& plan, const std::vector<const T*>& in, T* y) {
    const size_t n_in = in.size();
    const int64_t out_count = ir::shape_numel(plan.out_dims);
    // The innermost summed label gets a tight loop; the others an odometer.
    const size_t n_sum = plan.sum_dims.size();
    const int64_t inner_len = n_sum ? plan.sum_dims.back() : 1;
    int64_t outer_sum_count = 1;
    for (size_t d = 0; d + 1 < n_sum; ++d) outer_sum_count *= plan.sum_dims[d];
    if (n_sum && inner_len == 0) outer_sum_count = 0;
    std::vector<int64_t> inner_stride(n_in, 0);
    for (size_t i = 0; i < n_in && n_sum; ++i) inner_stride[i] = plan.sum_strides[i].back();

    std::vector<int64_t> out_idx(plan.out_dims.size(), 0), out_off(n_in, 0);
    std::vector<int64_t> sum_idx(n_sum, 0), sum_off(n_in, 0);
    for (int64_t o = 0; o < out_count; ++o) {
        Wide<T> acc = 0;
        std::fill(sum_idx.begin(), sum_idx.end(), 0);
        std::fill(sum_off.begin(), sum_off.end(), 0);
        for (int64_t s = 0; s < outer_sum_count; ++s) {
            if (n_in == 2) {
                const T* a = in[0] + out_off[0] + sum_off[0];
                const T* b = in[1] + out_off[1] + sum_off[1];
                const int64_t sa = inner_stride[0], sb = inner_stride[1];
                for (int64_t k = 0; k < inner_len; ++k) acc += static_cast<Wide<T>>(a[k * sa]) * b[k * sb];
            } else {
                for (int64_t k = 0; k < inner_len; ++k) {
                    Wide<T> prod = 1;
                    for (size_t i = 0; i < n_in; ++i) prod *= in[i][out_off[i] + sum_off[i] + k * inner_stride[i]];
                    acc += prod;
                }
            }
            if (n_sum > 1) advance(sum_idx, plan.sum_dims, plan.sum_strides, sum_off, n_sum - 1);
        }
        y[o] = static_cast<T>(acc);
        advance(out_idx, plan.out_dims, plan.out_strides, out_off, plan.out_dims.size());
    }
}

template <class T>
void run_typed(ir::ComputeContext& ctx, const EinsumPlan& plan) {
    std::vector<const T*> in;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) in.push_back(ctx.input(i).data<T>());
    einsum<T>(plan, in, ctx.output(0).data<T>());
}

Status compute(ir::ComputeContext& ctx) {
    std::vector<ir::Shape> shapes;
    for (size_t i = 0; i < ctx.num_inputs(); ++i) shapes.push_back(ctx.input(i).shape());
    RT_ASSIGN_OR_RETURN(const EinsumPlan plan, plan_einsum(ctx.node(), shapes));
    switch (ctx.input(0).dtype()) {
        case ir::DType::kFloat32:
            run_typed<float>(ctx, plan);
            break;
        case ir::DType::kFloat64:
            run_typed<double>(ctx, plan);
            break;
        case ir::DType::kInt32:
            run_typed<int32_t>(ctx, plan);
            break;
        case ir::DType::kInt64:
            run_typed<int64_t>(ctx, plan);
            break;
        default:
            return ctx.error(std::string("input type ") + data_type_name(ctx.input(0).dtype()) + " is not supported");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kEinsumKernel = {"Einsum", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
