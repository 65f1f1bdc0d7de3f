// The gnmi_ext Commit extension (confirmed commit) end to end: a client ->
// southgate A (gnmi driver) -> southgate B (sim device r1) over real mutual
// TLS, and once against B alone. The sim implements the extension; A
// forwards it. Every check of B's data reads B directly. No wall-clock
// assertions: a rollback is waited for with a bounded deadline, and a
// change that must survive a deadline is checked after it has passed.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "chain_fixture.h"
#include "daemon_fixture.h"
#include "github.com/openconfig/gnmi/proto/gnmi/gnmi.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace southgate::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

enum class Action { kConfirm, kCancel, kSetRollbackDuration };

// A Set of one description leaf (JSON_IETF) with a commit action that
// creates commit `id`; `rollback_ms` < 0 leaves rollback_duration out.
grpc::Status CommitDescription(gnmi::gNMI::Stub& stub, const gnmi::Path& path,
                               const std::string& value, const std::string& id,
                               int64_t rollback_ms) {
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target(path.target());
  gnmi::Update* update = request.add_update();
  *update->mutable_path() = path;
  update->mutable_path()->clear_target();
  update->mutable_val()->set_json_ietf_val("\"" + value + "\"");
  gnmi_ext::Commit* commit = request.add_extension()->mutable_commit();
  commit->set_id(id);
  gnmi_ext::CommitRequest* create = commit->mutable_commit();
  if (rollback_ms >= 0) {
    create->mutable_rollback_duration()->set_seconds(rollback_ms / 1000);
    create->mutable_rollback_duration()->set_nanos(
        static_cast<int32_t>(rollback_ms % 1000) * 1000000);
  }
  gnmi::SetResponse response;
  auto context = ContextFor("admin", "admin");
  return stub.Set(context.get(), request, &response);
}

// A Set without edits carrying a confirm, cancel or set_rollback_duration.
grpc::Status FollowUp(gnmi::gNMI::Stub& stub, const std::string& target,
                      Action action, const std::string& id,
                      int64_t rollback_ms = 0) {
  gnmi::SetRequest request;
  request.mutable_prefix()->set_target(target);
  gnmi_ext::Commit* commit = request.add_extension()->mutable_commit();
  commit->set_id(id);
  switch (action) {
    case Action::kConfirm:
      commit->mutable_confirm();
      break;
    case Action::kCancel:
      commit->mutable_cancel();
      break;
    case Action::kSetRollbackDuration: {
      auto* duration =
          commit->mutable_set_rollback_duration()->mutable_rollback_duration();
      duration->set_seconds(rollback_ms / 1000);
      duration->set_nanos(static_cast<int32_t>(rollback_ms % 1000) * 1000000);
      break;
    }
  }
  gnmi::SetResponse response;
  auto context = ContextFor("admin", "admin");
  return stub.Set(context.get(), request, &response);
}

// eth0's description as a plain string ("" when it cannot be read).
std::string DescriptionOf(gnmi::gNMI::Stub& stub, const std::string& target,
                          const std::string& name = "eth0") {
  auto got = GetJson(stub, Description(target, name));
  return got.ok() && got->is_string() ? got->get<std::string>() : "";
}

// Waits (bounded) until `target`'s `name` description reads `value`.
bool WaitDescription(gnmi::gNMI::Stub& stub, const std::string& target,
                     const std::string& value,
                     const std::string& name = "eth0") {
  return WaitFor([&] { return DescriptionOf(stub, target, name) == value; });
}

constexpr char kSeeded[] = "uplink to core-1";

// ---------------------------------------------------------------------------
// A reaches B's r1 as "r1" (the extension forwarded) and as "r1off"
// (commit_extension: false).
class GnmiChainCommitTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    chain_ = new ChainSuite();
    chain_->b = std::make_unique<DaemonProcess>(
        MtlsBConfig(*chain_->pki, {"update_interval_ms: 0"}));
    ASSERT_TRUE(WaitServing([] {
      return BChannel(*chain_->pki, chain_->b->address(), true);
    })) << chain_->b->Log();
    chain_->b_stub =
        gnmi::gNMI::NewStub(BChannel(*chain_->pki, chain_->b->address(), true));
    std::vector<std::string> off = MtlsOptions(*chain_->pki);
    off.push_back("commit_extension: false");
    const std::string admin = chain_->pki->File("admin.pw");
    chain_->a = std::make_unique<DaemonProcess>(
        TestConfig(ChainDeviceYaml("r1", chain_->b->address(),
                                   MtlsOptions(*chain_->pki), admin) +
                   ChainDeviceYaml("r1off", chain_->b->address(), off, admin)));
    ASSERT_TRUE(WaitAServing(*chain_->a)) << chain_->a->Log();
    chain_->a_stub = gnmi::gNMI::NewStub(chain_->a->TlsChannel());
    ASSERT_TRUE(WaitConnected(*chain_->a_stub, {"r1", "r1off"}))
        << chain_->a->Log();
  }
  static void TearDownTestSuite() {
    delete chain_;
    chain_ = nullptr;
  }
  // Every test starts with B's seed value and no commit waiting: a test
  // that failed half way must not leave its commit to the next one.
  void SetUp() override {
    ASSERT_TRUE(SetUpdate(*chain_->b_stub, Description("r1"),
                          std::string("\"") + kSeeded + "\"")
                    .ok());
  }
  void TearDown() override {
    for (const char* id : {"t1", "t2"}) {
      (void)FollowUp(*chain_->b_stub, "r1", Action::kCancel, id);
    }
  }

  static ChainSuite* chain_;
};
ChainSuite* GnmiChainCommitTest::chain_ = nullptr;

TEST_F(GnmiChainCommitTest, CommitThenConfirmKeepsTheValueOnB) {
  const auto rollback = std::chrono::seconds(2);
  const auto committed = std::chrono::steady_clock::now();
  grpc::Status status =
      CommitDescription(*chain_->a_stub, Description("r1"), "confirmed via A",
                        "t1", std::chrono::milliseconds(rollback).count());
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), "confirmed via A");
  status = FollowUp(*chain_->a_stub, "r1", Action::kConfirm, "t1");
  ASSERT_TRUE(status.ok()) << status.error_message()
                           << " (confirmed after the deadline?)";
  // Past the deadline (and a margin for B's timer) the value stays, on A
  // and on B.
  std::this_thread::sleep_until(committed + rollback + std::chrono::seconds(1));
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), "confirmed via A");
  EXPECT_EQ(DescriptionOf(*chain_->a_stub, "r1"), "confirmed via A");
  // Nothing waits any more: a second confirm is FAILED_PRECONDITION (B's
  // code, through A), and a plain Set works again.
  status = FollowUp(*chain_->a_stub, "r1", Action::kConfirm, "t1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("nothing changed"));
  ASSERT_TRUE(
      SetUpdate(*chain_->a_stub, Description("r1"), "\"plain again\"").ok());
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), "plain again");
}

TEST_F(GnmiChainCommitTest, CommitThenCancelPutsTheValueBackAndStreamsIt) {
  const std::string leaf = "interfaces/interface[name=eth0]/description";
  StreamClient stream(chain_->a->TlsChannel(),
                      StreamRequest(Description("r1"), gnmi::ON_CHANGE));
  ASSERT_TRUE(stream.WaitSynced());
  ASSERT_TRUE(stream.WaitValue(leaf, std::string("\"") + kSeeded + "\""));

  grpc::Status status = CommitDescription(*chain_->a_stub, Description("r1"),
                                          "to be cancelled", "t1", 600'000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), "to be cancelled");
  ASSERT_TRUE(stream.WaitValue(leaf, "\"to be cancelled\""));
  const size_t before_cancel = stream.size();

  // While t1 waits: a Set without the extension and a second commit are
  // FAILED_PRECONDITION and change nothing.
  status = SetUpdate(*chain_->a_stub, Description("r1", "eth1"), "\"not now\"");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("'t1'"));
  status = CommitDescription(*chain_->a_stub, Description("r1", "eth1"),
                             "second", "t2", 600'000);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1", "eth1"), "uplink to core-2");

  status = FollowUp(*chain_->a_stub, "r1", Action::kCancel, "t1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), kSeeded);
  // The rollback reaches A's subscriber like any change on B.
  EXPECT_TRUE(stream.WaitValue(leaf, std::string("\"") + kSeeded + "\"",
                               before_cancel));
  EXPECT_FALSE(stream.finished());
}

TEST_F(GnmiChainCommitTest, UnconfirmedCommitExpiresOnB) {
  grpc::Status status = CommitDescription(*chain_->a_stub, Description("r1"),
                                          "expiring", "t1", 3000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // B rolls back by itself (bounded wait, nobody sends anything).
  EXPECT_TRUE(WaitDescription(*chain_->b_stub, "r1", kSeeded))
      << DescriptionOf(*chain_->b_stub, "r1");
  EXPECT_TRUE(WaitFor([] {
    return chain_->b->Log().find("commit 't1' not confirmed in time") !=
           std::string::npos;
  }));
  status = FollowUp(*chain_->a_stub, "r1", Action::kConfirm, "t1");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), kSeeded);
}

TEST_F(GnmiChainCommitTest, WrongOrMissingIdIsRefusedAndChangesNothing) {
  grpc::Status status = CommitDescription(*chain_->a_stub, Description("r1"),
                                          "right id only", "t1", 600'000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  for (Action action :
       {Action::kConfirm, Action::kCancel, Action::kSetRollbackDuration}) {
    status = FollowUp(*chain_->a_stub, "r1", action, "wrong", 1000);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("'t1', not 'wrong'"));
  }
  // No id at all: A refuses it itself.
  status = FollowUp(*chain_->a_stub, "r1", Action::kConfirm, "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("without an id"));
  // A confirm that carries an edit: A refuses it itself.
  {
    gnmi::SetRequest request;
    request.mutable_prefix()->set_target("r1");
    gnmi::Update* update = request.add_update();
    *update->mutable_path() = Description("r1");
    update->mutable_path()->clear_target();
    update->mutable_val()->set_json_ietf_val("\"smuggled\"");
    gnmi_ext::Commit* commit = request.add_extension()->mutable_commit();
    commit->set_id("t1");
    commit->mutable_confirm();
    gnmi::SetResponse response;
    auto context = ContextFor("admin", "admin");
    status = chain_->a_stub->Set(context.get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("carries no edits"));
  }
  // The commit still waits, unchanged: the right id cancels it.
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), "right id only");
  status = FollowUp(*chain_->a_stub, "r1", Action::kCancel, "t1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), kSeeded);
}

TEST_F(GnmiChainCommitTest, SetRollbackDurationExtendsAndShortens) {
  // Extended: the value outlives the first deadline.
  const auto first_rollback = std::chrono::seconds(2);
  const auto committed = std::chrono::steady_clock::now();
  grpc::Status status =
      CommitDescription(*chain_->a_stub, Description("r1"), "extended", "t1",
                        std::chrono::milliseconds(first_rollback).count());
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = FollowUp(*chain_->a_stub, "r1", Action::kSetRollbackDuration, "t1",
                    600'000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::this_thread::sleep_until(committed + first_rollback +
                                std::chrono::seconds(1));
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), "extended");
  // A zero duration is INVALID_ARGUMENT (A refuses it before B sees it).
  status =
      FollowUp(*chain_->a_stub, "r1", Action::kSetRollbackDuration, "t1", 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  // Shortened: B rolls back soon (bounded wait).
  status =
      FollowUp(*chain_->a_stub, "r1", Action::kSetRollbackDuration, "t1", 500);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(WaitDescription(*chain_->b_stub, "r1", kSeeded))
      << DescriptionOf(*chain_->b_stub, "r1");
}

TEST_F(GnmiChainCommitTest, CommitExtensionOffIsUnimplementedInA) {
  grpc::Status status = CommitDescription(*chain_->a_stub, Description("r1off"),
                                          "must not arrive", "t1", 600'000);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED)
      << status.error_message();
  EXPECT_THAT(status.error_message(),
              HasSubstr("does not support the commit (confirmed-commit)"));
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), kSeeded);
  // Nothing waits on B: its plain Sets go through.
  ASSERT_TRUE(SetUpdate(*chain_->b_stub, Description("r1"), "\"free\"").ok());
  EXPECT_EQ(DescriptionOf(*chain_->b_stub, "r1"), "free");
}

// ---------------------------------------------------------------------------
// B alone (no chain): the sim's support as a gNMI client sees it.
TEST(SimCommitDirectTest, CommitConfirmAndTheSpecDefaults) {
  DaemonProcess b(TestConfig(SimDeviceYaml("r1", {"update_interval_ms: 0"})));
  ASSERT_TRUE(b.WaitReady(kWait)) << b.Log();
  auto stub = gnmi::gNMI::NewStub(b.TlsChannel());
  // No rollback_duration: the spec's default (10 minutes), so the commit
  // waits for its confirmation.
  grpc::Status status =
      CommitDescription(*stub, Description("r1"), "default window", "d1", -1);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(WaitFor([&] {
    return b.Log().find("rolled back in 600000 ms unless confirmed") !=
           std::string::npos;
  })) << b.Log();
  status = SetUpdate(*stub, Description("r1", "eth1"), "\"blocked\"");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  status = FollowUp(*stub, "r1", Action::kConfirm, "d1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(DescriptionOf(*stub, "r1"), "default window");

  // A commit without an id is INVALID_ARGUMENT, and changes nothing.
  status = CommitDescription(*stub, Description("r1"), "no id", "", 60'000);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  // rollback_duration 0: committed at once, nothing to confirm.
  status = CommitDescription(*stub, Description("r1"), "at once", "d2", 0);
  ASSERT_TRUE(status.ok()) << status.error_message();
  status = FollowUp(*stub, "r1", Action::kConfirm, "d2");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_EQ(DescriptionOf(*stub, "r1"), "at once");

  // A rollback at the deadline reaches B's own subscriber: after the sync
  // (which carried "at once"), a change whose latest value is "at once"
  // again can only be the rollback (the commit's value may be coalesced
  // with it).
  const std::string leaf = "interfaces/interface[name=eth0]/description";
  StreamClient stream(b.TlsChannel(),
                      StreamRequest(Description("r1"), gnmi::ON_CHANGE));
  ASSERT_TRUE(stream.WaitSynced());
  ASSERT_TRUE(stream.WaitValue(leaf, "\"at once\""));
  const size_t synced = stream.size();
  status = CommitDescription(*stub, Description("r1"), "short", "d3", 2000);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(stream.WaitValue(leaf, "\"at once\"", synced));
  EXPECT_TRUE(WaitFor([&] {
    return b.Log().find("commit 'd3' not confirmed in time") !=
           std::string::npos;
  })) << b.Log();
  EXPECT_EQ(DescriptionOf(*stub, "r1"), "at once");
}

}  // namespace
}  // namespace southgate::testing
