// TfIdfVectorizer (opset 9) over integer tokens: counts the pool's n-grams (with up to max_skip_count
// skipped tokens between items) per row, then applies TF, IDF or TFIDF weighting. Unigrams are counted
// once, not once per skip distance, as in ONNX Runtime. String pools are not supported (no string tensors).
#include <algorithm>
#include <map>
#include <vector>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

struct TfIdfParams {
    int64_t min_gram = 1, max_gram = 1, max_skip = 0, out_size = 0;
    enum Mode { kTf, kIdf, kTfIdf } mode = kTf;
    std::map<std::vector<int64_t>, int64_t> pool;  // n-gram -> output index
    std::vector<float> weights;
};

template <class Ctx>
Status read_params(const Ctx& ctx, TfIdfParams& p) {
    const ir::Node& node = ctx.node();
    p.min_gram = node.attr_int("min_gram_length", 0);
    p.max_gram = node.attr_int("max_gram_length", 0);
    p.max_skip = node.attr_int("max_skip_count", 0);
    if (p.min_gram < 1 || p.max_gram < p.min_gram) {
        return ctx.error("needs 1 <= min_gram_length <= max_gram_length");
    }
    if (p.max_skip < 0) return ctx.error("max_skip_count must not be negative");
    const std::string mode = node.attr_string("mode", "");
    if (mode == "TF") {
        p.mode = TfIdfParams::kTf;
    } else if (mode == "IDF") {
        p.mode = TfIdfParams::kIdf;
    } else if (mode == "TFIDF") {
        p.mode = TfIdfParams::kTfIdf;
    } else {
        return ctx.error("mode must be TF, IDF or TFIDF, got '" + mode + "'");
    }
    if (node.has_attr("pool_strings")) return ctx.error("string pools are not supported", StatusCode::kUnsupported);
    const std::vector<int64_t> pool = node.attr_ints("pool_int64s");
    const std::vector<int64_t> counts = node.attr_ints("ngram_counts");
    const std::vector<int64_t> indexes = node.attr_ints("ngram_indexes");
    p.weights = node.attr_floats("weights");
    // ngram_counts[i] is where the (i+1)-grams start in the pool.
    size_t gram = 0;
    for (size_t n = 1; n <= counts.size(); ++n) {
        const int64_t begin = counts[n - 1];
        const int64_t end = n < counts.size() ? counts[n] : static_cast<int64_t>(pool.size());
        if (begin < 0 || end < begin || end > static_cast<int64_t>(pool.size()) || (end - begin) % n != 0) {
            return ctx.error("ngram_counts do not fit pool_int64s");
        }
        for (int64_t at = begin; at < end; at += static_cast<int64_t>(n), ++gram) {
            if (gram >= indexes.size()) return ctx.error("ngram_indexes is shorter than the pool");
            p.pool[std::vector<int64_t>(pool.begin() + at, pool.begin() + at + static_cast<int64_t>(n))] =
                indexes[gram];
        }
    }
    for (int64_t i : indexes) {
        if (i < 0) return ctx.error("ngram_indexes must not be negative");
        p.out_size = std::max(p.out_size, i + 1);
    }
    if (!p.weights.empty() && static_cast<int64_t>(p.weights.size()) < p.out_size) {
        return ctx.error("weights must have one value per output index");
    }
    return Status();
}

Status infer(ir::InferContext& ctx) {
    if (!ctx.has_input(0)) return ctx.error("needs an input");
    const ir::DType t = ctx.input_dtype(0);
    if (t != ir::DType::kInt32 && t != ir::DType::kInt64) {
        return ctx.unsupported("input type " + misc::type_name(t) + " is not supported");
    }
    TfIdfParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, p));
    const ir::Shape& x = ctx.input_shape(0);
    if (x.size() == 1) {
        ctx.set_output(0, ir::DType::kFloat32, {p.out_size});
    } else if (x.size() == 2) {
        ctx.set_output(0, ir::DType::kFloat32, {x[0], p.out_size});
    } else {
        return ctx.error("input must be [C] or [N, C], got " + ir::shape_str(x));
    }
    return Status();
}

Status compute(ir::ComputeContext& ctx) {
    TfIdfParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, p));
    const ir::Tensor& xt = ctx.input(0);
    const std::vector<int64_t> x = ir::to_int64s(xt);
    const int64_t rows = xt.rank() == 2 ? xt.dim(0) : 1;
    const int64_t cols = xt.rank() == 2 ? xt.dim(1) : xt.dim(0);
    float* y = ctx.output(0).data<float>();
    std::vector<double> counts(static_cast<size_t>(p.out_size));
    std::vector<int64_t> gram;
    for (int64_t r = 0; r < rows; ++r) {
        std::fill(counts.begin(), counts.end(), 0.0);
        const int64_t* row = x.data() + r * cols;
        for (int64_t skip = 0; skip <= p.max_skip; ++skip) {
            const int64_t stride = skip + 1;
            for (int64_t start = 0; start < cols; ++start) {
                for (int64_t n = std::max<int64_t>(p.min_gram, skip > 0 ? 2 : 1); n <= p.max_gram; ++n) {
                    if (start + (n - 1) * stride >= cols) break;
                    gram.clear();
                    for (int64_t j = 0; j < n; ++j) gram.push_back(row[start + j * stride]);
                    auto it = p.pool.find(gram);
                    if (it != p.pool.end()) counts[static_cast<size_t>(it->second)] += 1.0;
                }
            }
        }
        for (int64_t i = 0; i < p.out_size; ++i) {
            const double c = counts[static_cast<size_t>(i)];
            const double w = p.weights.empty() ? 1.0 : p.weights[static_cast<size_t>(i)];
            double v = c;
            if (p.mode == TfIdfParams::kIdf) v = c > 0.0 ? w : 0.0;
            if (p.mode == TfIdfParams::kTfIdf) v = c * w;
            y[r * p.out_size + i] = static_cast<float>(v);
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kTfIdfVectorizerKernel = {"TfIdfVectorizer", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
