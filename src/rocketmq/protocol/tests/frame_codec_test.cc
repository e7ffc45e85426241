#include "rocketmq/protocol/frame_codec.h"

#include "rocketmq/protocol/tests/test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace rmqc::rocketmq {
namespace {

using testing::from_hex;
using testing::to_hex;

std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

std::string json_frame(std::string_view header, std::string_view body = {}) {
  return be32(static_cast<std::uint32_t>(4 + header.size() + body.size())) +
         be32(static_cast<std::uint32_t>(header.size())) + std::string(header) + std::string(body);
}

constexpr std::string_view kExample1Header =
    R"({"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409})";

RemotingCommand route_request(SerializeType type) {
  auto cmd = RemotingCommand::request(105, {{"topic", "TopicTest"}});
  cmd.opaque = 1;
  cmd.version = 409;
  cmd.serialize_type = type;
  return cmd;
}

TEST(FrameCodec, Example1JsonRequestByteForByte) {
  auto frame = encode_frame(route_request(SerializeType::JSON));
  ASSERT_TRUE(frame.ok()) << frame.error().to_string();
  ASSERT_EQ(frame->size(), 139u);
  EXPECT_EQ(to_hex(frame->substr(0, 8)), "00 00 00 87 00 00 00 83");
  EXPECT_EQ(frame->substr(8), kExample1Header);
  EXPECT_EQ(to_hex(frame->substr(135)), "34 30 39 7D");

  auto cmd = decode_frame(*frame);
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->code, 105);
  EXPECT_EQ(cmd->opaque, 1);
  EXPECT_EQ(cmd->version, 409);
  EXPECT_EQ(cmd->flag, 0);
  EXPECT_EQ(cmd->language, LanguageCode::JAVA);
  EXPECT_EQ(cmd->serialize_type, SerializeType::JSON);
  EXPECT_EQ(*cmd->ext("topic"), "TopicTest");
  EXPECT_TRUE(cmd->body.empty());
}

TEST(FrameCodec, Example1AliOnsShapeDecodes) {
  const std::string header =
      R"({"code":105,"language":"JAVA","opaque":1,"flag":0,"version":121,"extFields":{"topic":"TopicTest"}})";
  ASSERT_EQ(header.size(), 98u);
  const std::string frame = json_frame(header);
  EXPECT_EQ(to_hex(frame.substr(0, 8)), "00 00 00 66 00 00 00 62");
  auto cmd = decode_frame(frame);
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->version, 121);
  EXPECT_EQ(*cmd->ext("topic"), "TopicTest");
}

const std::string kExample2Hex =
    "00 00 00 2D 01 00 00 29 00 69 00 01 99 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 14 "
    "00 05 74 6F 70 69 63 00 00 00 09 54 6F 70 69 63 54 65 73 74";

TEST(FrameCodec, Example2BinaryRequestByteForByte) {
  auto frame = encode_frame(route_request(SerializeType::ROCKETMQ));
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(to_hex(*frame), to_hex(from_hex(kExample2Hex)));
  auto cmd = decode_frame(from_hex(kExample2Hex));
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->code, 105);
  EXPECT_EQ(cmd->language, LanguageCode::JAVA);
  EXPECT_EQ(cmd->version, 409);
  EXPECT_EQ(cmd->opaque, 1);
  EXPECT_EQ(cmd->flag, 0);
  EXPECT_TRUE(cmd->remark.empty());
  EXPECT_EQ(cmd->serialize_type, SerializeType::ROCKETMQ);
  EXPECT_EQ(cmd->ext_fields, (ExtFields{{"topic", "TopicTest"}}));
}

constexpr std::string_view kExample3Header =
    R"({"code":0,"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":409})";
constexpr std::string_view kExample3Body =
    R"({"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]})";

TEST(FrameCodec, Example3RouteResponseByteForByte) {
  auto request = route_request(SerializeType::JSON);
  auto response = RemotingCommand::response_to(request, 0);
  response.version = 409;
  response.body = std::string(kExample3Body);
  auto frame = encode_frame(response);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->size(), 338u);
  EXPECT_EQ(to_hex(frame->substr(0, 8)), "00 00 01 4E 00 00 00 5F");
  EXPECT_EQ(frame->substr(8, 95), kExample3Header);
  EXPECT_EQ(frame->substr(103), kExample3Body);
  auto cmd = decode_frame(*frame);
  ASSERT_TRUE(cmd.ok());
  EXPECT_TRUE(cmd->is_response());
  EXPECT_FALSE(cmd->is_oneway());
  EXPECT_EQ(cmd->body, kExample3Body);
  EXPECT_FALSE(cmd->ext_fields_present);
}

TEST(FrameCodec, Example4BinaryErrorResponseByteForByte) {
  const std::string expected = from_hex(
      "00 00 00 21 01 00 00 1D 00 11 00 01 99 00 00 00 01 00 00 00 01 00 00 00 08 "
      "6E 6F 20 72 6F 75 74 65 00 00 00 00");
  RemotingCommand cmd;
  cmd.code = 17;
  cmd.opaque = 1;
  cmd.flag = RPC_TYPE;
  cmd.version = 409;
  cmd.remark = "no route";
  cmd.serialize_type = SerializeType::ROCKETMQ;
  EXPECT_EQ(to_hex(encode_frame(cmd).value()), to_hex(expected));
  auto decoded = decode_frame(expected);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->code, 17);
  EXPECT_EQ(decoded->remark, "no route");
  EXPECT_TRUE(decoded->is_response());
  EXPECT_TRUE(decoded->ext_fields.empty());
}

TEST(FrameCodec, RealBinaryReplyPrefixMatches) {
  // Example 2's verification: the name server's binary 17 reply, version 407, 121-byte remark.
  const std::string remark =
      "No topic route info in name server for the topic: TopicTest\nSee "
      "http://rocketmq.apache.org/docs/faq/ for further details.";
  RemotingCommand cmd;
  cmd.code = 17;
  cmd.opaque = 1;
  cmd.flag = 1;
  cmd.version = 407;
  cmd.remark = remark;
  cmd.serialize_type = SerializeType::ROCKETMQ;
  auto frame = encode_frame(cmd).value();
  EXPECT_EQ(to_hex(frame.substr(0, 25)),
            "00 00 00 92 01 00 00 8E 00 11 00 01 97 00 00 00 01 00 00 00 01 00 00 00 79");
}

TEST(FrameCodec, Example10PullRequestAndAnswerByteForByte) {
  const std::string request_header =
      R"({"code":11,"extFields":{"bname":"broker-a","commitOffset":"0","consumerGroup":"G1","expressionType":"TAG","maxMsgNums":"32","queueId":"0","queueOffset":"0","subVersion":"1700000000000","suspendTimeoutMillis":"15000","sysFlag":"2","topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":42,"serializeTypeCurrentRPC":"JSON","version":409})";
  ASSERT_EQ(request_header.size(), 337u);
  auto request = decode_frame(json_frame(request_header));
  ASSERT_TRUE(request.ok()) << request.error().to_string();
  EXPECT_EQ(request->ext_fields.size(), 11u);
  EXPECT_EQ(encode_frame(*request).value(), json_frame(request_header));

  const std::string answer_header =
      R"({"code":19,"extFields":{"maxOffset":"0","minOffset":"0","nextBeginOffset":"0","suggestWhichBrokerId":"0"},"flag":1,"language":"JAVA","opaque":42,"remark":"NO_MESSAGE_IN_QUEUE","serializeTypeCurrentRPC":"JSON","version":409})";
  ASSERT_EQ(answer_header.size(), 223u);
  auto answer = RemotingCommand::response_to(*request, 19, "NO_MESSAGE_IN_QUEUE");
  answer.ext_fields = {{"suggestWhichBrokerId", "0"},
                       {"nextBeginOffset", "0"},
                       {"minOffset", "0"},
                       {"maxOffset", "0"}};
  EXPECT_EQ(encode_frame(answer).value(), json_frame(answer_header));
}

TEST(FrameCodec, JsonHeaderToleratesRealPeers) {
  // ali-ons: typed values, no serializeTypeCurrentRPC, any key order; a float, null values.
  auto cmd = decode_header(
      SerializeType::JSON,
      R"({"opaque":7,"extFields":{"queueId":0,"k":false,"big":18446744073709551615,"f":1.5,"n":null,"nested":{"a":1},"arr":[1,2]},"code":310,"version":121,"language":"JAVA","flag":0,"unknown":{"x":[1,{"y":2}]}})");
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->code, 310);
  EXPECT_EQ(cmd->opaque, 7);
  EXPECT_EQ(*cmd->ext("queueId"), "0");
  EXPECT_EQ(*cmd->ext("k"), "false");
  EXPECT_EQ(*cmd->ext("big"), "18446744073709551615");
  EXPECT_EQ(*cmd->ext("f"), "1.5");
  EXPECT_EQ(cmd->ext("n"), nullptr);
  EXPECT_EQ(cmd->ext("nested"), nullptr);
  EXPECT_EQ(cmd->ext("a"), nullptr);
  EXPECT_EQ(cmd->ext_fields.size(), 4u);

  // Only code, opaque and extFields; defaults for the rest.
  cmd = decode_header(SerializeType::JSON, R"({"code":34,"opaque":3,"extFields":{}})");
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->flag, 0);
  EXPECT_EQ(cmd->version, kDefaultVersion);
  EXPECT_TRUE(cmd->ext_fields_present);
  EXPECT_TRUE(cmd->ext_fields.empty());

  // Language as a number or an unknown name; null remark and extFields; numbers as strings.
  cmd = decode_header(SerializeType::JSON,
                      R"({"code":"11","language":1,"remark":null,"extFields":null})");
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(cmd->code, 11);
  EXPECT_EQ(cmd->language, LanguageCode::CPP);
  EXPECT_FALSE(cmd->ext_fields_present);
  cmd = decode_header(SerializeType::JSON, R"({"code":1,"language":"KLINGON"})");
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->language, LanguageCode::JAVA);
  // fastjson-style bare numeric keys.
  cmd = decode_header(SerializeType::JSON, R"({"code":1,"extFields":{0:"zero",1:2}})");
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(*cmd->ext("0"), "zero");
  EXPECT_EQ(*cmd->ext("1"), "2");
  // Escapes: property separators arrive as \u0001 / \u0002.
  cmd = decode_header(SerializeType::JSON,
                      R"({"code":310,"extFields":{"i":"TAGS\u0001TagA\u0002KEYS\u0001k"}})");
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(*cmd->ext("i"), "TAGS\x01TagA\x02KEYS\x01k");
}

TEST(FrameCodec, JsonWriterEscapesLikeFastjson) {
  auto cmd = RemotingCommand::request(310, {{"i", "TAGS\x01TagA\x02KEYS\x01k"}, {"q", "a\"b\\c"}});
  cmd.remark = "line\nnext\ttab";
  auto header = encode_header(cmd).value();
  EXPECT_NE(header.find(R"("i":"TAGS\u0001TagA\u0002KEYS\u0001k")"), std::string::npos) << header;
  EXPECT_NE(header.find(R"("q":"a\"b\\c")"), std::string::npos);
  EXPECT_NE(header.find(R"("remark":"line\nnext\ttab")"), std::string::npos);
  auto back = decode_header(SerializeType::JSON, header).value();
  EXPECT_EQ(back.ext_fields, cmd.ext_fields);
  EXPECT_EQ(back.remark, cmd.remark);
  // Empty extFields written as {} only on request.
  RemotingCommand empty;
  EXPECT_EQ(encode_header(empty).value().find("extFields"), std::string::npos);
  empty.ext_fields_present = true;
  EXPECT_NE(encode_header(empty).value().find(R"("extFields":{})"), std::string::npos);
}

TEST(FrameCodec, JsonHeaderFastPathAgreesWithTheGeneralParser) {
  // The usual shape (flat, string extFields, escapes) and shapes next to it that the fast path
  // hands over to the general parser: each must decode to the same command either way.
  struct Case {
    std::string_view header;
    std::int32_t code;
    std::map<std::string, std::string, std::less<>> ext;
    std::string remark;
  };
  const Case cases[] = {
      {R"({"code":310,"extFields":{"a":"x","b":"TAGS\u0001T\u0002","c":"q\"\\\/\b\f\n\r\t"},"flag":0,"language":"JAVA","opaque":9,"serializeTypeCurrentRPC":"JSON","version":409})",
       310,
       {{"a", "x"}, {"b", "TAGS\x01T\x02"}, {"c", "q\"\\/\b\f\n\r\t"}},
       ""},
      // Duplicate keys: the last wins, at both levels.
      {R"({ "code" : 1 , "code":2, "extFields" : { "k":"1", "k":"2" } , "remark":"r\u0041" })",
       2,
       {{"k", "2"}},
       "rA"},
      // Non-ASCII escapes and raw UTF-8 go through the general parser.
      {R"({"code":-3,"extFields":{"k":"\u00e9","u":"é"}})", -3, {{"k", "é"}, {"u", "é"}}, ""},
      // Typed extFields values and unknown keys too.
      {R"({"code":4,"extFields":{"n":5},"other":true})", 4, {{"n", "5"}}, ""},
  };
  for (const auto& c : cases) {
    auto cmd = decode_header(SerializeType::JSON, c.header);
    ASSERT_TRUE(cmd.ok()) << c.header << ": " << cmd.error().to_string();
    EXPECT_EQ(cmd->code, c.code) << c.header;
    EXPECT_EQ(cmd->ext_fields, c.ext) << c.header;
    EXPECT_EQ(cmd->remark, c.remark) << c.header;
  }
  // Errors still come from the general parser.
  for (std::string_view bad : {R"({"code":2147483648})", R"({"code":01})", R"({"code":1,)",
                               R"({"code":1}x)", R"({"extFields":{"k":"\u12"}})"}) {
    EXPECT_FALSE(decode_header(SerializeType::JSON, bad).ok()) << bad;
  }
  // The writer's output of every control character reads back the same.
  std::string all;
  for (int c = 1; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  auto cmd = RemotingCommand::request(310, {{"i", all}});
  cmd.remark = all;
  auto back = decode_header(SerializeType::JSON, encode_header(cmd).value());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back->ext("i"), all);
  EXPECT_EQ(back->remark, all);
}

TEST(FrameCodec, RoundTripsBothFlavoursWithBody) {
  for (auto type : {SerializeType::JSON, SerializeType::ROCKETMQ}) {
    RemotingCommand cmd = RemotingCommand::request(310, {{"a", "PG"}, {"b", "T"}, {"e", "-1"}});
    cmd.serialize_type = type;
    cmd.opaque = -5;
    cmd.language = LanguageCode::CPP;
    cmd.mark_oneway();
    cmd.remark = "r\x01";
    cmd.body = std::string("\0\1\2body", 7);
    auto frame = encode_frame(cmd);
    ASSERT_TRUE(frame.ok());
    auto back = decode_frame(*frame);
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    EXPECT_EQ(back->code, 310);
    EXPECT_EQ(back->opaque, -5);
    EXPECT_EQ(back->language, LanguageCode::CPP);
    EXPECT_TRUE(back->is_oneway());
    EXPECT_EQ(back->remark, cmd.remark);
    EXPECT_EQ(back->ext_fields, cmd.ext_fields);
    EXPECT_EQ(back->body, cmd.body);
    EXPECT_EQ(back->serialize_type, type);
  }
}

TEST(FrameCodec, BinaryHeaderLimitsAndQuirks) {
  RemotingCommand pop = RemotingCommand::request(200050);
  pop.serialize_type = SerializeType::ROCKETMQ;
  EXPECT_EQ(encode_frame(pop).error().code(), ErrorCode::kInvalidArgument);
  pop.serialize_type = SerializeType::JSON;
  EXPECT_TRUE(encode_frame(pop).ok());  // JSON carries any int32 code

  // Duplicate keys: last wins; zero-length values are null and dropped; unknown language byte
  // (99) is kept; trailing bytes after the map are ignored.
  std::string header = from_hex("00 0A 63 01 99 00 00 00 07 00 00 00 00 00 00 00 00");
  std::string map = from_hex("00 01 6B 00 00 00 01 31") + from_hex("00 01 6B 00 00 00 01 32") +
                    from_hex("00 01 7A 00 00 00 00");
  header += be32(static_cast<std::uint32_t>(map.size())) + map + "junk";
  auto cmd = decode_header(SerializeType::ROCKETMQ, header);
  ASSERT_TRUE(cmd.ok()) << cmd.error().to_string();
  EXPECT_EQ(static_cast<int>(cmd->language), 99);
  EXPECT_EQ(cmd->ext_fields, (ExtFields{{"k", "2"}}));
  EXPECT_EQ(language_name(cmd->language), "OTHER");
}

TEST(FrameCodec, RejectsMalformedFrames) {
  const std::string good = from_hex(kExample2Hex);
  // Truncations.
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = decode_frame(std::string_view(good).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocolError);
  }
  auto patched = [&](size_t off, std::string_view bytes) {
    std::string s = good;
    s.replace(off, bytes.size(), bytes);
    return s;
  };
  // Header length beyond the frame, unknown serialize type, inner lengths beyond the header.
  EXPECT_FALSE(decode_frame(patched(4, from_hex("01 00 00 2A"))).ok());
  EXPECT_FALSE(decode_frame(patched(4, from_hex("02 00 00 29"))).ok());
  EXPECT_FALSE(decode_frame(patched(21, from_hex("00 00 00 50"))).ok());
  EXPECT_FALSE(decode_frame(patched(21, from_hex("FF FF FF FF"))).ok());
  EXPECT_FALSE(decode_frame(patched(25, from_hex("00 00 00 15"))).ok());
  EXPECT_FALSE(decode_frame(patched(29, from_hex("7F FF"))).ok());
  EXPECT_FALSE(decode_frame(patched(36, from_hex("00 00 00 0A"))).ok());
  // Binary header shorter than its fixed part.
  EXPECT_FALSE(decode_frame(from_hex("00 00 00 08 01 00 00 04 00 69 00 01")).ok());
  // Bad JSON: truncated, not an object, wrong types, out-of-range ints.
  for (std::string_view header :
       {std::string_view(R"({"code":105,"extFi)"), std::string_view("[1,2]"),
        std::string_view("42"), std::string_view(R"({"code":"abc"})"),
        std::string_view(R"({"opaque":4294967296})"), std::string_view(R"({"code":true})"),
        std::string_view(R"({"code":1} trailing)"), std::string_view(""),
        std::string_view("{\"remark\":\"\xFF\"}")}) {
    auto r = decode_frame(json_frame(header));
    ASSERT_FALSE(r.ok()) << header;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocolError);
  }
}

TEST(FrameCodec, MaxFrameSizeFollowsTheSpec) {
  // Length field 16777212 is acceptable, 16777213 is not (the limit counts the prefix).
  FrameDecoder ok_decoder;
  ok_decoder.feed(be32(16777212));
  ok_decoder.feed(be32(10));
  auto r = ok_decoder.next();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());

  FrameDecoder bad;
  bad.feed(be32(16777213));  // rejected before any header arrives
  auto e = bad.next();
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().code(), ErrorCode::kProtocolError);
  EXPECT_TRUE(bad.failed());
  bad.feed(json_frame(kExample1Header));
  EXPECT_FALSE(bad.next().ok());  // sticky

  FrameDecoder negative;
  negative.feed(from_hex("FF FF FF FF"));
  EXPECT_FALSE(negative.next().ok());
  FrameDecoder tiny;
  tiny.feed(from_hex("00 00 00 03"));
  EXPECT_FALSE(tiny.next().ok());

  // A configurable limit applies to encoding too.
  RemotingCommand big;
  big.body.assign(2000, 'x');
  EXPECT_FALSE(encode_frame(big, 1024).ok());
  EXPECT_TRUE(encode_frame(big, 4096).ok());
  FrameDecoder small(1024);
  small.feed(encode_frame(big).value());
  EXPECT_FALSE(small.next().ok());
  EXPECT_FALSE(decode_frame(encode_frame(big).value(), 1024).ok());
}

TEST(FrameDecoder, ReassemblesByteByByteAndBatches) {
  std::string stream;
  for (int i = 0; i < 5; ++i) {
    auto cmd = route_request(i % 2 ? SerializeType::ROCKETMQ : SerializeType::JSON);
    cmd.opaque = i;
    cmd.body = std::string(static_cast<size_t>(i) * 100, 'b');
    ASSERT_TRUE(append_frame(cmd, stream).ok());
  }
  // One byte at a time.
  FrameDecoder decoder;
  std::vector<RemotingCommand> got;
  for (char c : stream) {
    decoder.feed(std::string_view(&c, 1));
    while (true) {
      auto next = decoder.next();
      ASSERT_TRUE(next.ok()) << next.error().to_string();
      if (!*next) break;
      got.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(got.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[static_cast<size_t>(i)].opaque, i);
    EXPECT_EQ(got[static_cast<size_t>(i)].body.size(), static_cast<size_t>(i) * 100);
  }
  EXPECT_EQ(decoder.buffered(), 0u);

  // All at once, via prepare/commit.
  FrameDecoder bulk;
  auto span = bulk.prepare(stream.size() + 100);
  std::copy(stream.begin(), stream.end(), span.begin());
  bulk.commit(stream.size());
  int count = 0;
  while (true) {
    auto next = bulk.next();
    ASSERT_TRUE(next.ok());
    if (!*next) break;
    ++count;
  }
  EXPECT_EQ(count, 5);
  EXPECT_EQ(bulk.buffered(), 0u);
}

TEST(FrameDecoder, ReusesItsBufferAcrossReadsAndPartialFrames) {
  std::string stream;
  for (int i = 0; i < 40; ++i) {
    auto cmd = route_request(SerializeType::JSON);
    cmd.opaque = i;
    cmd.body = std::string(static_cast<size_t>(i) * 37, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(append_frame(cmd, stream).ok());
  }
  // Reads of varying sizes that split frames anywhere, as a socket does.
  FrameDecoder decoder;
  std::size_t pos = 0;
  int expected = 0;
  for (std::size_t chunk = 1; pos < stream.size(); chunk = chunk * 3 % 251 + 1) {
    auto n = std::min(chunk, stream.size() - pos);
    auto space = decoder.prepare(64);
    n = std::min(n, space.size());
    std::copy_n(stream.data() + pos, n, space.begin());
    decoder.commit(n);
    pos += n;
    while (true) {
      auto next = decoder.next();
      ASSERT_TRUE(next.ok()) << next.error().to_string();
      if (!*next) break;
      EXPECT_EQ((*next)->opaque, expected);
      EXPECT_EQ((*next)->body, std::string(static_cast<size_t>(expected) * 37,
                                           static_cast<char>('a' + expected % 26)));
      ++expected;
    }
  }
  EXPECT_EQ(expected, 40);
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameDecoder, HeaderErrorsAreReportedAfterTheFrameArrives) {
  FrameDecoder decoder;
  decoder.feed(json_frame("{not json"));
  auto r = decoder.next();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kProtocolError);
  EXPECT_EQ(decoder.buffered(), 0u);
}

}  // namespace
}  // namespace rmqc::rocketmq
