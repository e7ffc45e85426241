#include "rocketmq/protocol/message_codec.h"

#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/tests/test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <zlib.h>

namespace rmqc::rocketmq {
namespace {

using testing::from_hex;
using testing::to_hex;

// Spec Example 5: the 137-byte record a 4.9 broker stores.
const std::string kExample5Hex =
    "00 00 00 89 DA A3 20 A7 36 10 A6 86 00 00 00 01 00 00 00 00"
    "00 00 00 00 00 00 00 05 00 00 00 00 00 00 10 00 00 00 00 00"
    "00 00 01 8B CF E5 68 00 C0 A8 00 0A 00 00 CB 20"
    "00 00 01 8B CF E5 68 7B C0 A8 00 02 00 00 2A 9F 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 05 68 65 6C 6C 6F 09"
    "54 6F 70 69 63 54 65 73 74 00 20"
    "43 4C 55 53 54 45 52 01 44 65 66 61 75 6C 74 43 6C 75 73 74 65 72 02 54 41 47 53 01 54 61 "
    "67 41";

// The record pulled from the real 4.9.7 broker in Example 5's verification.
const std::string kExample5CapturedHex =
    "00 00 00 8F DA A3 20 A7 36 10 A6 86 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
    "00 00 03 9D E1 39 00 00 00 00 00 00 01 8B CF E5 68 00 7F 00 00 01 00 00 D9 4A 00 00 01 A1 "
    "FC 45 59 A9 7F 00 00 01 00 00 2A 9F 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 05 68 65 "
    "6C 6C 6F 0F 76 65 72 69 66 79 5F 65 35 5F 33 33 37 36 35 00 20 43 4C 55 53 54 45 52 01 44 "
    "65 66 61 75 6C 74 43 6C 75 73 74 65 72 02 54 41 47 53 01 54 61 67 41";

StoredMessageView example5() {
  StoredMessageView m;
  m.queue_id = 1;
  m.queue_offset = 5;
  m.physical_offset = 4096;
  m.born_timestamp = 1700000000000;
  m.born_host = SocketAddress::ipv4(192, 168, 0, 10, 52000);
  m.store_timestamp = 1700000000123;
  m.store_host = SocketAddress::ipv4(192, 168, 0, 2, 10911);
  m.body = "hello";
  m.topic = "TopicTest";
  m.properties =
      "CLUSTER\x01"
      "DefaultCluster\x02TAGS\x01TagA";
  return m;
}

TEST(StoredMessage, Example5EncodesByteForByte) {
  std::string out;
  ASSERT_TRUE(append_stored_message(example5(), out).ok());
  EXPECT_EQ(to_hex(out), to_hex(from_hex(kExample5Hex)));
  EXPECT_EQ(out.size(), 137u);
  EXPECT_EQ(stored_message_size(example5()).value(), 137u);
}

TEST(StoredMessage, Example5WithoutClusterIs114Bytes) {
  auto m = example5();
  m.properties = "TAGS\x01TagA";
  std::string out;
  ASSERT_TRUE(append_stored_message(m, out).ok());
  EXPECT_EQ(out.size(), 114u);
  EXPECT_EQ(to_hex(out.substr(0, 4)), "00 00 00 72");
  EXPECT_EQ(to_hex(out.substr(103, 2)), "00 09");
}

TEST(StoredMessage, Example5Decodes) {
  const std::string bytes = from_hex(kExample5Hex);
  auto m = decode_stored_message(bytes);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->magic, kMessageMagicV1);
  EXPECT_EQ(m->body_crc, 0x3610A686u);
  EXPECT_EQ(m->queue_id, 1);
  EXPECT_EQ(m->flag, 0);
  EXPECT_EQ(m->queue_offset, 5);
  EXPECT_EQ(m->physical_offset, 4096);
  EXPECT_EQ(m->sys_flag, 0);
  EXPECT_EQ(m->born_timestamp, 1700000000000);
  EXPECT_EQ(m->born_host.to_string(), "192.168.0.10:52000");
  EXPECT_EQ(m->store_timestamp, 1700000000123);
  EXPECT_EQ(m->store_host.to_string(), "192.168.0.2:10911");
  EXPECT_EQ(m->reconsume_times, 0);
  EXPECT_EQ(m->prepared_transaction_offset, 0);
  EXPECT_EQ(m->body, "hello");
  EXPECT_EQ(m->topic, "TopicTest");
  std::string_view tags;
  ASSERT_TRUE(find_property(m->properties, property::TAGS, &tags));
  EXPECT_EQ(tags, "TagA");
  // Views point into the input buffer: no copies.
  EXPECT_EQ(m->body.data(), bytes.data() + 88);
  // Example 6: offsetMsgId of this record.
  EXPECT_EQ(m->offset_msg_id(), "C0A8000200002A9F0000000000001000");
}

TEST(StoredMessage, CapturedRecordFromRealBrokerDecodes) {
  const std::string bytes = from_hex(kExample5CapturedHex);
  ASSERT_EQ(bytes.size(), 143u);
  auto m = decode_stored_message(bytes);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->topic, "verify_e5_33765");
  EXPECT_EQ(m->physical_offset, 0x39DE139);
  EXPECT_EQ(m->offset_msg_id(), "7F00000100002A9F00000000039DE139");
  EXPECT_EQ(m->body_crc, body_crc32("hello"));
  // Re-encoding the decoded view reproduces the captured bytes.
  std::string again;
  ASSERT_TRUE(append_stored_message(*m, again).ok());
  EXPECT_EQ(to_hex(again), to_hex(bytes));
}

TEST(StoredMessage, BodyCrcMasksSignBit) {
  EXPECT_EQ(body_crc32("hello"), 0x3610A686u);
  EXPECT_EQ(body_crc32(""), 0u);
  // Example 9's compressed bodies.
  EXPECT_EQ(body_crc32(from_hex("78 5E CB 48 CD C9 C9 07 00 06 2C 02 15")), 0x161AB8CBu);
  EXPECT_EQ(body_crc32(from_hex("78 9C CB 48 CD C9 C9 07 00 06 2C 02 15")), 0x2A85FE44u);
  // Some body whose raw crc32 has the top bit set must come out masked.
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(body_crc32(std::string(static_cast<size_t>(i), 'x')) & 0x80000000u, 0u);
  }
}

TEST(StoredMessage, BodyCrcIsZlibsCrc32) {
  // Check values of CRC-32/ISO-HDLC (java.util.zip.CRC32), masked.
  EXPECT_EQ(body_crc32("123456789"), 0xCBF43926u & 0x7FFFFFFFu);
  EXPECT_EQ(body_crc32("The quick brown fox jumps over the lazy dog"), 0x414FA339u);
  EXPECT_EQ(body_crc32(std::string(32, '\0')), 0x190A55ADu);
  // Against zlib for every length up to 2 KiB and every start alignment (the vectorised paths
  // switch on both), and a body larger than any SIMD block.
  std::string data(4096 + 64, '\0');
  std::uint32_t x = 0x9E3779B9u;
  for (auto& c : data) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  auto zlib_crc = [](std::string_view s) {
    return static_cast<std::uint32_t>(
               crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size()))) &
           0x7FFFFFFFu;
  };
  for (std::size_t len = 0; len <= 2048; ++len) {
    for (std::size_t start : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{13}}) {
      std::string_view s(data.data() + start, len);
      ASSERT_EQ(body_crc32(s), zlib_crc(s)) << "length " << len << " start " << start;
    }
  }
  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = data[i % data.size()];
  EXPECT_EQ(body_crc32(big), zlib_crc(big));
}

TEST(StoredMessage, PatchFieldsInPlace) {
  std::string out;
  auto m = example5();
  m.queue_offset = 0;
  m.physical_offset = 0;
  m.store_timestamp = 0;
  ASSERT_TRUE(append_stored_message(m, out).ok());
  std::span<char> record(out.data(), out.size());
  patch_queue_offset(record, 5);
  patch_physical_offset(record, 4096);
  patch_store_timestamp(record, 1700000000123);
  EXPECT_EQ(to_hex(out), to_hex(from_hex(kExample5Hex)));
}

TEST(StoredMessage, Ipv6HostsRoundTrip) {
  auto m = example5();
  m.born_host = SocketAddress::parse("[2001:db8::1]:52000").value();
  m.store_host = SocketAddress::parse("[::1]:10911").value();
  std::string out;
  ASSERT_TRUE(append_stored_message(m, out).ok());
  EXPECT_EQ(out.size(), 161u);  // Example 5 arithmetic: +24 bytes
  auto d = decode_stored_message(out);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->sys_flag, sysflag::BORNHOST_V6_FLAG | sysflag::STOREHOSTADDRESS_V6_FLAG);
  EXPECT_EQ(d->born_host.to_string(), "[2001:db8::1]:52000");
  EXPECT_EQ(d->store_host.to_string(), "[::1]:10911");
  EXPECT_EQ(d->body, "hello");
  EXPECT_EQ(out.substr(stored_layout::body_length_offset(d->sys_flag) + 4, 5), "hello");
  EXPECT_EQ(stored_layout::body_length_offset(d->sys_flag), 108u);
  EXPECT_EQ(d->offset_msg_id().size(), 56u);
  auto id = decode_offset_msg_id(d->offset_msg_id());
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->store_host, m.store_host);
  EXPECT_EQ(id->physical_offset, 4096);
  // In-place store-timestamp patch follows the IPv6 born host.
  patch_store_timestamp(std::span<char>(out.data(), out.size()), 42);
  EXPECT_EQ(decode_stored_message(out)->store_timestamp, 42);
}

TEST(StoredMessage, LongTopicUsesMagicV2) {
  auto m = example5();
  std::string topic(200, 't');
  m.topic = topic;
  std::string out;
  ASSERT_TRUE(append_stored_message(m, out).ok());
  EXPECT_EQ(out.size(), 137u - 9 + 200 + 1);
  auto d = decode_stored_message(out);
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->magic, kMessageMagicV2);
  EXPECT_EQ(d->topic, topic);
}

TEST(StoredMessage, RejectsOversizedProperties) {
  auto m = example5();
  std::string props(40000, 'p');
  m.properties = props;
  std::string out;
  auto r = append_stored_message(m, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_TRUE(out.empty());
}

TEST(StoredMessage, ReaderIteratesPullBody) {
  std::string body;
  auto m = example5();
  for (int i = 0; i < 3; ++i) {
    m.queue_offset = i;
    ASSERT_TRUE(append_stored_message(m, body).ok());
  }
  StoredMessageReader reader(body);
  int count = 0;
  while (true) {
    auto next = reader.next();
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    if (!*next) break;
    EXPECT_EQ((*next)->queue_offset, count);
    ++count;
  }
  EXPECT_EQ(count, 3);
  EXPECT_EQ(decode_stored_messages(body)->size(), 3u);
  EXPECT_TRUE(decode_stored_messages("")->empty());
}

TEST(StoredMessage, RejectsCorruptRecords) {
  const std::string good = from_hex(kExample5Hex);
  // Every truncation fails cleanly.
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = decode_stored_message(std::string_view(good).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocolError);
  }
  auto patched = [&](size_t off, std::string_view bytes) {
    std::string s = good;
    s.replace(off, bytes.size(), bytes);
    return s;
  };
  // TOTALSIZE larger than the buffer, or smaller than the fields.
  EXPECT_FALSE(decode_stored_message(patched(0, from_hex("7F FF FF FF"))).ok());
  EXPECT_FALSE(decode_stored_message(patched(0, from_hex("00 00 00 88"))).ok());
  EXPECT_FALSE(decode_stored_message(patched(0, from_hex("80 00 00 00"))).ok());
  // Unknown and blank magic.
  EXPECT_FALSE(decode_stored_message(patched(4, from_hex("00 00 00 00"))).ok());
  EXPECT_FALSE(decode_stored_message(patched(4, from_hex("CB D4 31 94"))).ok());
  // Body length negative / too large.
  EXPECT_FALSE(decode_stored_message(patched(84, from_hex("FF FF FF FF"))).ok());
  EXPECT_FALSE(decode_stored_message(patched(84, from_hex("00 00 10 00"))).ok());
  // Trailing garbage inside TOTALSIZE.
  std::string longer = good + "xx";
  longer.replace(0, 4, from_hex("00 00 00 8B"));
  EXPECT_FALSE(decode_stored_message(longer).ok());
  // A bad second record in a pull body is reported with its position.
  std::string body = good + patched(4, from_hex("00 00 00 00"));
  auto all = decode_stored_messages(body);
  ASSERT_FALSE(all.ok());
  EXPECT_NE(all.error().message().find("byte 137"), std::string::npos);
}

// Example 8: a batch body of two messages, 70 bytes.
const std::string kExample8Hex =
    "00 00 00 23 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 68 69 00 0B "
    "55 4E 49 51 5F 4B 45 59 01 41 31 "
    "00 00 00 23 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 02 79 6F 00 0B "
    "55 4E 49 51 5F 4B 45 59 01 41 32";

TEST(BatchBody, Example8EncodesByteForByte) {
  std::vector<BatchMessageView> batch = {{0, "hi",
                                          "UNIQ_KEY\x01"
                                          "A1"},
                                         {0, "yo",
                                          "UNIQ_KEY\x01"
                                          "A2"}};
  auto body = encode_batch_body(batch);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->size(), 70u);
  EXPECT_EQ(to_hex(*body), to_hex(from_hex(kExample8Hex)));
}

TEST(BatchBody, Example8Decodes) {
  const std::string bytes = from_hex(kExample8Hex);
  auto batch = decode_batch_body(bytes);
  ASSERT_TRUE(batch.ok()) << batch.error().to_string();
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].body, "hi");
  EXPECT_EQ((*batch)[1].body, "yo");
  EXPECT_EQ((*batch)[0].properties,
            "UNIQ_KEY\x01"
            "A1");
  EXPECT_EQ((*batch)[1].properties,
            "UNIQ_KEY\x01"
            "A2");
  EXPECT_EQ((*batch)[1].flag, 0);
}

TEST(BatchBody, RejectsCorruptBodies) {
  const std::string good = from_hex(kExample8Hex);
  for (size_t n = 1; n < good.size(); ++n) {
    if (n == 35) continue;  // a whole first entry is a valid batch
    auto r = decode_batch_body(std::string_view(good).substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code(), ErrorCode::kProtocolError);
  }
  std::string bad = good;
  bad[19] = 0x7F;  // body length beyond TOTALSIZE
  EXPECT_FALSE(decode_batch_body(bad).ok());
  bad = good;
  bad.replace(0, 4, from_hex("FF FF FF FF"));
  EXPECT_FALSE(decode_batch_body(bad).ok());
}

TEST(Compression, Example9InflatesBothHeaders) {
  for (auto hex :
       {"78 5E CB 48 CD C9 C9 07 00 06 2C 02 15", "78 9C CB 48 CD C9 C9 07 00 06 2C 02 15"}) {
    auto body = decode_body(from_hex(hex), 769);
    ASSERT_TRUE(body.ok()) << body.error().to_string();
    EXPECT_EQ(*body, "hello");
    EXPECT_EQ(*decode_body(from_hex(hex), 1), "hello");
  }
  EXPECT_EQ(to_hex(compress_body("hello", 5).value()), "78 5E CB 48 CD C9 C9 07 00 06 2C 02 15");
  EXPECT_EQ(to_hex(compress_body("hello", 6).value()), "78 9C CB 48 CD C9 C9 07 00 06 2C 02 15");
  EXPECT_EQ(*decode_body("plain", 0), "plain");
}

TEST(Compression, LargeRoundTripAndLimits) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += std::to_string(i);
  auto z = compress_body(big);
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(*uncompress_body(*z), big);
  // A zip bomb stops at the cap.
  std::string zeros(8u << 20, '\0');
  auto bomb = compress_body(zeros, 9).value();
  auto r = uncompress_body(bomb, 1u << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kResourceExhausted);
  // Corrupt and truncated streams.
  EXPECT_EQ(uncompress_body("not zlib").error().code(), ErrorCode::kProtocolError);
  EXPECT_EQ(uncompress_body(std::string_view(*z).substr(0, z->size() / 2)).error().code(),
            ErrorCode::kProtocolError);
  EXPECT_EQ(decode_body(*z, sysflag::COMPRESSED_FLAG | sysflag::COMPRESSION_LZ4).error().code(),
            ErrorCode::kUnsupported);
}

TEST(Properties, Example7ParsesBothForms) {
  const std::string java = from_hex("4B 45 59 53 01 6B 31 20 6B 32 02 54 41 47 53 01 54 61 67 41");
  const std::string ons = java + "\x02";
  for (const auto& text : {java, ons}) {
    auto props = parse_properties(text);
    ASSERT_EQ(props.size(), 2u);
    EXPECT_EQ(props["KEYS"], "k1 k2");
    EXPECT_EQ(props["TAGS"], "TagA");
  }
  EXPECT_TRUE(parse_properties("TAGS\x01").empty());
  EXPECT_TRUE(parse_properties("\x01"
                               "A")
                  .empty());
  EXPECT_TRUE(parse_properties("\x02").empty());
  EXPECT_EQ(parse_properties("KEYS\x01"
                             "a\x01"
                             "b")["KEYS"],
            "a\x01"
            "b");
  EXPECT_EQ(parse_properties("K\x01"
                             "1\x02K\x01"
                             "2")["K"],
            "2");
  EXPECT_EQ(parse_properties("\x02\x02K\x01"
                             "v")
                .size(),
            1u);
  EXPECT_EQ(parse_properties_view("K\x01"
                                  "1\x02K\x01"
                                  "2")
                .size(),
            2u);
}

TEST(Properties, EncodesJavaStyle) {
  MessageProperties props{{"KEYS", "k1 k2"}, {"TAGS", "TagA"}, {"EMPTY", ""}};
  EXPECT_EQ(to_hex(encode_properties(props)),
            "4B 45 59 53 01 6B 31 20 6B 32 02 54 41 47 53 01 54 61 67 41");
  // Example 5's stored properties.
  MessageProperties stored{{"TAGS", "TagA"}, {"CLUSTER", "DefaultCluster"}};
  EXPECT_EQ(encode_properties(stored),
            "CLUSTER\x01"
            "DefaultCluster\x02TAGS\x01TagA");
  std::string_view v;
  EXPECT_FALSE(find_property("TAGS\x01TagA", "KEYS", &v));
}

TEST(MessageId, Example6OffsetMsgId) {
  EXPECT_EQ(make_offset_msg_id(SocketAddress::ipv4(192, 168, 0, 2, 10911), 4096),
            "C0A8000200002A9F0000000000001000");
  auto id = decode_offset_msg_id("C0A8000200002A9F0000000000001000");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->store_host.to_string(), "192.168.0.2:10911");
  EXPECT_EQ(id->physical_offset, 4096);
  auto lower = decode_offset_msg_id("7f00000100002a9f00000000039dd899");
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(lower->physical_offset, 0x39DD899);
  EXPECT_FALSE(decode_offset_msg_id("C0A8").ok());
  EXPECT_FALSE(decode_offset_msg_id("ZZA8000200002A9F0000000000001000").ok());
}

TEST(MessageId, Example6UniqKeyDecodes) {
  auto info = decode_uniq_key("7F0000010C3A18B4AAC247B760002F5D");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->ip.ip_string(), "127.0.0.1");
  EXPECT_EQ(info->pid, 3130);
  EXPECT_EQ(info->class_loader_hash, 0x18B4AAC2);
  EXPECT_EQ(info->millis_in_month, 1203200000);
  EXPECT_EQ(info->counter, 12125);
}

TEST(MessageId, UniqKeyGeneratorMatchesJavaLayout) {
  // Run in UTC so "ms since the start of the local month" is deterministic.
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  setenv("TZ", "UTC", 1);
  tzset();
  UniqKeyGenerator gen(SocketAddress::ipv4(127, 0, 0, 1, 0), 3130, 0x18B4AAC2);
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1700000000000));
  EXPECT_EQ(gen.next(t), "7F0000010C3A18B4AAC247B760000000");
  EXPECT_EQ(gen.next(t), "7F0000010C3A18B4AAC247B760000001");
  // The batch form renders the same digits after what `out` holds.
  std::string out = "x";
  const std::int32_t millis = gen.millis_in_month(t);
  gen.append_next(out, millis);
  gen.append_next(out, millis);
  EXPECT_EQ(out, "x7F0000010C3A18B4AAC247B7600000027F0000010C3A18B4AAC247B760000003");
  EXPECT_EQ(gen.key_size(), 32u);
  if (old_tz) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
  auto process = UniqKeyGenerator::for_this_process();
  auto key = process.next();
  EXPECT_EQ(key.size(), 32u);
  EXPECT_TRUE(decode_uniq_key(key).ok());
  EXPECT_NE(key, process.next());
}

TEST(SocketAddressTest, ParsesAndPrints) {
  EXPECT_EQ(SocketAddress::parse("127.0.0.1:10911")->to_string(), "127.0.0.1:10911");
  EXPECT_EQ(SocketAddress::parse("[::1]:9876")->to_string(), "[::1]:9876");
  EXPECT_TRUE(SocketAddress::parse("::1:9876")->v6);
  EXPECT_FALSE(SocketAddress::parse("localhost:9876").ok());
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4").ok());
  EXPECT_FALSE(SocketAddress::parse("1.2.3.4:99999").ok());
}

}  // namespace
}  // namespace rmqc::rocketmq
