// EngineCache: what the key depends on, the default folder, threads racing for one entry (one build),
// unwritable folders and check(). The CLI tests (tests/deploy/cache_test.py) race whole processes.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <utility>

#include "onnx/onnx.pb.h"
#include "rtinfer/engine_cache.h"
#include "rtinfer/rtinfer.h"

using namespace rtinfer;
namespace fs = std::filesystem;

namespace {

// y = Relu(...Relu(Relu(x) + b) + b...) + b, x [2,3], `layers` times; `bias` makes models with other bytes.
std::string relu_add_model(float bias, int layers = 1) {
    ::onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(17);
    auto& g = *m.mutable_graph();
    g.set_name("g");
    for (auto [vi, name] : {std::pair{g.add_input(), "x"}, std::pair{g.add_output(), "y"}}) {
        vi->set_name(name);
        auto* tt = vi->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(::onnx::TensorProto::FLOAT);
        for (int d : {2, 3}) tt->mutable_shape()->add_dim()->set_dim_value(d);
    }
    auto* b = g.add_initializer();
    b->set_name("b");
    b->set_data_type(::onnx::TensorProto::FLOAT);
    b->add_dims(3);
    for (int i = 0; i < 3; ++i) b->add_float_data(bias + 0.25f * static_cast<float>(i));
    std::string prev = "x";
    for (int i = 0; i < layers; ++i) {
        auto* relu = g.add_node();
        relu->set_op_type("Relu");
        relu->add_input(prev);
        relu->add_output("r" + std::to_string(i));
        auto* add = g.add_node();
        add->set_op_type("Add");
        add->add_input("r" + std::to_string(i));
        add->add_input("b");
        prev = i + 1 == layers ? "y" : "a" + std::to_string(i);
        add->add_output(prev);
    }
    return m.SerializeAsString();
}

class EngineCacheTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("rtinfer_engine_cache_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        onnx_ = (dir_ / "net.onnx").string();
        std::ofstream(onnx_, std::ios::binary) << relu_add_model(0.5f);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
    std::string onnx_;
};

// Sets an environment variable for one scope (nullptr = unset), restoring it afterwards.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value != nullptr) {
            ::setenv(name, value, 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_F(EngineCacheTest, KeyChangesWithWhatChangesTheEngine) {
    const std::string model = relu_add_model(0.5f), other = relu_add_model(0.75f);
    const BuilderConfig base;
    auto key = [](const std::string& bytes, const BuilderConfig& c) {
        auto k = EngineCache::key(bytes.data(), bytes.size(), c);
        EXPECT_TRUE(k.has_value()) << k.status().message();
        return k ? k->hash : std::string();
    };
    const std::string h = key(model, base);
    EXPECT_EQ(h.size(), 16u);
    EXPECT_EQ(key(model, base), h);
    EXPECT_NE(key(other, base), h);
    BuilderConfig fp16 = base;
    fp16.fp16 = true;
    EXPECT_NE(key(model, fp16), h);
    BuilderConfig batch = base;
    batch.max_batch = 4;
    EXPECT_NE(key(model, batch), h);
    BuilderConfig plugins = base;
    plugins.plugin_libraries = {"libx.so"};
    EXPECT_NE(key(model, plugins), h);
    BuilderConfig timing = base;
    timing.timing_cache_path = "/tmp/t.cache";  // tactics measured before: the same engine
    EXPECT_EQ(key(model, timing), h);

    auto k = EngineCache::key(model.data(), model.size(), base);
    ASSERT_TRUE(k.has_value());
    const std::string text = k->describe();
    EXPECT_NE(text.find("device=cpu\n"), std::string::npos) << text;
    EXPECT_NE(text.find(std::string("sdk=") + rt_version() + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("batch=0/0/0\n"), std::string::npos) << text;
    const std::string batched = EngineCache::key(model.data(), model.size(), batch)->describe();
    EXPECT_NE(batched.find("batch=0/0/4\n"), std::string::npos) << batched;
}

TEST_F(EngineCacheTest, DefaultFolderFollowsTheEnvironment) {
    ScopedEnv rt("RTINFER_CACHE_DIR", "/srv/engines"), xdg("XDG_CACHE_HOME", "/home/u/.xdg"), home("HOME", "/home/u");
    EXPECT_EQ(*EngineCache::default_directory(), "/srv/engines");
    EXPECT_EQ(*EngineCache("/given").directory(), "/given");
    {
        ScopedEnv no_rt("RTINFER_CACHE_DIR", nullptr);
        EXPECT_EQ(*EngineCache().directory(), "/home/u/.xdg/rtinfer");
        ScopedEnv no_xdg("XDG_CACHE_HOME", nullptr);
        EXPECT_EQ(*EngineCache().directory(), "/home/u/.cache/rtinfer");
        ScopedEnv no_home("HOME", nullptr);
        auto none = EngineCache().directory();
        ASSERT_FALSE(none.has_value());
        EXPECT_NE(none.status().message().find("RTINFER_CACHE_DIR"), std::string::npos);
    }
}

TEST_F(EngineCacheTest, ThreadsRacingForOneEntryBuildItOnce) {
    // A model whose build takes a while, and threads released together: they all miss the entry at first.
    std::ofstream(onnx_, std::ios::binary | std::ios::trunc) << relu_add_model(0.5f, 400);
    const std::string cache = (dir_ / "cache").string();
    constexpr int kThreads = 4;
    std::vector<std::optional<Expected<CachedEngine>>> results(kThreads);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < kThreads; ++i) {
        threads.emplace_back([&, i] {
            ready.fetch_add(1);
            while (ready.load() < kThreads) std::this_thread::yield();
            results[i].emplace(EngineCache(cache).load_or_build(onnx_, BuilderConfig()));
        });
    }
    for (auto& t : threads) t.join();
    int built = 0;
    std::string path;
    for (auto& r : results) {
        ASSERT_TRUE(r.has_value() && r->has_value()) << (r ? r->status().message() : "not run");
        const CachedEngine& e = **r;
        ASSERT_NE(e.engine, nullptr);
        if (path.empty()) path = e.path;
        EXPECT_EQ(e.path, path);
        built += e.outcome == CacheOutcome::kBuilt;
    }
    EXPECT_EQ(built, 1);
    int engines = 0;
    for (const auto& e : fs::directory_iterator(cache)) engines += e.path().extension() == ".engine";
    EXPECT_EQ(engines, 1);
    EXPECT_TRUE(fs::exists(path + ".key"));
    auto again = EngineCache(cache).load_or_build(onnx_, BuilderConfig());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->outcome, CacheOutcome::kLoaded);
}

TEST_F(EngineCacheTest, AnUnwritableFolderIsNamedOrTheEngineIsBuiltUncached) {
    std::ofstream(dir_ / "file") << "not a folder";
    const std::string cache = (dir_ / "file" / "cache").string();
    auto failed = EngineCache(cache).load_or_build(onnx_, BuilderConfig());
    ASSERT_FALSE(failed.has_value());
    EXPECT_NE(failed.status().message().find("engine cache folder '" + cache + "' is not writable"), std::string::npos)
        << failed.status().message();
    EngineCache lenient(cache);
    lenient.set_build_when_unwritable(true);
    auto built = lenient.load_or_build(onnx_, BuilderConfig());
    ASSERT_TRUE(built.has_value()) << built.status().message();
    EXPECT_EQ(built->outcome, CacheOutcome::kBuilt);
    EXPECT_NE(built->engine, nullptr);
}

TEST_F(EngineCacheTest, CheckSaysWhetherTheEntryLoads) {
    const EngineCache cache((dir_ / "cache").string());
    auto missing = cache.check(onnx_, BuilderConfig());
    ASSERT_TRUE(missing.has_value());
    EXPECT_FALSE(missing->current);
    EXPECT_EQ(missing->reason, "missing");
    ASSERT_TRUE(cache.load_or_build(onnx_, BuilderConfig()).has_value());
    auto current = cache.check(onnx_, BuilderConfig());
    ASSERT_TRUE(current.has_value());
    EXPECT_TRUE(current->current) << current->reason;
    EXPECT_EQ(current->path, missing->path);
    std::ofstream(current->path, std::ios::trunc) << "damaged";
    auto damaged = cache.check(onnx_, BuilderConfig());
    ASSERT_TRUE(damaged.has_value());
    EXPECT_FALSE(damaged->current);
    EXPECT_NE(damaged->reason.find("invalid engine"), std::string::npos) << damaged->reason;
    auto rebuilt = cache.load_or_build(onnx_, BuilderConfig());
    ASSERT_TRUE(rebuilt.has_value());
    EXPECT_EQ(rebuilt->outcome, CacheOutcome::kBuilt);
    EXPECT_FALSE(rebuilt->replaced.empty());
}
