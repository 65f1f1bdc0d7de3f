#include "drivers/plugin_loader.h"

#include <dlfcn.h>

#include <filesystem>
#include <fstream>

#include "drivers/driver_registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#ifdef SOUTHGATE_HAVE_SIM
#include "schema/yang_context.h"
#endif

namespace southgate::drivers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kTestPlugins = SOUTHGATE_TEST_PLUGIN_DIR;

bool StillLoaded(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);
  return true;
}

TEST(PluginLoaderTest, LoadsAWellFormedPlugin) {
  PluginLoader loader;
  DriverRegistry registry;  // destroyed before the loader closes plugins
  const std::string path = kTestPlugins + "/good.so";
  absl::Status status = loader.Load(path, registry);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(registry.Contains("good"));
  EXPECT_THAT(loader.loaded(), ElementsAre(path));
  EXPECT_TRUE(StillLoaded(path));
}

TEST(PluginLoaderTest, RefusesAnotherAbiVersionAndUnloadsIt) {
  PluginLoader loader;
  DriverRegistry registry;
  const std::string path = kTestPlugins + "/bad_abi.so";
  absl::Status status = loader.Load(path, registry);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_THAT(status.message(),
              HasSubstr(std::string("expected \"") + kDriverAbiVersion + "\""));
  EXPECT_THAT(status.message(), HasSubstr("found \"southgate-driver-abi/0\""));
  EXPECT_FALSE(registry.Contains("bad_abi")) << "register must not be called";
  EXPECT_TRUE(loader.loaded().empty());
  EXPECT_FALSE(StillLoaded(path)) << "refused plugin must be dlclose()d";
}

TEST(PluginLoaderTest, RefusesAPluginWithoutTheAbiSymbol) {
  PluginLoader loader;
  DriverRegistry registry;
  const std::string path = kTestPlugins + "/no_abi.so";
  absl::Status status = loader.Load(path, registry);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(path));
  EXPECT_THAT(status.message(), HasSubstr("southgate_driver_abi_version"));
  EXPECT_THAT(status.message(), HasSubstr(kDriverAbiVersion));
  EXPECT_FALSE(registry.Contains("no_abi"));
  EXPECT_FALSE(StillLoaded(path));
}

TEST(PluginLoaderTest, RefusesAFileThatIsNotASharedObject) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "garbage";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "garbage.so").string();
  std::ofstream(path) << "not an ELF file";
  PluginLoader loader;
  DriverRegistry registry;
  absl::Status status = loader.Load(path, registry);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(path));
  // The whole directory: the error is reported.
  EXPECT_EQ(loader.LoadDirectory(dir.string(), registry).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PluginLoaderTest, LoadDirectoryLoadsGoodPluginsAndReportsBadOnes) {
  PluginLoader loader;
  DriverRegistry registry;
  absl::Status status = loader.LoadDirectory(kTestPlugins, registry);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("bad_abi.so"));
  EXPECT_THAT(registry.Names(), ElementsAre("good"));
  EXPECT_THAT(loader.loaded(), ElementsAre(kTestPlugins + "/good.so"));
}

TEST(PluginLoaderTest, MissingDirectoryIsNotFound) {
  PluginLoader loader;
  DriverRegistry registry;
  EXPECT_EQ(loader.LoadDirectory("/nonexistent/plugins", registry).code(),
            absl::StatusCode::kNotFound);
}

TEST(PluginLoaderTest, DuplicateDriverNameFromTwoPluginsFails) {
  PluginLoader loader;
  DriverRegistry registry;
  ASSERT_TRUE(registry
                  .Register("good",
                            [](const DeviceSettings&, const DriverContext&)
                                -> absl::StatusOr<std::unique_ptr<Driver>> {
                              return absl::UnimplementedError("x");
                            })
                  .ok());
  absl::Status status = loader.Load(kTestPlugins + "/good.so", registry);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("southgate_register_drivers"));
}

#ifdef SOUTHGATE_HAVE_SIM
TEST(PluginLoaderTest, LoadsTheSimPluginAndCreatesAWorkingDevice) {
  PluginLoader loader;
  DriverRegistry registry;
  absl::Status status = loader.LoadDirectory(SOUTHGATE_PLUGIN_DIR, registry);
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_TRUE(registry.Contains("sim"));

  schema::ContextCache schemas(
      {SOUTHGATE_SOURCE_DIR "/yang", "/usr/share/yuma/modules/ietf"});
  DeviceSettings settings;
  settings.name = "sim1";
  settings.driver = "sim";
  settings.options_json =
      R"({"seed": "examples/sim/ietf-default.json", "base_dir": ")" +
      std::string(SOUTHGATE_SOURCE_DIR) + R"(", "update_interval_ms": 0})";
  auto driver = registry.Create(settings, DriverContext{&schemas, ""});
  ASSERT_TRUE(driver.ok()) << driver.status();
  status = (*driver)->Connect();
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ((*driver)->Status().state, ConnectionState::kConnected);
  auto json =
      (*driver)->Get({"/ietf-system:system/hostname"}, DataType::kConfig);
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("sim-router"));
}
#endif

}  // namespace
}  // namespace southgate::drivers
