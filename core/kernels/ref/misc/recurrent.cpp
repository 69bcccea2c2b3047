// RNN, GRU and LSTM (opset 7, 14): one kernel shape for the three cells. Forward, reverse and
// bidirectional; optional B, sequence_lens, initial_h, initial_c and P; layout 0 ([seq, batch, ...]) and,
// from opset 14, layout 1 ([batch, seq, ...]). Steps past a batch entry's sequence length write zeros to Y;
// Y_h/Y_c hold the state after the entry's last valid step. clip bounds every gate's pre-activation.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include <cblas.h>

#include "core/kernels/ref/misc/kernels.h"
#include "core/kernels/ref/misc/misc_util.h"

namespace rtinfer::ref {
namespace {

enum class Cell { kRnn, kGru, kLstm };

int gate_count(Cell cell) {
    return cell == Cell::kLstm ? 4 : cell == Cell::kGru ? 3 : 1;
}
int activation_count(Cell cell) {
    return cell == Cell::kLstm ? 3 : cell == Cell::kGru ? 2 : 1;
}

struct Activation {
    std::string name;  // lower case
    double alpha = 0.0, beta = 0.0;

    double operator()(double x) const {
        if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
        if (name == "tanh") return std::tanh(x);
        if (name == "relu") return std::max(x, 0.0);
        if (name == "affine") return alpha * x + beta;
        if (name == "leakyrelu") return x >= 0.0 ? x : alpha * x;
        if (name == "thresholdedrelu") return x > alpha ? x : 0.0;
        if (name == "scaledtanh") return alpha * std::tanh(beta * x);
        if (name == "hardsigmoid") return std::clamp(alpha * x + beta, 0.0, 1.0);
        if (name == "elu") return x >= 0.0 ? x : alpha * (std::exp(x) - 1.0);
        if (name == "softsign") return x / (1.0 + std::abs(x));
        return std::log1p(std::exp(x));  // softplus; names are validated when the params are read
    }
};

struct RecurrentParams {
    Cell cell = Cell::kRnn;
    int64_t hidden = 0;
    int dirs = 1;
    bool reverse = false;  // direction == "reverse"
    bool batch_first = false;
    double clip = 0.0;  // 0 = no clip
    bool linear_before_reset = false;
    bool input_forget = false;
    std::vector<Activation> acts;  // activation_count(cell) per direction
};

// Default alpha/beta of the activations that take them, as ONNX Runtime uses them.
bool activation_defaults(const std::string& name, bool& uses_alpha, bool& uses_beta, double& alpha, double& beta) {
    uses_alpha = uses_beta = false;
    alpha = beta = 0.0;
    if (name == "sigmoid" || name == "tanh" || name == "relu" || name == "softsign" || name == "softplus") return true;
    if (name == "affine") {
        uses_alpha = uses_beta = true;
        alpha = 1.0;
    } else if (name == "leakyrelu") {
        uses_alpha = true;
        alpha = 0.01;
    } else if (name == "thresholdedrelu" || name == "elu") {
        uses_alpha = true;
        alpha = 1.0;
    } else if (name == "scaledtanh") {
        uses_alpha = uses_beta = true;
        alpha = beta = 1.0;
    } else if (name == "hardsigmoid") {
        uses_alpha = uses_beta = true;
        alpha = 0.2;
        beta = 0.5;
    } else {
        return false;
    }
    return true;
}

template <class Ctx>
Status read_params(const Ctx& ctx, Cell cell, int64_t r_hidden, RecurrentParams& p) {
    const ir::Node& node = ctx.node();
    p.cell = cell;
    const std::string direction = node.attr_string("direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional") {
        return ctx.error("direction must be forward, reverse or bidirectional, got '" + direction + "'");
    }
    p.dirs = direction == "bidirectional" ? 2 : 1;
    p.reverse = direction == "reverse";
    p.hidden = node.attr_int("hidden_size", r_hidden);
    if (p.hidden != r_hidden) {
        return ctx.error("hidden_size " + std::to_string(p.hidden) + " does not match R's last dim " +
                         std::to_string(r_hidden));
    }
    const int64_t layout = ctx.opset() >= 14 ? node.attr_int("layout", 0) : 0;
    if (layout != 0 && layout != 1) return ctx.error("layout must be 0 or 1");
    p.batch_first = layout == 1;
    p.clip = node.has_attr("clip") ? node.attr_float("clip", 0.0f) : 0.0;
    if (node.has_attr("clip") && p.clip <= 0.0) return ctx.error("clip must be positive");
    p.linear_before_reset = cell == Cell::kGru && node.attr_int("linear_before_reset", 0) != 0;
    p.input_forget = cell == Cell::kLstm && node.attr_int("input_forget", 0) != 0;

    const int n = activation_count(cell);
    std::vector<std::string> names;
    if (const ir::Attribute* a = node.attr("activations")) names = a->strings;
    if (names.empty()) {
        const char* defaults[] = {cell == Cell::kRnn ? "tanh" : "sigmoid", "tanh", "tanh"};
        for (int d = 0; d < p.dirs; ++d) names.insert(names.end(), defaults, defaults + n);
    } else if (names.size() == static_cast<size_t>(n) && p.dirs == 2) {
        names.insert(names.end(), names.begin(), names.end());
    }
    if (names.size() != static_cast<size_t>(n * p.dirs)) {
        return ctx.error("activations must list " + std::to_string(n * p.dirs) + " functions, got " +
                         std::to_string(names.size()));
    }
    const std::vector<float> alphas = node.attr_floats("activation_alpha");
    const std::vector<float> betas = node.attr_floats("activation_beta");
    size_t next_alpha = 0, next_beta = 0;
    p.acts.clear();
    for (std::string name : names) {
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        Activation act{name};
        bool uses_alpha, uses_beta;
        if (!activation_defaults(name, uses_alpha, uses_beta, act.alpha, act.beta)) {
            return ctx.error("activation '" + name + "' is not supported", StatusCode::kUnsupported);
        }
        if (uses_alpha && next_alpha < alphas.size()) act.alpha = alphas[next_alpha++];
        if (uses_beta && next_beta < betas.size()) act.beta = betas[next_beta++];
        p.acts.push_back(act);
    }
    return Status();
}

template <Cell kCell>
Status infer(ir::InferContext& ctx) {
    const size_t max_inputs = kCell == Cell::kLstm ? 8 : 6;
    if (ctx.num_inputs() < 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
        return ctx.error("needs X, W and R");
    }
    if (ctx.num_inputs() > max_inputs) return ctx.error("has too many inputs");
    const ir::DType t = ctx.input_dtype(0);
    if (!misc::is_float_type(t)) return ctx.unsupported("input type " + misc::type_name(t) + " is not supported");
    const ir::Shape& x = ctx.input_shape(0);
    const ir::Shape& w = ctx.input_shape(1);
    const ir::Shape& r = ctx.input_shape(2);
    if (x.size() != 3 || w.size() != 3 || r.size() != 3) return ctx.error("X, W and R must be 3-D");
    RecurrentParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, kCell, r[2], p));
    const int64_t g = gate_count(kCell), h = p.hidden, dirs = p.dirs;
    const int64_t seq = p.batch_first ? x[1] : x[0];
    const int64_t batch = p.batch_first ? x[0] : x[1];
    auto expect = [&](size_t i, const ir::Shape& want, const char* what) -> Status {
        if (ctx.has_input(i) && ctx.input_shape(i) != want) {
            return ctx.error(std::string(what) + " must be " + ir::shape_str(want) + ", got " +
                             ir::shape_str(ctx.input_shape(i)));
        }
        return Status();
    };
    const ir::Shape state = p.batch_first ? ir::Shape{batch, dirs, h} : ir::Shape{dirs, batch, h};
    RT_RETURN_IF_ERROR(expect(1, {dirs, g * h, x[2]}, "W"));
    RT_RETURN_IF_ERROR(expect(2, {dirs, g * h, h}, "R"));
    RT_RETURN_IF_ERROR(expect(3, {dirs, 2 * g * h}, "B"));
    RT_RETURN_IF_ERROR(expect(4, {batch}, "sequence_lens"));
    RT_RETURN_IF_ERROR(expect(5, state, "initial_h"));
    if (kCell == Cell::kLstm) {
        RT_RETURN_IF_ERROR(expect(6, state, "initial_c"));
        RT_RETURN_IF_ERROR(expect(7, {dirs, 3 * h}, "P"));
    }
    if (ctx.has_input(4) && ctx.input_dtype(4) != ir::DType::kInt32 && ctx.input_dtype(4) != ir::DType::kInt64) {
        return ctx.error("sequence_lens must be int32");
    }
    if (ctx.has_output(0)) {
        ctx.set_output(0, t, p.batch_first ? ir::Shape{batch, seq, dirs, h} : ir::Shape{seq, dirs, batch, h});
    }
    if (ctx.num_outputs() > 1 && ctx.has_output(1)) ctx.set_output(1, t, state);
    if (ctx.num_outputs() > 2 && ctx.has_output(2)) {
        if (kCell != Cell::kLstm) return ctx.error("has too many outputs");
        ctx.set_output(2, t, state);
    }
    return Status();
}

struct Weights {
    std::vector<double> x, w, r, b, init_h, init_c, p;
    std::vector<int64_t> lens;
};

template <Cell kCell>
Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& xt = ctx.input(0);
    RecurrentParams p;
    RT_RETURN_IF_ERROR(read_params(ctx, kCell, ctx.input(2).dim(2), p));
    const int64_t g = gate_count(kCell), hs = p.hidden, dirs = p.dirs, in = xt.dim(2);
    const int64_t seq = p.batch_first ? xt.dim(1) : xt.dim(0);
    const int64_t batch = p.batch_first ? xt.dim(0) : xt.dim(1);
    Weights wt;
    wt.x = ir::to_doubles(xt);
    wt.w = ir::to_doubles(ctx.input(1));
    wt.r = ir::to_doubles(ctx.input(2));
    if (ctx.has_input(3)) wt.b = ir::to_doubles(ctx.input(3));
    if (ctx.has_input(4)) wt.lens = ir::to_int64s(ctx.input(4));
    if (ctx.has_input(5)) wt.init_h = ir::to_doubles(ctx.input(5));
    if (kCell == Cell::kLstm && ctx.has_input(6)) wt.init_c = ir::to_doubles(ctx.input(6));
    if (kCell == Cell::kLstm && ctx.has_input(7)) wt.p = ir::to_doubles(ctx.input(7));
    for (int64_t len : wt.lens) {
        if (len < 0 || len > seq) return ctx.error("sequence length " + std::to_string(len) + " is out of range");
    }

    ir::Tensor* y = ctx.has_output(0) ? &ctx.output(0) : nullptr;
    ir::Tensor* y_h = ctx.num_outputs() > 1 && ctx.has_output(1) ? &ctx.output(1) : nullptr;
    ir::Tensor* y_c = ctx.num_outputs() > 2 && ctx.has_output(2) ? &ctx.output(2) : nullptr;
    if (y) {
        for (int64_t i = 0; i < y->numel(); ++i) misc::store_value(*y, i, 0.0);
    }
    auto x_row = [&](int64_t t, int64_t b) { return p.batch_first ? b * seq + t : t * batch + b; };
    auto y_off = [&](int64_t t, int64_t d, int64_t b) {
        return (p.batch_first ? (b * seq + t) * dirs + d : (t * dirs + d) * batch + b) * hs;
    };
    auto state_off = [&](int64_t d, int64_t b) { return (p.batch_first ? b * dirs + d : d * batch + b) * hs; };
    auto clip = [&](double v) { return p.clip > 0.0 ? std::clamp(v, -p.clip, p.clip) : v; };

    std::vector<double> h(static_cast<size_t>(hs)), c(static_cast<size_t>(hs)), pre(static_cast<size_t>(g * hs));
    std::vector<double> rh(static_cast<size_t>(hs)), h_new(static_cast<size_t>(hs)), hid(static_cast<size_t>(hs));
    std::vector<double> xw(static_cast<size_t>(seq * batch * g * hs));
    const int nact = activation_count(kCell);
    // GRU's hidden gate multiplies R_h by r (.) h, so only the z and r rows of R see h directly.
    const int64_t r_rows = kCell == Cell::kGru ? 2 * hs : g * hs;
    for (int64_t d = 0; d < dirs; ++d) {
        const bool backward = p.reverse || d == 1;
        const Activation* act = &p.acts[static_cast<size_t>(d * nact)];
        const double* w = &wt.w[static_cast<size_t>(d * g * hs * in)];
        const double* r = &wt.r[static_cast<size_t>(d * g * hs * hs)];
        const double* wb = wt.b.empty() ? nullptr : &wt.b[static_cast<size_t>(d * 2 * g * hs)];
        const double* rb = wb ? wb + g * hs : nullptr;
        const double* peep = wt.p.empty() ? nullptr : &wt.p[static_cast<size_t>(d * 3 * hs)];
        // The input projection of every step at once: xw = X W^T, rows in X's own (t, b) or (b, t) order.
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(seq * batch), static_cast<int>(g * hs),
                    static_cast<int>(in), 1.0, wt.x.data(), static_cast<int>(in), w, static_cast<int>(in), 0.0,
                    xw.data(), static_cast<int>(g * hs));
        for (int64_t b = 0; b < batch; ++b) {
            const size_t so = static_cast<size_t>(state_off(d, b));
            for (int64_t j = 0; j < hs; ++j) {
                h[j] = wt.init_h.empty() ? 0.0 : wt.init_h[so + j];
                c[j] = wt.init_c.empty() ? 0.0 : wt.init_c[so + j];
            }
            const int64_t len = wt.lens.empty() ? seq : wt.lens[static_cast<size_t>(b)];
            for (int64_t step = 0; step < len; ++step) {
                const int64_t t = backward ? len - 1 - step : step;
                const double* xv = &xw[static_cast<size_t>(x_row(t, b) * g * hs)];
                cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(r_rows), static_cast<int>(hs), 1.0, r,
                            static_cast<int>(hs), h.data(), 1, 0.0, pre.data(), 1);
                for (int64_t k = 0; k < g * hs; ++k) {
                    const bool recurrent = k < r_rows;
                    pre[k] = xv[k] + (wb ? wb[k] : 0.0) + (recurrent ? pre[k] + (rb ? rb[k] : 0.0) : 0.0);
                }
                if (kCell == Cell::kRnn) {
                    for (int64_t j = 0; j < hs; ++j) h_new[j] = act[0](clip(pre[j]));
                } else if (kCell == Cell::kGru) {
                    for (int64_t j = 0; j < hs; ++j) rh[j] = act[0](clip(pre[hs + j]));  // r gate
                    // hid = R_h h (linear_before_reset) or R_h (r . h)
                    for (int64_t j = 0; j < hs; ++j) h_new[j] = p.linear_before_reset ? h[j] : rh[j] * h[j];
                    cblas_dgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(hs), static_cast<int>(hs), 1.0,
                                r + 2 * hs * hs, static_cast<int>(hs), h_new.data(), 1, 0.0, hid.data(), 1);
                    for (int64_t j = 0; j < hs; ++j) {
                        const double rbh = rb ? rb[2 * hs + j] : 0.0;
                        const double s = p.linear_before_reset ? rh[j] * (hid[j] + rbh) : hid[j] + rbh;
                        const double z = act[0](clip(pre[j]));
                        const double cand = act[1](clip(pre[2 * hs + j] + s));
                        h_new[j] = (1.0 - z) * cand + z * h[j];
                    }
                } else {  // LSTM, gates in the order i, o, f, c; peepholes in the order i, o, f
                    for (int64_t j = 0; j < hs; ++j) {
                        const double pi = peep ? peep[j] : 0.0, po = peep ? peep[hs + j] : 0.0;
                        const double pf = peep ? peep[2 * hs + j] : 0.0;
                        const double ig = act[0](clip(pre[j] + pi * c[j]));
                        const double fg = p.input_forget ? 1.0 - ig : act[0](clip(pre[2 * hs + j] + pf * c[j]));
                        const double cand = act[1](clip(pre[3 * hs + j]));
                        c[j] = fg * c[j] + ig * cand;
                        const double og = act[0](clip(pre[hs + j] + po * c[j]));
                        h_new[j] = og * act[2](c[j]);
                    }
                }
                h.swap(h_new);
                if (y) {
                    const int64_t yo = y_off(t, d, b);
                    for (int64_t j = 0; j < hs; ++j) misc::store_value(*y, yo + j, h[j]);
                }
            }
            for (int64_t j = 0; j < hs; ++j) {
                if (y_h) misc::store_value(*y_h, static_cast<int64_t>(so) + j, h[j]);
                if (y_c) misc::store_value(*y_c, static_cast<int64_t>(so) + j, c[j]);
            }
        }
    }
    return Status();
}

}  // namespace

const ir::OpKernel kRnnKernel = {"RNN", "", infer<Cell::kRnn>, compute<Cell::kRnn>, ir::kOpNone};
const ir::OpKernel kGruKernel = {"GRU", "", infer<Cell::kGru>, compute<Cell::kGru>, ir::kOpNone};
const ir::OpKernel kLstmKernel = {"LSTM", "", infer<Cell::kLstm>, compute<Cell::kLstm>, ir::kOpNone};

}  // namespace rtinfer::ref
