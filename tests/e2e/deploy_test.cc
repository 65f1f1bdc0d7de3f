// Deployment artefacts: the install tree (and the installed daemon serving
// from it), the systemd unit (systemd-analyze verify), the Kubernetes
// manifests (structure and the restricted security settings, checked with
// yaml-cpp; plus `kubectl kustomize`: kubectl's dry runs need an API
// server, kustomize does not) and the Dockerfile.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace southgate::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs a shell command; its exit status and combined output.
std::pair<int, std::string> Shell(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, ""};
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, n);
  }
  int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

// One install into a scratch prefix, shared by the tests of this suite.
class InstallTree : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/southgate-install-XXXXXX";
    prefix_ = new fs::path(mkdtemp(pattern));
    auto [status, output] =
        Shell("cmake --install '" SOUTHGATE_BINARY_DIR "' --prefix '" +
              prefix_->string() + "'");
    install_status_ = status;
    install_output_ = new std::string(output);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    if (!getenv("SOUTHGATE_KEEP_TEST_DIRS")) fs::remove_all(*prefix_, ignored);
    delete prefix_;
    delete install_output_;
  }
  void SetUp() override { ASSERT_EQ(install_status_, 0) << *install_output_; }
  static fs::path* prefix_;
  static int install_status_;
  static std::string* install_output_;
};
fs::path* InstallTree::prefix_ = nullptr;
int InstallTree::install_status_ = -1;
std::string* InstallTree::install_output_ = nullptr;

TEST_F(InstallTree, HasBinaryPluginsLibrariesYangExamplesAndUnit) {
  const fs::path& p = *prefix_;
  EXPECT_TRUE(fs::exists(p / "bin/southgated"));
  EXPECT_TRUE(fs::exists(p / "lib/southgate/plugins/sim.so"));
  for (const char* lib : {"libsouthgate_ops.so", "libsouthgate_northbound.so",
                          "libsouthgate_devices.so", "libsouthgate_drivers.so",
                          "libsouthgate_schema.so", "libsouthgate_security.so",
                          "libsouthgate_config.so"}) {
    EXPECT_TRUE(fs::exists(p / "lib/southgate" / lib)) << lib;
  }
  EXPECT_TRUE(fs::exists(p / "share/southgate/yang/southgate-devices.yang"));
  EXPECT_TRUE(fs::exists(p / "share/southgate/examples/lab.yaml"));
  EXPECT_TRUE(fs::exists(p / "share/southgate/examples/sim/ietf-default.json"));
  EXPECT_TRUE(
      fs::exists(p / "share/southgate/examples/southgate.service.yaml"));
  EXPECT_TRUE(fs::exists(p / "lib/systemd/system/southgated.service"));
  EXPECT_TRUE(fs::exists(p / "lib/sysusers.d/southgate.conf"));
  // Every library the installed daemon needs resolves without the build
  // tree (RPATH $ORIGIN/../lib/southgate).
  auto [status, ldd] = Shell("ldd '" + (p / "bin/southgated").string() + "'");
  EXPECT_EQ(status, 0);
  EXPECT_THAT(ldd, ::testing::Not(HasSubstr("not found"))) << ldd;
  EXPECT_THAT(ldd, ::testing::Not(HasSubstr(SOUTHGATE_BINARY_DIR))) << ldd;
}

TEST_F(InstallTree, InstalledDaemonServesAGetFromTheInstallTreeAlone) {
  const std::string p = prefix_->string();
  // Nothing from the source or build tree: plugins, YANG and the seed all
  // come from the prefix.
  DaemonProcess daemon(R"(
server:
  listen: 127.0.0.1:{PORT}
state_dir: {DIR}/state
plugins:
  dir: )" + p + R"(/lib/southgate/plugins
yang:
  dirs: [ )" + p + R"(/share/southgate/yang, /usr/share/yuma/modules/ietf ]
{USERS}
devices:
  - name: sim1
    driver: sim
    options:
      seed: )" + p + R"(/share/southgate/examples/sim/ietf-default.json
)",
                       {}, p + "/bin/southgated");
  ASSERT_TRUE(daemon.WaitReady(std::chrono::seconds(60))) << daemon.Log();
  EXPECT_THAT(daemon.Log(), HasSubstr(p + "/lib/southgate/plugins"));
  auto stub = gnmi::gNMI::NewStub(daemon.TlsChannel());
  gnmi::GetRequest request;
  request.mutable_prefix()->set_target("sim1");
  auto* elem = request.add_path()->add_elem();
  elem->set_name("interfaces");
  request.set_encoding(gnmi::JSON_IETF);
  gnmi::GetResponse response;
  auto context = ContextFor("admin", "admin");
  grpc::Status status = stub->Get(context.get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.notification_size(), 1);
  EXPECT_THAT(response.notification(0).update(0).val().json_ietf_val(),
              HasSubstr("eth0"));
  EXPECT_EQ(daemon.Stop(SIGTERM), 0) << daemon.Log();
}

TEST_F(InstallTree, SystemdUnitVerifies) {
  fs::path installed = *prefix_ / "lib/systemd/system/southgated.service";
  std::string unit = ReadText(installed);
  // Generated at install time: it names this prefix's binary, so verify
  // checks that the executable exists.
  ASSERT_THAT(
      unit,
      HasSubstr("ExecStart=" + (*prefix_ / "bin/southgated").string() + " "));
  auto [status, output] =
      Shell("systemd-analyze verify --man=no '" + installed.string() + "'");
  EXPECT_EQ(status, 0) << output;
  // Warnings (unknown keys, bad values) do not fail verify: none allowed.
  EXPECT_THAT(output, ::testing::Not(HasSubstr("southgated.service:")))
      << output;

  for (const char* required :
       {"Type=notify",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "User=southgate",
        "StateDirectory=southgate",
        "CacheDirectory=southgate",
        "ConfigurationDirectory=southgate",
        "WatchdogSec=",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "AmbientCapabilities=\n",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "LockPersonality=yes",
        "RestrictNamespaces=yes",
        "ProtectKernelTunables=yes",
        "ProtectKernelModules=yes",
        "ProtectKernelLogs=yes",
        "ProtectControlGroups=yes",
        "UMask=0077"}) {
    EXPECT_THAT(unit, HasSubstr(required));
  }
}

// --- Kubernetes -----------------------------------------------------------

const fs::path kK8s = fs::path(SOUTHGATE_SOURCE_DIR) / "deploy/k8s";

std::map<std::string, std::vector<YAML::Node>> LoadManifests() {
  std::map<std::string, std::vector<YAML::Node>> by_kind;
  for (const auto& entry : fs::directory_iterator(kK8s)) {
    if (entry.path().extension() != ".yaml" ||
        entry.path().filename() == "kustomization.yaml") {
      continue;
    }
    for (const YAML::Node& doc : YAML::LoadAllFromFile(entry.path())) {
      if (!doc.IsMap()) continue;
      EXPECT_TRUE(doc["apiVersion"].IsScalar()) << entry.path();
      EXPECT_TRUE(doc["metadata"]["name"].IsScalar()) << entry.path();
      by_kind[doc["kind"].as<std::string>()].push_back(doc);
    }
  }
  return by_kind;
}

TEST(KubernetesManifests, EveryObjectIsThereAndConsistent) {
  auto objects = LoadManifests();
  for (const char* kind :
       {"Namespace", "Deployment", "Service", "ConfigMap", "Secret",
        "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy"}) {
    EXPECT_EQ(objects.count(kind), 1u) << kind;
  }
  ASSERT_EQ(objects["Deployment"].size(), 1u);
  YAML::Node deployment = objects["Deployment"][0];
  const std::string name = deployment["metadata"]["name"].as<std::string>();
  YAML::Node labels = deployment["spec"]["template"]["metadata"]["labels"];
  YAML::Node selector = deployment["spec"]["selector"]["matchLabels"];
  for (const auto& label : selector) {
    EXPECT_EQ(labels[label.first.as<std::string>()].as<std::string>(),
              label.second.as<std::string>());
  }
  // Service, PDB and NetworkPolicy select the pods; HPA scales the
  // Deployment.
  auto selects_pods = [&](const YAML::Node& match) {
    for (const auto& label : match) {
      if (!labels[label.first.as<std::string>()] ||
          labels[label.first.as<std::string>()].as<std::string>() !=
              label.second.as<std::string>()) {
        return false;
      }
    }
    return match.size() > 0;
  };
  EXPECT_TRUE(selects_pods(objects["Service"][0]["spec"]["selector"]));
  EXPECT_TRUE(selects_pods(
      objects["PodDisruptionBudget"][0]["spec"]["selector"]["matchLabels"]));
  EXPECT_TRUE(selects_pods(
      objects["NetworkPolicy"][0]["spec"]["podSelector"]["matchLabels"]));
  YAML::Node hpa = objects["HorizontalPodAutoscaler"][0]["spec"];
  EXPECT_EQ(hpa["scaleTargetRef"]["kind"].as<std::string>(), "Deployment");
  EXPECT_EQ(hpa["scaleTargetRef"]["name"].as<std::string>(), name);
  EXPECT_LE(hpa["minReplicas"].as<int>(), hpa["maxReplicas"].as<int>());
  EXPECT_GE(objects["PodDisruptionBudget"][0]["spec"]["minAvailable"].as<int>(),
            1);

  // Volumes reference the ConfigMap and Secrets that exist.
  std::set<std::string> config_maps, secrets;
  for (const auto& c : objects["ConfigMap"]) {
    config_maps.insert(c["metadata"]["name"].as<std::string>());
  }
  for (const auto& s : objects["Secret"]) {
    secrets.insert(s["metadata"]["name"].as<std::string>());
  }
  YAML::Node pod = deployment["spec"]["template"]["spec"];
  std::set<std::string> volumes;
  for (const auto& volume : pod["volumes"]) {
    volumes.insert(volume["name"].as<std::string>());
    if (volume["configMap"]) {
      EXPECT_TRUE(
          config_maps.count(volume["configMap"]["name"].as<std::string>()));
    }
    if (volume["secret"]) {
      EXPECT_TRUE(
          secrets.count(volume["secret"]["secretName"].as<std::string>()));
    }
  }
  ASSERT_EQ(pod["containers"].size(), 1u);
  YAML::Node container = pod["containers"][0];
  for (const auto& mount : container["volumeMounts"]) {
    EXPECT_TRUE(volumes.count(mount["name"].as<std::string>()));
  }
  // The Service's target port is a container port.
  std::set<std::string> port_names;
  for (const auto& port : container["ports"]) {
    port_names.insert(port["name"].as<std::string>());
  }
  for (const auto& port : objects["Service"][0]["spec"]["ports"]) {
    EXPECT_TRUE(port_names.count(port["targetPort"].as<std::string>()));
  }
}

TEST(KubernetesManifests, ProbesResourcesAndRestrictedSecurityContext) {
  auto objects = LoadManifests();
  YAML::Node pod = objects["Deployment"][0]["spec"]["template"]["spec"];
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"].as<std::string>(),
            "RuntimeDefault");
  EXPECT_FALSE(pod["automountServiceAccountToken"].as<bool>());
  YAML::Node container = pod["containers"][0];
  YAML::Node security = container["securityContext"];
  EXPECT_TRUE(security["runAsNonRoot"].as<bool>());
  EXPECT_TRUE(security["readOnlyRootFilesystem"].as<bool>());
  EXPECT_FALSE(security["allowPrivilegeEscalation"].as<bool>());
  ASSERT_EQ(security["capabilities"]["drop"].size(), 1u);
  EXPECT_EQ(security["capabilities"]["drop"][0].as<std::string>(), "ALL");
  EXPECT_FALSE(security["capabilities"]["add"]);
  EXPECT_EQ(security["seccompProfile"]["type"].as<std::string>(),
            "RuntimeDefault");
  EXPECT_EQ(container["livenessProbe"]["httpGet"]["path"].as<std::string>(),
            "/healthz");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["path"].as<std::string>(),
            "/readyz");
  EXPECT_EQ(container["readinessProbe"]["httpGet"]["port"].as<std::string>(),
            "ops");
  EXPECT_TRUE(container["resources"]["requests"]["cpu"]);
  EXPECT_TRUE(container["resources"]["requests"]["memory"]);
  EXPECT_TRUE(container["resources"]["limits"]["memory"]);

  // The configuration in the ConfigMap serves ops on the probed port, and
  // the state directory is a writable volume (the root is read-only).
  YAML::Node config = YAML::Load(
      objects["ConfigMap"][0]["data"]["southgate.yaml"].as<std::string>());
  EXPECT_EQ(config["ops"]["listen"].as<std::string>(), "0.0.0.0:9340");
  bool state_mounted = false;
  for (const auto& mount : container["volumeMounts"]) {
    if (mount["mountPath"].as<std::string>() ==
        config["state_dir"].as<std::string>()) {
      state_mounted = !mount["readOnly"] || !mount["readOnly"].as<bool>();
    }
  }
  EXPECT_TRUE(state_mounted);
}

TEST(KubernetesManifests, SecretsHoldPlaceholdersOnly) {
  auto objects = LoadManifests();
  for (const auto& secret : objects["Secret"]) {
    EXPECT_FALSE(secret["data"]) << "use stringData placeholders";
    for (const auto& item : secret["stringData"]) {
      EXPECT_THAT(item.second.as<std::string>(), HasSubstr("REPLACE-ME"))
          << secret["metadata"]["name"] << "/" << item.first;
    }
  }
}

TEST(KubernetesManifests, KustomizeRendersOffline) {
  // scripts/install-deps.sh installs kubectl (Debian's kubernetes-client).
  ASSERT_EQ(Shell("command -v kubectl").first, 0) << "kubectl is missing";
  auto [status, output] = Shell("kubectl kustomize '" + kK8s.string() + "'");
  ASSERT_EQ(status, 0) << output;
  for (const char* kind :
       {"kind: Deployment", "kind: Service", "kind: ConfigMap", "kind: Secret",
        "kind: HorizontalPodAutoscaler", "kind: PodDisruptionBudget",
        "kind: NetworkPolicy", "namespace: southgate"}) {
    EXPECT_THAT(output, HasSubstr(kind));
  }
}

TEST(Dockerfile, MultiStageOnDebian12WithTheProjectScripts) {
  std::string dockerfile =
      ReadText(fs::path(SOUTHGATE_SOURCE_DIR) / "deploy/docker/Dockerfile");
  EXPECT_THAT(dockerfile, HasSubstr("FROM debian:12 AS build"));
  EXPECT_THAT(dockerfile, HasSubstr("FROM debian:12 AS runtime"));
  EXPECT_THAT(dockerfile, HasSubstr("./scripts/install-deps.sh"));
  EXPECT_THAT(dockerfile, HasSubstr("./scripts/build.sh"));
  EXPECT_THAT(dockerfile, HasSubstr("cmake --install build"));
  EXPECT_THAT(dockerfile, HasSubstr("USER 10001:10001"));
}

}  // namespace
}  // namespace southgate::testing

namespace southgate::testing {
namespace {

TEST(DebianPackage, CpackBuildsADebWithTheServiceLayout) {
  char pattern[] = "/tmp/southgate-deb-XXXXXX";
  fs::path dir = mkdtemp(pattern);
  auto [status, output] = Shell(
      "cd '" + dir.string() + "' && cpack -G DEB --config '" +
      SOUTHGATE_BINARY_DIR "/CPackConfig.cmake' -B '" + dir.string() + "'");
  ASSERT_EQ(status, 0) << output;
  fs::path deb;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".deb") deb = entry.path();
  }
  ASSERT_FALSE(deb.empty()) << output;
  auto [list_status, contents] = Shell("dpkg-deb -c '" + deb.string() + "'");
  ASSERT_EQ(list_status, 0) << contents;
  for (const char* path :
       {"./usr/bin/southgated", "./usr/lib/southgate/plugins/sim.so",
        "./usr/lib/southgate/libsouthgate_ops.so",
        "./usr/lib/systemd/system/southgated.service",
        "./usr/lib/sysusers.d/southgate.conf",
        "./usr/share/southgate/yang/southgate-devices.yang",
        "./usr/share/southgate/examples/southgate.service.yaml"}) {
    EXPECT_THAT(contents, HasSubstr(path));
  }
  auto [unit_status, unit] =
      Shell("dpkg-deb --fsys-tarfile '" + deb.string() +
            "' | tar -xO ./usr/lib/systemd/system/southgated.service");
  EXPECT_THAT(unit, HasSubstr("ExecStart=/usr/bin/southgated "));
  auto [info_status, info] = Shell("dpkg-deb -I '" + deb.string() + "'");
  EXPECT_THAT(info, HasSubstr("Depends:"));
  EXPECT_THAT(info, HasSubstr("libyang2"));
  EXPECT_THAT(info, HasSubstr("postinst"));
  std::error_code ignored;
  if (!getenv("SOUTHGATE_KEEP_TEST_DIRS")) fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace southgate::testing
