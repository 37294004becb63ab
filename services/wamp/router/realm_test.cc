// Broker, dealer and meta API semantics of one realm, with in-memory peers on
// a manual clock (the WebSocket path is covered by the interop tests).
#include "services/wamp/router/realm.h"

#include <deque>

#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/wamp/router/metrics.h"

namespace thingtank::wamp {
namespace {

class FakePeer final : public Peer {
 public:
  bool Send(OutMessage& message) override {
    inbox.push_back(message.message());
    return true;
  }
  void Close() override { closed = true; }
  Json TransportInfo() const override { return Json::object({{"type", "test"}}); }

  // Pops the oldest message; fails the test when there is none.
  Json Next() {
    if (inbox.empty()) {
      ADD_FAILURE() << "no message";
      return Json::array({0});
    }
    Json m = inbox.front();
    inbox.pop_front();
    return m;
  }
  // Drops everything received so far (e.g. meta events).
  void Clear() { inbox.clear(); }

  std::deque<Json> inbox;
  bool closed = false;
};

constexpr int kError = 8, kPublished = 17, kSubscribed = 33, kUnsubscribed = 35, kEvent = 36,
              kResult = 50, kRegistered = 65, kInvocation = 68, kInterrupt = 69;

class RealmTest : public ::testing::Test {
 protected:
  RealmTest() : metrics_(&registry_) {
    config_ = DefaultWampConfig().realms.at("realm1");
    // Roles the tests use, allowed everything (AuthorizationByRole narrows one).
    for (const char* role : {"device", "dashboard"}) {
      config_.roles[role] = {Permission{"", MatchPolicy::kPrefix, true, true, true, true}};
    }
    realm_ = std::make_shared<Realm>("realm1", &config_, &clock_, &metrics_);
  }

  struct Client {
    uint64_t id;
    std::shared_ptr<FakePeer> peer;
    uint64_t next_request = 1;
  };

  Client Join(std::string role = "anonymous", bool cancels = true) {
    Client c{next_session_++, std::make_shared<FakePeer>()};
    SessionInfo info;
    info.id = c.id;
    info.authid = "user-" + std::to_string(c.id);
    info.authrole = std::move(role);
    info.authmethod = "anonymous";
    info.authprovider = "static";
    info.callee_cancels = cancels;
    realm_->Join(info, c.peer);
    return c;
  }
  absl::Status Send(Client& c, Json m) { return realm_->Handle(c.id, m); }
  uint64_t Subscribe(Client& c, const std::string& topic, Json options = Json::object()) {
    const uint64_t req = c.next_request++;
    EXPECT_TRUE(Send(c, Json::array({32, req, options, topic})).ok());
    Json m = c.peer->Next();
    EXPECT_EQ(m[0], kSubscribed) << m;
    EXPECT_EQ(m[1], req);
    return m[2].get<uint64_t>();
  }
  uint64_t Register(Client& c, const std::string& procedure, Json options = Json::object()) {
    const uint64_t req = c.next_request++;
    EXPECT_TRUE(Send(c, Json::array({64, req, options, procedure})).ok());
    Json m = c.peer->Next();
    EXPECT_EQ(m[0], kRegistered) << m;
    return m.size() > 2 ? m[2].get<uint64_t>() : 0;
  }
  uint64_t Call(Client& c, const std::string& procedure, Json options = Json::object(),
                Json args = Json::array()) {
    const uint64_t req = c.next_request++;
    Json m = Json::array({48, req, options, procedure});
    if (!args.empty()) m.push_back(args);
    EXPECT_TRUE(Send(c, m).ok());
    return req;
  }

  prometheus::Registry registry_;
  WampMetrics metrics_;
  ManualClock clock_;
  RealmConfig config_;
  std::shared_ptr<Realm> realm_;
  uint64_t next_session_ = 1000;
};

TEST_F(RealmTest, PublishReachesSubscribersButNotThePublisherByDefault) {
  Client pub = Join(), sub = Join();
  const uint64_t s1 = Subscribe(sub, "test-topic");
  EXPECT_EQ(Subscribe(sub, "test-topic"), s1) << "same topic twice: same subscription";
  Subscribe(pub, "test-topic");
  ASSERT_TRUE(Send(pub, Json::array({16, pub.next_request++, {{"acknowledge", true}},
                                     "test-topic", {"hello"}, {{"n", 1}}}))
                  .ok());
  Json ack = pub.peer->Next();
  EXPECT_EQ(ack[0], kPublished);
  const uint64_t publication = ack[2].get<uint64_t>();
  EXPECT_GE(publication, 1u);
  EXPECT_LE(publication, kMaxId);
  Json event = sub.peer->Next();
  EXPECT_EQ(event, Json::array({kEvent, s1, publication, Json::object(), {"hello"}, {{"n", 1}}}));
  EXPECT_TRUE(sub.peer->inbox.empty()) << "one event even though subscribed twice";
  EXPECT_TRUE(pub.peer->inbox.empty()) << "publisher excluded by default";

  ASSERT_TRUE(Send(pub, Json::array({16, pub.next_request++, {{"exclude_me", false}},
                                     "test-topic"}))
                  .ok());
  Json own = pub.peer->Next();
  EXPECT_EQ(own.size(), 4u) << "no arguments: none sent (never null): " << own;
  EXPECT_EQ(sub.peer->Next().size(), 4u);
}

TEST_F(RealmTest, PatternSubscriptionsCarryTheTopic) {
  Client pub = Join(), sub = Join();
  const uint64_t prefix = Subscribe(sub, "com.sensors.", {{"match", "prefix"}});
  const uint64_t wild = Subscribe(sub, "com..temperature", {{"match", "wildcard"}});
  ASSERT_TRUE(Send(pub, Json::array({16, 1, {}, "com.sensors.temperature", {21.5}})).ok());
  std::map<uint64_t, Json> got;
  for (int i = 0; i < 2; ++i) {
    Json e = sub.peer->Next();
    got[e[1].get<uint64_t>()] = e;
  }
  ASSERT_TRUE(got.count(prefix) && got.count(wild));
  EXPECT_EQ(got[prefix][3]["topic"], "com.sensors.temperature");
  EXPECT_EQ(got[wild][3]["topic"], "com.sensors.temperature");
  ASSERT_TRUE(Send(pub, Json::array({16, 2, {}, "com.other.humidity"})).ok());
  EXPECT_TRUE(sub.peer->inbox.empty()) << "neither pattern matches";
}

TEST_F(RealmTest, BlackAndWhiteListingAndPublisherDisclosure) {
  Client pub = Join(), a = Join("device"), b = Join("dashboard");
  Subscribe(a, "t");
  Subscribe(b, "t");
  ASSERT_TRUE(Send(pub, Json::array({16, 1, {{"exclude", {a.id}}}, "t"})).ok());
  EXPECT_TRUE(a.peer->inbox.empty());
  EXPECT_EQ(b.peer->Next()[0], kEvent);
  ASSERT_TRUE(Send(pub, Json::array({16, 2, {{"eligible_authrole", {"device"}}}, "t"})).ok());
  EXPECT_EQ(a.peer->Next()[0], kEvent);
  EXPECT_TRUE(b.peer->inbox.empty());
  ASSERT_TRUE(Send(pub, Json::array({16, 3, {{"exclude_authid", {"user-" + std::to_string(b.id)}},
                                             {"disclose_me", true}}, "t"}))
                  .ok());
  Json e = a.peer->Next();
  EXPECT_EQ(e[3]["publisher"], pub.id);
  EXPECT_EQ(e[3]["publisher_authrole"], "anonymous");
  EXPECT_TRUE(b.peer->inbox.empty());
}

TEST_F(RealmTest, UnsubscribeAndReservedTopics) {
  Client pub = Join(), sub = Join();
  const uint64_t id = Subscribe(sub, "t");
  ASSERT_TRUE(Send(sub, Json::array({34, 2, id})).ok());
  EXPECT_EQ(sub.peer->Next(), Json::array({kUnsubscribed, 2}));
  ASSERT_TRUE(Send(sub, Json::array({34, 3, id})).ok());
  EXPECT_EQ(sub.peer->Next()[4], "wamp.error.no_such_subscription");
  ASSERT_TRUE(Send(pub, Json::array({16, 1, {}, "t"})).ok());
  EXPECT_TRUE(sub.peer->inbox.empty());
  ASSERT_TRUE(Send(pub, Json::array({16, 2, {{"acknowledge", true}}, "wamp.session.on_join"})).ok());
  EXPECT_EQ(pub.peer->Next()[4], "wamp.error.invalid_uri");
  ASSERT_TRUE(Send(pub, Json::array({64, 3, {}, "wamp.mine"})).ok());
  EXPECT_EQ(pub.peer->Next()[4], "wamp.error.invalid_uri");
}

TEST_F(RealmTest, CallInvocationYieldResult) {
  Client callee = Join(), caller = Join();
  const uint64_t reg = Register(callee, "com.example.add2", {{"disclose_caller", true}});
  const uint64_t req = Call(caller, "com.example.add2", {}, {2, 3});
  Json inv = callee.peer->Next();
  ASSERT_EQ(inv[0], kInvocation);
  EXPECT_EQ(inv[2], reg);
  EXPECT_EQ(inv[3]["caller"], caller.id);
  EXPECT_EQ(inv[4], Json::array({2, 3}));
  ASSERT_TRUE(Send(callee, Json::array({70, inv[1], {}, {5}})).ok());
  EXPECT_EQ(caller.peer->Next(), Json::array({kResult, req, Json::object(), {5}}));

  Call(caller, "com.example.nothing");
  Json err = caller.peer->Next();
  EXPECT_EQ(err[0], kError);
  EXPECT_EQ(err[4], "wamp.error.no_such_procedure");

  Client other = Join();
  ASSERT_TRUE(Send(other, Json::array({64, 1, {}, "com.example.add2"})).ok());
  EXPECT_EQ(other.peer->Next()[4], "wamp.error.procedure_already_exists");
}

TEST_F(RealmTest, PatternRegistrationsMostSpecificWins) {
  Client wide = Join(), narrow = Join(), wild = Join(), exact = Join(), caller = Join();
  const uint64_t wide_reg = Register(wide, "com.", {{"match", "prefix"}});
  const uint64_t narrow_reg = Register(narrow, "com.example.", {{"match", "prefix"}});
  const uint64_t wild_reg = Register(wild, "com..add", {{"match", "wildcard"}});
  Register(exact, "com.example.add");
  auto invoked = [&](Client& c) {
    Json inv = c.peer->Next();
    EXPECT_EQ(inv[0], kInvocation);
    return inv;
  };
  Call(caller, "com.example.add");
  EXPECT_EQ(invoked(exact).size(), 4u) << "exact wins";
  Call(caller, "com.example.sub");
  Json inv = invoked(narrow);
  EXPECT_EQ(inv[2], narrow_reg) << "longest prefix wins";
  EXPECT_EQ(inv[3]["procedure"], "com.example.sub");
  Call(caller, "com.other.add");
  EXPECT_EQ(invoked(wide)[2], wide_reg) << "a prefix wins over a wildcard";
  ASSERT_TRUE(Send(wide, Json::array({66, wide.next_request++, wide_reg})).ok());
  wide.peer->Clear();
  Call(caller, "com.other.add");
  inv = invoked(wild);
  EXPECT_EQ(inv[2], wild_reg);
  EXPECT_EQ(inv[3]["procedure"], "com.other.add");
  EXPECT_TRUE(wide.peer->inbox.empty() && narrow.peer->inbox.empty());
}

TEST_F(RealmTest, CalleeErrorReachesCaller) {
  Client callee = Join(), caller = Join();
  Register(callee, "p");
  const uint64_t req = Call(caller, "p");
  Json inv = callee.peer->Next();
  ASSERT_TRUE(Send(callee, Json::array({8, 68, inv[1], Json::object(), "com.example.oops", {"bad"}})).ok());
  EXPECT_EQ(caller.peer->Next(),
            Json::array({kError, 48, req, Json::object(), "com.example.oops", {"bad"}}));
}

TEST_F(RealmTest, ProgressiveResultsOnlyWhenAsked) {
  Client callee = Join(), caller = Join();
  Register(callee, "p");
  const uint64_t req = Call(caller, "p", {{"receive_progress", true}});
  Json inv = callee.peer->Next();
  EXPECT_EQ(inv[3]["receive_progress"], true);
  ASSERT_TRUE(Send(callee, Json::array({70, inv[1], {{"progress", true}}, {1}})).ok());
  ASSERT_TRUE(Send(callee, Json::array({70, inv[1], {{"progress", true}}, {2}})).ok());
  ASSERT_TRUE(Send(callee, Json::array({70, inv[1], {}, {3}})).ok());
  EXPECT_EQ(caller.peer->Next(), Json::array({kResult, req, {{"progress", true}}, {1}}));
  EXPECT_EQ(caller.peer->Next(), Json::array({kResult, req, {{"progress", true}}, {2}}));
  EXPECT_EQ(caller.peer->Next(), Json::array({kResult, req, Json::object(), {3}}));
}

TEST_F(RealmTest, SharedRegistrationPolicies) {
  Client a = Join(), b = Join(), c = Join(), caller = Join();
  Register(a, "rr", {{"invoke", "roundrobin"}});
  Register(b, "rr", {{"invoke", "roundrobin"}});
  Register(c, "rr", {{"invoke", "roundrobin"}});
  std::vector<int> got;
  for (int i = 0; i < 6; ++i) {
    Call(caller, "rr");
    for (Client* x : {&a, &b, &c}) {
      if (!x->peer->inbox.empty()) {
        got.push_back(static_cast<int>(x->id - a.id));
        x->peer->Clear();
      }
    }
  }
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 0, 1, 2}));

  Register(a, "fl", {{"invoke", "first"}});
  Register(b, "fl", {{"invoke", "first"}});
  Call(caller, "fl");
  EXPECT_EQ(a.peer->Next()[0], kInvocation);
  EXPECT_TRUE(b.peer->inbox.empty());
  Register(a, "la", {{"invoke", "last"}});
  Register(b, "la", {{"invoke", "last"}});
  Call(caller, "la");
  EXPECT_EQ(b.peer->Next()[0], kInvocation);
  EXPECT_TRUE(a.peer->inbox.empty());

  ASSERT_TRUE(Send(c, Json::array({64, c.next_request++, {{"invoke", "first"}}, "la"})).ok());
  EXPECT_EQ(c.peer->Next()[4], "wamp.error.procedure_already_exists") << "policy mismatch";

  Register(a, "rnd", {{"invoke", "random"}});
  Register(b, "rnd", {{"invoke", "random"}});
  int to_a = 0;
  for (int i = 0; i < 200; ++i) {
    Call(caller, "rnd");
    if (!a.peer->inbox.empty()) ++to_a;
    a.peer->Clear();
    b.peer->Clear();
  }
  EXPECT_GT(to_a, 50);
  EXPECT_LT(to_a, 150);
}

TEST_F(RealmTest, CancelModes) {
  Client callee = Join(), caller = Join();
  Register(callee, "slow");
  // skip: the caller is answered at once, no INTERRUPT, late YIELD dropped.
  uint64_t req = Call(caller, "slow");
  Json inv = callee.peer->Next();
  ASSERT_TRUE(Send(caller, Json::array({49, req, {{"mode", "skip"}}})).ok());
  EXPECT_EQ(caller.peer->Next()[4], "wamp.error.canceled");
  EXPECT_TRUE(callee.peer->inbox.empty());
  ASSERT_TRUE(Send(callee, Json::array({70, inv[1], {}, {1}})).ok());
  EXPECT_TRUE(caller.peer->inbox.empty());
  // kill: INTERRUPT, then the callee's ERROR answers the caller.
  req = Call(caller, "slow");
  inv = callee.peer->Next();
  ASSERT_TRUE(Send(caller, Json::array({49, req, {{"mode", "kill"}}})).ok());
  EXPECT_EQ(callee.peer->Next(), Json::array({kInterrupt, inv[1], {{"mode", "kill"}}}));
  EXPECT_TRUE(caller.peer->inbox.empty());
  ASSERT_TRUE(Send(callee, Json::array({8, 68, inv[1], Json::object(), "wamp.error.canceled"})).ok());
  EXPECT_EQ(caller.peer->Next(), Json::array({kError, 48, req, Json::object(), "wamp.error.canceled"}));
  // killnowait: INTERRUPT and the caller's error together.
  req = Call(caller, "slow");
  inv = callee.peer->Next();
  ASSERT_TRUE(Send(caller, Json::array({49, req, {{"mode", "killnowait"}}})).ok());
  EXPECT_EQ(callee.peer->Next()[0], kInterrupt);
  EXPECT_EQ(caller.peer->Next()[4], "wamp.error.canceled");
}

TEST_F(RealmTest, CallTimeoutOnTheClock) {
  Client callee = Join(), caller = Join();
  Register(callee, "slow");
  const uint64_t req = Call(caller, "slow", {{"timeout", 1500}});
  Json inv = callee.peer->Next();
  EXPECT_EQ(inv[3]["timeout"], 1500);
  clock_.Advance(absl::Milliseconds(1499));
  EXPECT_TRUE(caller.peer->inbox.empty());
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(callee.peer->Next()[0], kInterrupt);
  Json err = caller.peer->Next();
  EXPECT_EQ(err[2], req);
  EXPECT_EQ(err[4], "wamp.error.timeout");
}

TEST_F(RealmTest, CalleeLeavingAnswersItsCallers) {
  Client callee = Join(), caller = Join();
  Register(callee, "p");
  const uint64_t req = Call(caller, "p");
  callee.peer->Next();
  realm_->Leave(callee.id);
  Json err = caller.peer->Next();
  EXPECT_EQ(err[2], req);
  EXPECT_EQ(err[4], "wamp.error.canceled");
  Call(caller, "p");
  EXPECT_EQ(caller.peer->Next()[4], "wamp.error.no_such_procedure") << "registration gone";
}

TEST_F(RealmTest, SessionMetaApi) {
  Client watcher = Join();
  Subscribe(watcher, "wamp.session.on_join");
  Subscribe(watcher, "wamp.session.on_leave");
  Client other = Join("device");
  Json joined = watcher.peer->Next();
  EXPECT_EQ(joined[4][0]["session"], other.id);
  EXPECT_EQ(joined[4][0]["authrole"], "device");

  uint64_t req = Call(watcher, "wamp.session.count");
  EXPECT_EQ(watcher.peer->Next(), Json::array({kResult, req, Json::object(), {2}}));
  req = Call(watcher, "wamp.session.count", {}, {Json::array({"device"})});
  EXPECT_EQ(watcher.peer->Next()[3], Json::array({1}));
  req = Call(watcher, "wamp.session.list");
  Json list = watcher.peer->Next()[3][0];
  EXPECT_EQ(list.size(), 2u);
  req = Call(watcher, "wamp.session.get", {}, {other.id});
  EXPECT_EQ(watcher.peer->Next()[3][0]["authid"], "user-" + std::to_string(other.id));
  req = Call(watcher, "wamp.session.get", {}, {12345});
  EXPECT_EQ(watcher.peer->Next()[4], "wamp.error.no_such_session");

  realm_->Leave(other.id);
  Json left = watcher.peer->Next();
  EXPECT_EQ(left[4], Json::array({other.id, "user-" + std::to_string(other.id), "device"}));
  EXPECT_EQ(realm_->session_count(), 1u);
}

TEST_F(RealmTest, AuthorizationByRole) {
  config_.roles["device"] = {Permission{"com.example.", MatchPolicy::kPrefix, true, false, false, true}};
  Client device = Join("device");
  ASSERT_TRUE(Send(device, Json::array({32, 1, {}, "com.example.t"})).ok());
  EXPECT_EQ(device.peer->Next()[4], "wamp.error.not_authorized");
  ASSERT_TRUE(Send(device, Json::array({16, 2, {{"acknowledge", true}}, "com.example.t"})).ok());
  EXPECT_EQ(device.peer->Next()[0], kPublished);
  ASSERT_TRUE(Send(device, Json::array({16, 3, {{"acknowledge", true}}, "org.t"})).ok());
  EXPECT_EQ(device.peer->Next()[4], "wamp.error.not_authorized");
}

TEST_F(RealmTest, RouterProceduresAnswerAsynchronously) {
  std::function<void(ProcedureOutcome)> pending;
  realm_->Provide("thingtank.", MatchPolicy::kPrefix, [&](ProcedureCall call, auto done) {
    EXPECT_EQ(call.procedure, "thingtank.queues.send_message");
    EXPECT_EQ(call.kwargs["queue_url"], "q");
    pending = done;
  });
  Client caller = Join();
  const uint64_t req = caller.next_request++;
  ASSERT_TRUE(Send(caller, Json::array({48, req, {}, "thingtank.queues.send_message",
                                        Json::array(), {{"queue_url", "q"}}}))
                  .ok());
  ASSERT_TRUE(pending);
  EXPECT_TRUE(caller.peer->inbox.empty());
  pending(ProcedureOutcome::Result(Json::array(), {{"message_id", "m1"}}));
  EXPECT_EQ(caller.peer->Next(),
            Json::array({kResult, req, Json::object(), Json::array(), {{"message_id", "m1"}}}));
  Client callee = Join();
  ASSERT_TRUE(Send(callee, Json::array({64, 1, {}, "thingtank.queues.mine"})).ok());
  EXPECT_EQ(callee.peer->Next()[4], "wamp.error.procedure_already_exists");
}

}  // namespace
}  // namespace thingtank::wamp
