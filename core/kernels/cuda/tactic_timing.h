// Timing candidate tactics at build time so that the choice is stable under timing noise: each candidate's
// time is the median of several rounds (a round hit by another process's burst or a clock change does not
// decide), and a candidate replaces the one chosen before it only when it is clearly faster. Two builds of a
// model on an idle and a busy GPU then tend to choose the same tactics; the timing cache makes it certain.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <array>

#include "core/kernels/cuda/cuda_check.h"
#include "core/kernels/cuda/device_info.h"

namespace rtinfer::cuda {

// How much faster (as a fraction) a candidate must be to replace the one chosen before it.
constexpr float kTacticMargin = 0.03f;

inline bool clearly_faster(float candidate_ms, float chosen_ms) {
    return candidate_ms < chosen_ms * (1.0f - kTacticMargin);
}

// Milliseconds per call of fn on the stream: after a warm-up, the median over rounds of the mean of a few
// back-to-back calls. In each round the GPU waits while the host queues the calls, so host launch overhead
// (and a busy host) does not enter the measurement.
template <class Fn>
Expected<float> time_ms(cudaStream_t stream, Fn fn) {
    constexpr int kRounds = 5;
    constexpr int kRuns = 4;
    Event start, stop;
    RT_RETURN_IF_ERROR(start.create());
    RT_RETURN_IF_ERROR(stop.create());
    for (int i = 0; i < 3; ++i) RT_RETURN_IF_ERROR(fn());
    std::array<float, kRounds> rounds{};
    for (float& round : rounds) {
        RT_RETURN_IF_ERROR(hold_stream(stream, 1000.0));
        RT_CUDA_CHECK(cudaEventRecord(start.get(), stream));
        for (int i = 0; i < kRuns; ++i) RT_RETURN_IF_ERROR(fn());
        RT_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
        RT_CUDA_CHECK(cudaEventSynchronize(stop.get()));
        float ms = 0.0f;
        RT_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
        round = ms / kRuns;
    }
    std::nth_element(rounds.begin(), rounds.begin() + kRounds / 2, rounds.end());
    return rounds[kRounds / 2];
}

}  // namespace rtinfer::cuda
