// Det: the determinant of each trailing M x M matrix, by LU decomposition with partial pivoting in double.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/kernels/ref/reduce/kernels.h"
#include "core/kernels/ref/reduce/reduce_util.h"

namespace rtinfer::ref {
namespace {

Status infer(ir::InferContext& ctx) {
    const ir::DType t = ctx.input_dtype(0);
    if (!reduce::is_float_type(t)) {
        return ctx.unsupported(std::string("input type ") + data_type_name(t) + " is not supported");
    }
    const ir::Shape& s = ctx.input_shape(0);
    if (s.size() < 2 || s[s.size() - 1] != s[s.size() - 2]) {
        return ctx.error("input shape " + ir::shape_str(s) + " is not [*, M, M]");
    }
    ctx.set_output(0, t, ir::Shape(s.begin(), s.end() - 2));
    return Status();
}

double determinant(std::vector<double>& a, int64_t m) {
    double det = 1.0;
    for (int64_t col = 0; col < m; ++col) {
        int64_t pivot = col;
        for (int64_t r = col + 1; r < m; ++r) {
            if (std::fabs(a[static_cast<size_t>(r * m + col)]) > std::fabs(a[static_cast<size_t>(pivot * m + col)])) {
                pivot = r;
            }
        }
        const double p = a[static_cast<size_t>(pivot * m + col)];
        if (p == 0.0) return 0.0;
        if (pivot != col) {
            for (int64_t k = 0; k < m; ++k) {
                std::swap(a[static_cast<size_t>(pivot * m + k)], a[static_cast<size_t>(col * m + k)]);
            }
            det = -det;
        }
        det *= p;
        for (int64_t r = col + 1; r < m; ++r) {
            const double f = a[static_cast<size_t>(r * m + col)] / p;
            for (int64_t k = col + 1; k < m; ++k)
                a[static_cast<size_t>(r * m + k)] -= f * a[static_cast<size_t>(col * m + k)];
        }
    }
    return det;
}

template <class T>
void run(const T* x, T* y, int64_t batch, int64_t m) {
    std::vector<double> a(static_cast<size_t>(m * m));
    for (int64_t b = 0; b < batch; ++b) {
        for (int64_t i = 0; i < m * m; ++i) a[static_cast<size_t>(i)] = static_cast<double>(x[b * m * m + i]);
        y[b] = static_cast<T>(determinant(a, m));
    }
}

Status compute(ir::ComputeContext& ctx) {
    const ir::Tensor& x = ctx.input(0);
    const int64_t m = x.dim(x.rank() - 1);
    const int64_t batch = ctx.output(0).numel();
    switch (x.dtype()) {
        case ir::DType::kFloat32:
            run(x.data<float>(), ctx.output(0).data<float>(), batch, m);
            break;
        case ir::DType::kFloat64:
            run(x.data<double>(), ctx.output(0).data<double>(), batch, m);
            break;
        default:
            return ctx.error(std::string("input type ") + data_type_name(x.dtype()) + " is not supported");
    }
    return Status();
}

}  // namespace

const ir::OpKernel kDetKernel = {"Det", "", infer, compute, ir::kOpNone};

}  // namespace rtinfer::ref
