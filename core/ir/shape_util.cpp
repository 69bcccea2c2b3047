#include "core/ir/shape_util.h"

#include <algorithm>

namespace rtinfer::ir {

Expected<Shape> broadcast_shapes(const Shape& a, const Shape& b) {
    const size_t rank = std::max(a.size(), b.size());
    Shape out(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        if (da == db || db == 1) {
            out[i] = da;
        } else if (da == 1) {
            out[i] = db;
        } else {
            return Status(StatusCode::kInvalidModel,
                          "shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be broadcast together");
        }
    }
    return out;
}

Expected<int> normalize_axis(int64_t axis, int rank) {
    if (axis < -rank || axis >= std::max(rank, 1)) {
        return Status(StatusCode::kInvalidModel,
                      "axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
    }
    return static_cast<int>(axis < 0 ? axis + rank : axis);
}

std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out) {
    std::vector<int64_t> strides(out.size(), 0);
    const auto in_strides = shape_strides(in);
    const size_t offset = out.size() - in.size();
    for (size_t i = 0; i < in.size(); ++i) {
        strides[i + offset] = in[i] == 1 ? 0 : in_strides[i];
    }
    return strides;
}

}  // namespace rtinfer::ir
