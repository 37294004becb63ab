#include "services/wamp/transport/subprotocol.h"

#include <gtest/gtest.h>

namespace thingtank::wamp::transport {
namespace {

TEST(SubprotocolTest, WireNamesRoundTrip) {
  for (Serializer s : {Serializer::kJson, Serializer::kMsgPack, Serializer::kCbor}) {
    EXPECT_EQ(SerializerForWireName(WireName(s)), s);
  }
  EXPECT_EQ(WireName(Serializer::kJson), "wamp.2.json");
  EXPECT_EQ(WireName(Serializer::kMsgPack), "wamp.2.msgpack");
  EXPECT_EQ(WireName(Serializer::kCbor), "wamp.2.cbor");
}

TEST(SubprotocolTest, PicksFirstSupportedOfferInClientOrder) {
  EXPECT_EQ(PickSubprotocol("wamp.2.json"), Serializer::kJson);
  EXPECT_EQ(PickSubprotocol("foo, wamp.2.msgpack"), Serializer::kMsgPack);
  EXPECT_EQ(PickSubprotocol("wamp.2.cbor,wamp.2.json"), Serializer::kCbor);
  EXPECT_EQ(PickSubprotocol(" \twamp.2.msgpack\t , wamp.2.json"), Serializer::kMsgPack);
  EXPECT_EQ(PickSubprotocol("foo,,bar, wamp.2.json "), Serializer::kJson);
}

TEST(SubprotocolTest, RefusesUnknownAndNearMisses) {
  EXPECT_EQ(PickSubprotocol(""), std::nullopt);
  EXPECT_EQ(PickSubprotocol("foo, bar"), std::nullopt);
  EXPECT_EQ(PickSubprotocol("WAMP.2.JSON"), std::nullopt);  // tokens are case-sensitive
  EXPECT_EQ(PickSubprotocol("wamp.2.json.batched"), std::nullopt);
  EXPECT_EQ(PickSubprotocol("wamp.2"), std::nullopt);
}

}  // namespace
}  // namespace thingtank::wamp::transport
