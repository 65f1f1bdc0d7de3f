#include "drivers/driver_registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace southgate::drivers {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FakeDriver : public Driver {
 public:
  absl::Status Connect() override { return absl::OkStatus(); }
  void Close() override {}
  DeviceStatus Status() const override { return {}; }
  std::shared_ptr<const schema::YangContext> Schema() const override {
    return nullptr;
  }
  std::vector<ModelInfo> Models() const override { return {}; }
  absl::StatusOr<std::string> Get(const std::vector<std::string>&,
                                  DataType) override {
    return "{}";
  }
  absl::Status Set(const Transaction&) override { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      const std::vector<SubscriptionSpec>&,
      std::shared_ptr<NotificationSink>) override {
    return absl::UnimplementedError("no");
  }
};

absl::StatusOr<std::unique_ptr<Driver>> CreateFake(const DeviceSettings&,
                                                   const DriverContext&) {
  return std::make_unique<FakeDriver>();
}

SOUTHGATE_REGISTER_BUILTIN_DRIVER(test_builtin, &CreateFake);

TEST(DriverRegistryTest, RegistersAndCreates) {
  DriverRegistry registry;
  ASSERT_TRUE(registry.Register("fake", &CreateFake).ok());
  ASSERT_TRUE(registry.Register("another", &CreateFake).ok());
  EXPECT_THAT(registry.Names(), ElementsAre("another", "fake"));
  EXPECT_TRUE(registry.Contains("fake"));

  DeviceSettings settings;
  settings.name = "dev1";
  settings.driver = "fake";
  auto driver = registry.Create(settings, DriverContext{});
  ASSERT_TRUE(driver.ok()) << driver.status();
  EXPECT_NE(*driver, nullptr);
}

TEST(DriverRegistryTest, DuplicateNameIsAlreadyExists) {
  DriverRegistry registry;
  ASSERT_TRUE(registry.Register("fake", &CreateFake).ok());
  absl::Status status = registry.Register("fake", &CreateFake);
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(status.message(), HasSubstr("fake"));
  EXPECT_THAT(registry.Names(), ElementsAre("fake"));
}

TEST(DriverRegistryTest, RejectsEmptyNameAndFactory) {
  DriverRegistry registry;
  EXPECT_EQ(registry.Register("", &CreateFake).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Register("x", DriverFactory()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.Names().empty());
}

TEST(DriverRegistryTest, UnknownDriverIsNotFoundListingKnownDrivers) {
  DriverRegistry registry;
  DeviceSettings settings;
  settings.name = "dev1";
  settings.driver = "netconf";
  auto driver = registry.Create(settings, DriverContext{});
  EXPECT_EQ(driver.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(driver.status().message(), HasSubstr("none"));

  ASSERT_TRUE(registry.Register("sim", &CreateFake).ok());
  ASSERT_TRUE(registry.Register("gnmi", &CreateFake).ok());
  driver = registry.Create(settings, DriverContext{});
  EXPECT_EQ(driver.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(driver.status().message(), HasSubstr("'netconf'"));
  EXPECT_THAT(driver.status().message(), HasSubstr("dev1"));
  EXPECT_THAT(driver.status().message(), HasSubstr("gnmi, sim"));
}

TEST(DriverRegistryTest, FactoryErrorsPassThrough) {
  DriverRegistry registry;
  ASSERT_TRUE(registry
                  .Register("broken",
                            [](const DeviceSettings&, const DriverContext&)
                                -> absl::StatusOr<std::unique_ptr<Driver>> {
                              return absl::InvalidArgumentError("bad options");
                            })
                  .ok());
  ASSERT_TRUE(registry
                  .Register("null",
                            [](const DeviceSettings&, const DriverContext&)
                                -> absl::StatusOr<std::unique_ptr<Driver>> {
                              return std::unique_ptr<Driver>();
                            })
                  .ok());
  DeviceSettings settings;
  settings.driver = "broken";
  EXPECT_EQ(registry.Create(settings, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  settings.driver = "null";
  EXPECT_EQ(registry.Create(settings, {}).status().code(),
            absl::StatusCode::kInternal);
}

TEST(DriverRegistryTest, BuiltinDriversRegisterOnce) {
  DriverRegistry registry;
  ASSERT_TRUE(registry.RegisterBuiltins().ok());
  EXPECT_TRUE(registry.Contains("test_builtin"));
  EXPECT_EQ(registry.RegisterBuiltins().code(),
            absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace southgate::drivers
