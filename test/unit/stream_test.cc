// The stream (libclone/io/stream_format.h, stream_storage.h), its filters (compression,
// encryption) alone and chained, the damage every reader must catch, and `extract` replaying a
// stream into a directory.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "innodb/crc32c.h"
#include "libclone/base/interrupt.h"
#include "libclone/command/extract/extract.h"
#include "libclone/command/extract/file_writers.h"
#include "libclone/io/cipher.h"
#include "libclone/io/compress.h"
#include "libclone/io/stream_format.h"
#include "libclone/io/stream_storage.h"
#include "libclone/manifest/manifest.h"
#include "libclone/manifest/target.h"
#include "test/unit/test_datadir.h"
#include "test/unit/test_files.h"

namespace {
using mysqlclone::test::slurp;

using namespace mysqlclone;
using stream::Record;
using stream::RecordType;
namespace fs = std::filesystem;

std::vector<uint8_t> pattern(size_t n, uint32_t seed, bool compressible) {
  std::vector<uint8_t> v(n);
  std::mt19937 rng(seed);
  for (size_t i = 0; i < n; ++i) v[i] = compressible ? uint8_t((i / 64) % 7 + seed) : uint8_t(rng());
  return v;
}

SecretKey key_of(uint8_t fill) {
  KeyBytes k;
  k.fill(fill);
  return SecretKey(k);
}

// ---- filters alone and chained ----------------------------------------------------------------

TEST(Compression, ParsesTheOptionValues) {
  EXPECT_EQ(parse_compression("zstd")->level, 1);
  EXPECT_EQ(parse_compression("zstd:19")->level, 19);
  EXPECT_EQ(parse_compression("lz4")->codec, Codec::kLz4);
  for (const char* bad : {"zstd:0", "zstd:20", "zstd:", "zstd:x", "gzip", "", "zstd:+1"})
    EXPECT_EQ(parse_compression(bad).status().code(), ExitCode::kUsage) << bad;
}

TEST(Compression, RoundTripsEachCodec) {
  const auto plain = pattern(1 << 20, 3, true);
  for (Compression c : {Compression{Codec::kZstd, 1}, Compression{Codec::kZstd, 19}, Compression{Codec::kLz4, 0}}) {
    const auto packed = compress(c, plain);
    ASSERT_FALSE(packed.empty()) << compression_name(c);
    EXPECT_LT(packed.size(), plain.size() / 10);
    auto back = decompress(c.codec, packed, plain.size());
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_EQ(*back, plain);
    // A wrong size or damaged bytes are errors, never a crash or short output.
    EXPECT_FALSE(decompress(c.codec, packed, plain.size() - 1).is_ok());
    auto damaged = packed;
    damaged.resize(damaged.size() / 2);
    EXPECT_EQ(decompress(c.codec, damaged, plain.size()).status().code(), ExitCode::kVerifyFailed);
  }
}

TEST(Compression, LeavesIncompressibleBytesStored) {
  const auto noise = pattern(64 << 10, 5, false);
  EXPECT_TRUE(compress({Codec::kZstd, 1}, noise).empty());
  EXPECT_TRUE(compress({Codec::kLz4, 0}, noise).empty());
}

TEST(Cipher, SealsAndOpensAndRefusesAnyChange) {
  const SecretKey key = key_of(7);
  const Nonce nonce{1, 2, 3};
  const std::vector<uint8_t> aad = {9, 9, 9};
  const auto plain = pattern(4096, 1, false);
  auto data = plain;
  const Tag tag = gcm_seal(key, nonce, aad, data);
  EXPECT_NE(data, plain);
  auto opened = data;
  ASSERT_TRUE(gcm_open(key, nonce, aad, opened, tag));
  EXPECT_EQ(opened, plain);
  opened = data;
  EXPECT_FALSE(gcm_open(key_of(8), nonce, aad, opened, tag));
  opened = data;
  EXPECT_FALSE(gcm_open(key, Nonce{1, 2, 4}, aad, opened, tag));
  opened = data;
  EXPECT_FALSE(gcm_open(key, nonce, std::vector<uint8_t>{9, 9, 8}, opened, tag));
  opened = data;
  opened[100] ^= 1;
  EXPECT_FALSE(gcm_open(key, nonce, aad, opened, tag));
}

TEST(Cipher, DerivesADistinctKeyPerContext) {
  const SecretKey master = key_of(1);
  const std::vector<uint8_t> a = {1}, b = {2};
  EXPECT_EQ(derive_key(master, a).bytes(), derive_key(master, a).bytes());
  EXPECT_NE(derive_key(master, a).bytes(), derive_key(master, b).bytes());
  EXPECT_NE(derive_key(master, a).bytes(), master.bytes());
}

TEST(Cipher, LoadsAHexKeyFileAndNamesBadOnes) {
  testpages::ScratchDir dir;
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path / name) << text;
    return (dir.path / name).string();
  };
  auto key = load_key_file(write("good", std::string(64, 'a') + "\n"));
  ASSERT_TRUE(key.is_ok()) << key.status().message();
  EXPECT_EQ(key->bytes()[0], 0xaa);
  for (const std::string& bad : {std::string(62, 'a'), std::string(66, 'a'), std::string(63, 'a') + "g", std::string()}) {
    auto k = load_key_file(write("bad", bad));
    EXPECT_EQ(k.status().code(), ExitCode::kUsage);
    if (!bad.empty()) {
      EXPECT_EQ(k.status().message().find(bad), std::string::npos) << "the key is never shown";
    }
  }
  EXPECT_EQ(load_key_file((dir.path / "missing").string()).status().code(), ExitCode::kPath);
  // A directory: one error naming it, not the library's exception; a device that never ends
  // (and a file) past 4 KiB: too big; a pipe (process substitution) is read like a file.
  auto d = load_key_file(dir.path.string());
  EXPECT_EQ(d.status().code(), ExitCode::kPath);
  EXPECT_NE(d.status().message().find("is a directory"), std::string::npos) << d.status().message();
  EXPECT_EQ(load_key_file("/dev/zero").status().code(), ExitCode::kUsage);
  auto big = load_key_file(write("big", std::string(64, 'a') + std::string(5000, ' ')));
  EXPECT_EQ(big.status().code(), ExitCode::kUsage);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const std::string key_text = std::string(64, 'b') + "\n";
  ASSERT_EQ(::write(pipe_fds[1], key_text.data(), key_text.size()), ssize_t(key_text.size()));
  ::close(pipe_fds[1]);
  auto piped = load_key_file("/proc/self/fd/" + std::to_string(pipe_fds[0]));
  ::close(pipe_fds[0]);
  ASSERT_TRUE(piped.is_ok()) << piped.status().message();
  EXPECT_EQ(piped->bytes()[0], 0xbb);
}

TEST(Filters, ChainCompressThenEncryptRoundTrips) {
  const auto plain = pattern(256 << 10, 2, true);
  for (Compression c : {Compression{Codec::kZstd, 1}, Compression{Codec::kLz4, 0}}) {
    auto packed = compress(c, plain);
    const Tag tag = gcm_seal(key_of(3), Nonce{}, {}, packed);
    ASSERT_TRUE(gcm_open(key_of(3), Nonce{}, {}, packed, tag));
    auto back = decompress(c.codec, packed, plain.size());
    ASSERT_TRUE(back.is_ok());
    EXPECT_EQ(*back, plain);
  }
}

// ---- streams: writer and reader ---------------------------------------------------------------

// A stream written through StreamStorage into a file, read back as bytes.
class StreamFileFixture {
 public:
  explicit StreamFileFixture(stream::Settings settings)
      : StreamFileFixture(std::move(settings), std::make_shared<testpages::ScratchDir>()) {}
  // A second stream in the scratch directory of `sibling` (a test has one scratch directory).
  StreamFileFixture(stream::Settings settings, const StreamFileFixture& sibling)
      : StreamFileFixture(std::move(settings), sibling.dir_) {}
  StreamFileFixture(stream::Settings settings, std::shared_ptr<testpages::ScratchDir> dir)
      : dir_(std::move(dir)),
        path_(dir_->path / ("s" + std::to_string(counter_++) + ".mcs")),
        fd_(::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)),
        sink_(fd_, "test"),
        storage_(sink_, std::move(settings), 3) {}
  ~StreamFileFixture() { ::close(fd_); }
  StreamStorage& storage() { return storage_; }
  std::vector<uint8_t> bytes() const {
    const std::string s = slurp(path_);
    return {s.begin(), s.end()};
  }
  const fs::path& dir() const { return dir_->path; }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::shared_ptr<testpages::ScratchDir> dir_;
  fs::path path_;
  int fd_;
  FdSink sink_;
  StreamStorage storage_;
};

std::span<const uint8_t> as_bytes(const std::vector<uint8_t>& v) { return v; }

// What a small copy writes: a manifest, two files (one extended), a partial file renamed into
// place, a removed name, a directory and syncs.
std::string manifest(TargetState state) {
  Manifest m;
  m.kind = "backup";
  m.command = "test";
  m.state = state;
  return manifest_text(m);
}

void write_small_copy(StreamStorage& s, uint32_t seed) {
  ASSERT_TRUE(s.start().is_ok());
  ASSERT_TRUE(s.put("mysqlclone.json", manifest(TargetState::kInProgress)).is_ok());
  ASSERT_TRUE(s.sync().is_ok());
  auto a = s.create("db/t1.ibd");
  ASSERT_TRUE(a.is_ok());
  ASSERT_TRUE((*a)->append(as_bytes(pattern(3000, seed, true))).is_ok());
  ASSERT_TRUE((*a)->append(as_bytes(pattern(1000, seed + 1, false))).is_ok());
  ASSERT_TRUE((*a)->extend_to(8192).is_ok());
  ASSERT_TRUE((*a)->close().is_ok());
  auto b = s.create("ib_logfile0.partial");
  ASSERT_TRUE(b.is_ok());
  ASSERT_TRUE((*b)->append(as_bytes(pattern(2000, seed + 2, false))).is_ok());
  ASSERT_TRUE((*b)->close().is_ok());
  ASSERT_TRUE(s.make_dir("emptydb").is_ok());
  ASSERT_TRUE(s.remove("gone").is_ok());
  ASSERT_TRUE(s.rename("ib_logfile0.partial", "ib_logfile0").is_ok());
  ASSERT_TRUE(s.sync().is_ok());
  ASSERT_TRUE(s.put("mysqlclone.json", manifest(TargetState::kComplete)).is_ok());
  ASSERT_TRUE(s.finish().is_ok());
}

struct ReadOutcome {
  Status status;
  std::vector<Record> records;
  std::vector<uint64_t> boundaries;  // stream offset after the preamble and after each record
};

// With threads > 1 the reader reads ahead and opens records on its threads (extract's way).
ReadOutcome read_stream(const std::vector<uint8_t>& bytes, std::optional<SecretKey> key, unsigned threads = 1) {
  stream::Reader reader(stream::memory_input(bytes), std::move(key), threads);
  ReadOutcome o;
  o.status = reader.open();
  if (!o.status.is_ok()) return o;
  o.boundaries.push_back(reader.position());
  while (true) {
    auto r = reader.next();
    if (!r.is_ok()) {
      o.status = r.status();
      return o;
    }
    o.records.push_back(*r);
    if (r->type == RecordType::kEnd) return o;
    o.boundaries.push_back(reader.position());
  }
}

std::vector<stream::Settings> all_settings() {
  std::vector<stream::Settings> v(4);
  v[1].compression = {Codec::kZstd, 1};
  v[2].compression = {Codec::kLz4, 0};
  v[2].key.emplace(key_of(5));
  v[3].key.emplace(key_of(6));
  return v;
}

TEST(Stream, RoundTripsEveryRecordUnderEverySetting) {
  for (const stream::Settings& settings : all_settings()) {
    StreamFileFixture f(settings);
    write_small_copy(f.storage(), 1);
    const auto bytes = f.bytes();
    EXPECT_EQ(f.storage().bytes_written(), bytes.size());
    auto o = read_stream(bytes, settings.key);
    ASSERT_TRUE(o.status.is_ok()) << o.status.message();
    ASSERT_EQ(o.records.size(), 16u);
    auto ahead = read_stream(bytes, settings.key, 3);
    ASSERT_TRUE(ahead.status.is_ok()) << ahead.status.message();
    ASSERT_EQ(ahead.records.size(), o.records.size());
    for (size_t i = 0; i < o.records.size(); ++i) {
      EXPECT_EQ(ahead.records[i].type, o.records[i].type) << i;
      EXPECT_EQ(ahead.records[i].offset, o.records[i].offset) << i;
      EXPECT_EQ(ahead.records[i].path, o.records[i].path) << i;
      EXPECT_EQ(ahead.records[i].bytes, o.records[i].bytes) << i;
    }
    EXPECT_EQ(o.records[0].type, RecordType::kPut);
    EXPECT_EQ(o.records[2].type, RecordType::kCreate);
    EXPECT_EQ(o.records[2].path, "db/t1.ibd");
    EXPECT_EQ(o.records[3].bytes, pattern(3000, 1, true));
    EXPECT_EQ(o.records[4].offset, 3000u);
    EXPECT_EQ(o.records[5].type, RecordType::kExtend);
    EXPECT_EQ(o.records[6].offset, 8192u);
    EXPECT_EQ(o.records[12].to, "ib_logfile0");
    EXPECT_EQ(std::string(o.records[14].bytes.begin(), o.records[14].bytes.end()), manifest(TargetState::kComplete));
    EXPECT_EQ(o.records.back().type, RecordType::kEnd);
    // Compressed chunks are smaller; encrypted bytes never show the plain text.
    const std::string text(bytes.begin(), bytes.end());
    EXPECT_EQ(text.find("db/t1.ibd") == std::string::npos, settings.key.has_value());
  }
}

// A record queued after finish() would take the end record's number (and, encrypted, its nonce):
// refused, and the stream stays as it was finished.
TEST(Stream, NothingIsWrittenAfterTheEnd) {
  stream::Settings settings;
  settings.key.emplace(key_of(7));
  StreamFileFixture f(settings);
  write_small_copy(f.storage(), 1);
  const auto finished = f.bytes();
  EXPECT_EQ(f.storage().put("late", "bytes").code(), ExitCode::kInternal);
  EXPECT_EQ(f.storage().sync().code(), ExitCode::kInternal);
  EXPECT_EQ(f.storage().create("late.ibd").status().code(), ExitCode::kInternal);
  EXPECT_EQ(f.bytes(), finished);
  auto o = read_stream(finished, settings.key);
  ASSERT_TRUE(o.status.is_ok()) << o.status.message();
  EXPECT_EQ(o.records.size(), 16u);
}

TEST(Stream, InterleavesParallelWritersAndSplitsLargeAppends) {
  stream::Settings settings;
  settings.compression = {Codec::kZstd, 1};
  StreamFileFixture f(settings);
  ASSERT_TRUE(f.storage().start().is_ok());
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      auto file = f.storage().create("f" + std::to_string(t));
      ASSERT_TRUE(file.is_ok());
      for (int i = 0; i < 8; ++i) ASSERT_TRUE((*file)->append(as_bytes(pattern(300 << 10, t * 100 + i, true))).is_ok());
      ASSERT_TRUE((*file)->append(as_bytes(pattern(3 << 20, t, false))).is_ok());  // split into 1 MiB chunks
      ASSERT_TRUE((*file)->close().is_ok());
    });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(f.storage().finish().is_ok());
  auto o = read_stream(f.bytes(), std::nullopt);
  ASSERT_TRUE(o.status.is_ok()) << o.status.message();
  std::map<uint32_t, std::vector<uint8_t>> files;
  std::map<uint32_t, std::string> names;
  size_t switches = 0;
  uint32_t last = 0;
  for (const Record& r : o.records) {
    if (r.type == RecordType::kCreate) names[r.file] = r.path;
    if (r.type != RecordType::kData) continue;
    EXPECT_LE(r.bytes.size(), stream::kMaxChunk);
    auto& v = files[r.file];
    v.resize(std::max(v.size(), size_t(r.offset + r.bytes.size())));
    std::copy(r.bytes.begin(), r.bytes.end(), v.begin() + long(r.offset));
    switches += r.file != last;
    last = r.file;
  }
  EXPECT_GT(switches, size_t(kThreads)) << "chunks of different files interleave";
  for (const auto& [id, v] : files) {
    const int t = std::stoi(names[id].substr(1));
    std::vector<uint8_t> expected;
    for (int i = 0; i < 8; ++i) {
      auto p = pattern(300 << 10, t * 100 + i, true);
      expected.insert(expected.end(), p.begin(), p.end());
    }
    auto tail = pattern(3 << 20, t, false);
    expected.insert(expected.end(), tail.begin(), tail.end());
    EXPECT_EQ(v, expected) << names[id];
  }
}

TEST(Stream, AWriteFailureIsKeptAndReported) {
  std::signal(SIGPIPE, SIG_IGN);  // as main() does: a closed pipe is EPIPE, not death
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // the reader went away
  FdSink sink(fds[1], "the pipe");
  StreamStorage s(sink, {}, 2);
  const Status first = s.start();
  EXPECT_EQ(first.code(), ExitCode::kNetwork);
  EXPECT_NE(first.message().find("the pipe"), std::string::npos);
  EXPECT_EQ(s.put("x", "y").code(), ExitCode::kNetwork);
  EXPECT_EQ(s.finish().code(), ExitCode::kNetwork);
  ::close(fds[1]);
}

// Either end of a pipe grows it to a MiB (from 64 KiB), so a data record crosses in one piece.
TEST(Stream, APipeIsWidenedToAMiBByEitherEnd) {
  for (bool sink_end : {true, false}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ASSERT_LT(::fcntl(fds[0], F_GETPIPE_SZ), 1 << 20);
    if (sink_end) FdSink sink(fds[1], "the pipe");
    else FdSource source(fds[0], "the pipe");
    EXPECT_GE(::fcntl(fds[0], F_GETPIPE_SZ), 1 << 20) << (sink_end ? "sink" : "source");
    ::close(fds[0]);
    ::close(fds[1]);
  }
}

// A reader that goes away after the stream began: the records queued meanwhile fail on the
// storage's threads, and sync() (which waits for them) and every later call report it.
TEST(Stream, AFailureOfQueuedRecordsIsReportedBySync) {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  FdSink sink(fds[1], "the pipe");
  StreamStorage s(sink, {}, 2);
  ASSERT_TRUE(s.start().is_ok());
  ::close(fds[0]);
  auto f = s.create("big");
  ASSERT_TRUE(f.is_ok());
  const std::vector<uint8_t> chunk(stream::kMaxChunk, 7);
  for (int i = 0; i < 3; ++i) (void)(*f)->append(chunk);  // ok or already the error
  const Status synced = s.sync();
  EXPECT_EQ(synced.code(), ExitCode::kNetwork) << synced.message();
  EXPECT_EQ((*f)->append(chunk).code(), ExitCode::kNetwork);
  EXPECT_EQ(s.finish().code(), ExitCode::kNetwork);
  ::close(fds[1]);
}

// A consumer that stalls (reads nothing, never goes away) holds up the writer, and then every
// record queued after it: a signal must end those waits (the run may hold the source's locks),
// the writer's own too (a write() on a stream thread is not interrupted by the signal), so that
// the storage ends while the consumer still stalls. `make_pair`: a pipe, or a socket pair;
// `as_other_user`: the process runs as another user than the pipe's (nobody), which may not open
// it again through /proc (the sink's other way: writes no larger than the pipe's room).
void expect_signal_ends_stalled_consumer(int (*make_pair)(int fds[2]), bool as_other_user = false) {
  std::signal(SIGPIPE, SIG_IGN);
  // The interrupt flag is process-wide and sticky: proved in a child process, which SIGALRM
  // ends (a failure) if a wait outlives the signal.
  EXPECT_EXIT(
      {
        ::alarm(30);
        int fds[2];
        if (make_pair(fds) != 0) std::exit(2);
        if (as_other_user && ::setresuid(65534, 65534, 65534) != 0) std::exit(4);  // the tests run as root
        FdSink sink(fds[1], "the pipe");
        Status s;
        {
          StreamStorage storage(sink, {}, 2);
          s = storage.start();
          auto f = storage.create("big");
          if (!s.is_ok() || !f.is_ok()) std::exit(3);
          std::thread signal([] {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            request_interrupt();
          });
          const std::vector<uint8_t> chunk(stream::kMaxChunk, 7);
          for (int i = 0; i < 1000 && s.is_ok(); ++i) s = (*f)->append(chunk);  // 1000 chunks: far past the pipe
          signal.join();
        }
        ::close(fds[0]);
        std::exit(s.code() == ExitCode::kInterrupted ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

int pipe_pair(int fds[2]) { return ::pipe(fds); }
int socket_pair(int fds[2]) { return ::socketpair(AF_UNIX, SOCK_STREAM, 0, fds); }

TEST(Stream, ASignalEndsTheWaitForAStalledConsumer) { expect_signal_ends_stalled_consumer(pipe_pair); }
TEST(Stream, ASignalEndsTheWaitForAStalledConsumerOnASocket) { expect_signal_ends_stalled_consumer(socket_pair); }
TEST(Stream, ASignalEndsTheWaitForAStalledConsumerOnAnotherUsersPipe) {
  expect_signal_ends_stalled_consumer(pipe_pair, true);
}

// Through another user's pipe (written no more than it has room for) every byte arrives, in order.
TEST(Stream, AnotherUsersPipeCarriesEveryByte) {
  EXPECT_EXIT(
      {
        ::alarm(30);
        int fds[2];
        if (::pipe(fds) != 0 || ::setresuid(65534, 65534, 65534) != 0) std::exit(2);
        std::vector<uint8_t> sent(8 << 20);
        for (size_t i = 0; i < sent.size(); ++i) sent[i] = uint8_t(i * 7 + i / 4093);
        std::vector<uint8_t> got;
        std::thread reader([&] {
          std::vector<uint8_t> buf(100000);  // reads of odd sizes, so slots are left part full
          for (ssize_t n; (n = ::read(fds[0], buf.data(), buf.size())) > 0;) got.insert(got.end(), buf.begin(), buf.begin() + n);
        });
        Status s;
        {
          FdSink sink(fds[1], "the pipe");
          for (size_t at = 0; at < sent.size() && s.is_ok(); at += 1000003)
            s = sink.write(std::span<const uint8_t>(sent).subspan(at, std::min<size_t>(1000003, sent.size() - at)));
        }
        ::close(fds[1]);
        reader.join();
        std::exit(s.is_ok() && got == sent ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// The sink's own waits do not touch the caller's descriptor: stdin may share its description (a
// socket from inetd, a pipe pair some tools hand over), and a non-blocking stdin fails a read of
// the password with EAGAIN.
TEST(Stream, ASinkLeavesTheCallersDescriptorBlocking) {
  for (auto make_pair : {pipe_pair, socket_pair}) {
    int fds[2];
    ASSERT_EQ(make_pair(fds), 0);
    const int before = ::fcntl(fds[1], F_GETFL);
    {
      FdSink sink(fds[1], "the pipe");
      EXPECT_EQ(::fcntl(fds[1], F_GETFL), before);
      const std::vector<uint8_t> bytes(100, 1);
      EXPECT_TRUE(sink.write(bytes).is_ok());
      EXPECT_EQ(::fcntl(fds[1], F_GETFL), before);
    }
    std::vector<uint8_t> got(100);
    EXPECT_EQ(::read(fds[0], got.data(), got.size()), 100);
    EXPECT_EQ(got, std::vector<uint8_t>(100, 1));
    ::close(fds[0]);
    ::close(fds[1]);
  }
}

// ---- damage -------------------------------------------------------------------------------------

// Refused by the reader alone and by one that reads ahead on threads, after the same records
// and with the same words.
void expect_refused(const std::vector<uint8_t>& bytes, const std::optional<SecretKey>& key, const std::string& what) {
  auto o = read_stream(bytes, key);
  EXPECT_EQ(o.status.code(), ExitCode::kVerifyFailed) << what << ": " << o.status.message();
  auto ahead = read_stream(bytes, key, 3);
  EXPECT_EQ(ahead.status.message(), o.status.message()) << what;
  EXPECT_EQ(ahead.records.size(), o.records.size()) << what;
}

TEST(StreamDamage, TruncationAtEveryRecordBoundaryAndRandomOffsets) {
  for (const stream::Settings& settings : all_settings()) {
    StreamFileFixture f(settings);
    write_small_copy(f.storage(), 1);
    const auto bytes = f.bytes();
    const auto whole = read_stream(bytes, settings.key);
    ASSERT_TRUE(whole.status.is_ok());
    std::vector<size_t> cuts(whole.boundaries.begin(), whole.boundaries.end());
    cuts.push_back(0);
    cuts.push_back(bytes.size() - 1);
    std::mt19937 rng(42);
    for (int i = 0; i < 50; ++i) cuts.push_back(rng() % bytes.size());
    for (size_t cut : cuts)
      expect_refused(std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(cut)), settings.key,
                     "cut at " + std::to_string(cut));
    auto longer = bytes;
    longer.push_back(0);
    expect_refused(longer, settings.key, "a byte after the end");
  }
}

TEST(StreamDamage, EverySingleByteFlipIsCaught) {
  for (const stream::Settings& settings : all_settings()) {
    StreamFileFixture f(settings);
    write_small_copy(f.storage(), 1);
    const auto bytes = f.bytes();
    for (size_t i = 0; i < bytes.size(); ++i) {
      auto flipped = bytes;
      flipped[i] ^= uint8_t(1u << (i % 8));
      auto o = read_stream(flipped, settings.key);
      // A flip in the preamble's cipher byte turns a plain stream into one that asks for a key.
      EXPECT_TRUE(o.status.code() == ExitCode::kVerifyFailed || (i == 10 && o.status.code() == ExitCode::kUsage))
          << "flip at " << i << ": " << o.status.message();
      if (i % 16 == 0) {
        EXPECT_EQ(read_stream(flipped, settings.key, 3).status.message(), o.status.message()) << i;
      }
    }
  }
}

// The byte ranges of the records of a stream: [boundaries[i], boundaries[i+1]).
std::vector<std::vector<uint8_t>> split_records(const std::vector<uint8_t>& bytes, const std::vector<uint64_t>& b) {
  std::vector<std::vector<uint8_t>> out;
  out.emplace_back(bytes.begin(), bytes.begin() + long(b[0]));  // the preamble
  for (size_t i = 0; i < b.size(); ++i)
    out.emplace_back(bytes.begin() + long(b[i]), i + 1 < b.size() ? bytes.begin() + long(b[i + 1]) : bytes.end());
  return out;
}

std::vector<uint8_t> join(const std::vector<std::vector<uint8_t>>& parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(StreamDamage, SwappedDuplicatedDroppedAndForeignRecordsAreCaught) {
  for (const stream::Settings& settings : all_settings()) {
    StreamFileFixture a(settings);
    StreamFileFixture b(settings, a);
    write_small_copy(a.storage(), 1);
    write_small_copy(b.storage(), 1);  // the same content: only the stream identity differs
    const auto bytes = a.bytes();
    const auto parts = split_records(bytes, read_stream(bytes, settings.key).boundaries);
    const auto other = split_records(b.bytes(), read_stream(b.bytes(), settings.key).boundaries);
    ASSERT_EQ(parts.size(), other.size());
    for (size_t i = 1; i + 1 < parts.size(); ++i) {
      auto swapped = parts;
      std::swap(swapped[i], swapped[i + 1]);
      expect_refused(join(swapped), settings.key, "records " + std::to_string(i) + " swapped");
      auto duplicated = parts;
      duplicated.insert(duplicated.begin() + long(i), parts[i]);
      expect_refused(join(duplicated), settings.key, "record " + std::to_string(i) + " duplicated");
      auto dropped = parts;
      dropped.erase(dropped.begin() + long(i));
      expect_refused(join(dropped), settings.key, "record " + std::to_string(i) + " dropped");
      auto spliced = parts;
      spliced[i] = other[i];
      expect_refused(join(spliced), settings.key, "record " + std::to_string(i) + " from another stream");
    }
  }
}

// A body changed with its checksums made to match (what a stray rewrite of a record would do):
// the frames' SHA-256 in the end record no longer matches. And an older format is refused.
TEST(StreamDamage, ARecordRewrittenWithMatchingChecksumsFailsTheEndRecord) {
  StreamFileFixture f({});
  write_small_copy(f.storage(), 1);
  auto bytes = f.bytes();
  const auto boundaries = read_stream(bytes, std::nullopt).boundaries;
  const auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes[at + size_t(i)] = uint8_t(v >> (8 * i));
  };
  const auto get32 = [&](size_t at) {
    return uint32_t(bytes[at]) | uint32_t(bytes[at + 1]) << 8 | uint32_t(bytes[at + 2]) << 16 | uint32_t(bytes[at + 3]) << 24;
  };
  size_t rewritten = 0;
  for (size_t i = 0; i + 1 < boundaries.size() && !rewritten; ++i)
    if (bytes[boundaries[i]] == uint8_t(RecordType::kData)) rewritten = boundaries[i];
  ASSERT_NE(rewritten, 0u);
  const size_t body = rewritten + stream::kFrameBytes;
  const uint32_t stored = get32(rewritten + 4);
  bytes[body + 16] ^= 0xff;  // a data byte
  put32(rewritten + 12, innodb::crc32c(0, bytes.data() + body, stored));
  put32(rewritten + 28, innodb::crc32c(innodb::crc32c(0, bytes.data() + 16, 16), bytes.data() + rewritten, 28));
  auto o = read_stream(bytes, std::nullopt);
  EXPECT_EQ(o.status.code(), ExitCode::kVerifyFailed);
  EXPECT_NE(o.status.message().find("does not match its end record"), std::string::npos) << o.status.message();
  EXPECT_EQ(o.records.size(), boundaries.size() - 1) << "refused at the end record, not before";

  auto v1 = f.bytes();
  v1[8] = 1;
  for (int i = 0; i < 4; ++i) v1[60 + size_t(i)] = uint8_t(innodb::crc32c(0, v1.data(), 60) >> (8 * i));
  auto old = read_stream(v1, std::nullopt);
  EXPECT_EQ(old.status.code(), ExitCode::kVerifyFailed);
  EXPECT_NE(old.status.message().find("format version 1"), std::string::npos) << old.status.message();
}

TEST(StreamDamage, KeysAreChecked) {
  stream::Settings settings;
  settings.key.emplace(key_of(1));
  StreamFileFixture f(settings);
  write_small_copy(f.storage(), 1);
  auto wrong = read_stream(f.bytes(), key_of(2));
  EXPECT_EQ(wrong.status.code(), ExitCode::kVerifyFailed);
  EXPECT_NE(wrong.status.message().find("wrong key"), std::string::npos) << wrong.status.message();
  EXPECT_TRUE(wrong.records.empty()) << "nothing is returned under a wrong key";
  EXPECT_EQ(read_stream(f.bytes(), std::nullopt).status.code(), ExitCode::kUsage);
  StreamFileFixture plain({}, f);
  write_small_copy(plain.storage(), 1);
  EXPECT_EQ(read_stream(plain.bytes(), key_of(1)).status.code(), ExitCode::kUsage);
  EXPECT_EQ(read_stream(std::vector<uint8_t>(100, 'x'), std::nullopt).status.code(), ExitCode::kVerifyFailed);
}

TEST(StreamDamage, PathsThatLeaveTheTargetAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"../x", "/etc/passwd", "a/../../x", "a//b", "./a", "a/", "", "a\nb",
                                std::string("a\0b", 3), std::string(stream::kMaxPath + 1, 'a')}) {
    StreamFileFixture f({});
    ASSERT_TRUE(f.storage().start().is_ok());
    ASSERT_TRUE(f.storage().put(bad, "x").is_ok());
    ASSERT_TRUE(f.storage().finish().is_ok());
    auto o = read_stream(f.bytes(), std::nullopt);
    EXPECT_EQ(o.status.code(), ExitCode::kVerifyFailed) << bad;
    EXPECT_TRUE(o.records.empty()) << bad;
  }
}

TEST(StreamDamage, AFailedReaderStaysFailed) {
  StreamFileFixture f({});
  write_small_copy(f.storage(), 1);
  auto bytes = f.bytes();
  const auto boundaries = read_stream(bytes, std::nullopt).boundaries;
  bytes[boundaries[3] + stream::kFrameBytes + 20] ^= 1;  // inside record 4's body
  stream::Reader reader(stream::memory_input(bytes), std::nullopt);
  ASSERT_TRUE(reader.open().is_ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.next().is_ok());
  const Status first = reader.next().status();
  EXPECT_EQ(first.code(), ExitCode::kVerifyFailed);
  // The next frame is intact, but a reader that lost its place never returns it.
  const Status again = reader.next().status();
  EXPECT_EQ(again.message(), first.message());
}

TEST(StreamDamage, FilesMustCloseAtTheSizeWritten) {
  StreamFileFixture f({});
  ASSERT_TRUE(f.storage().start().is_ok());
  auto a = f.storage().create("a");
  ASSERT_TRUE(a.is_ok());
  ASSERT_TRUE((*a)->append(as_bytes(pattern(10, 1, false))).is_ok());
  ASSERT_TRUE(f.storage().finish().is_ok());  // never closed
  auto o = read_stream(f.bytes(), std::nullopt);
  EXPECT_EQ(o.status.code(), ExitCode::kVerifyFailed);
  EXPECT_NE(o.status.message().find("never closed"), std::string::npos) << o.status.message();
}

// ---- extract ------------------------------------------------------------------------------------

Result<ExtractResult> extract(const fs::path& stream_file, const fs::path& dir, const std::string& key_file = "") {
  ExtractProgress progress;
  ExtractOptions options;
  options.target_dir = dir.string();
  options.input = stream_file.string();
  options.key_file = key_file;
  return run_extract(options, progress);
}

TEST(Extract, ReplaysAStreamIntoADirectory) {
  StreamFileFixture f({});
  write_small_copy(f.storage(), 1);
  const fs::path dir = f.dir() / "out";
  auto r = extract(f.path(), dir);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->files, 2u);
  std::vector<uint8_t> t1 = pattern(3000, 1, true), tail = pattern(1000, 2, false);
  t1.insert(t1.end(), tail.begin(), tail.end());
  t1.resize(8192);
  EXPECT_EQ(slurp(dir / "db/t1.ibd"), std::string(t1.begin(), t1.end()));
  const auto log = pattern(2000, 3, false);
  EXPECT_EQ(slurp(dir / "ib_logfile0"), std::string(log.begin(), log.end()));
  EXPECT_FALSE(fs::exists(dir / "ib_logfile0.partial"));
  EXPECT_TRUE(fs::is_directory(dir / "emptydb"));
  EXPECT_EQ(slurp(dir / "mysqlclone.json"), manifest(TargetState::kComplete));
}

// What the Clone applier writes (remote --stream): blocks at offsets out of order, a range
// written again (the fresher copy wins), a file renamed and another removed while open and
// written after; extract replays it byte for byte as a disk would hold it.
TEST(Extract, ReplaysPositionedWritesOverwritesAndNameChangesOfOpenFiles) {
  stream::Settings settings;
  settings.compression = {Codec::kZstd, 1};
  StreamFileFixture f(settings);
  StreamStorage& s = f.storage();
  ASSERT_TRUE(s.start().is_ok());
  ASSERT_TRUE(s.put("mysqlclone.json", manifest(TargetState::kInProgress)).is_ok());
  auto a = s.create("db/a.ibd");
  auto b = s.create("db/b.ibd");
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  const auto high = pattern(4096, 7, true), low = pattern(4096, 8, false), fresh = pattern(1000, 9, false);
  ASSERT_TRUE((*a)->write_at(8192, as_bytes(high)).is_ok());
  ASSERT_TRUE((*a)->write_at(0, as_bytes(low)).is_ok());
  ASSERT_TRUE((*a)->write_at(100, as_bytes(fresh)).is_ok());  // over bytes written before
  ASSERT_TRUE(s.rename("db/a.ibd", "db/a.ibd.#clone_ddl").is_ok());
  ASSERT_TRUE((*a)->write_at(12288, as_bytes(low)).is_ok());  // written under its new name
  ASSERT_TRUE(s.rename("db/a.ibd.#clone_ddl", "db/c.ibd").is_ok());
  ASSERT_TRUE(s.remove("db/b.ibd").is_ok());
  ASSERT_TRUE((*b)->write_at(0, as_bytes(low)).is_ok());  // a block in flight for a dropped table
  ASSERT_TRUE((*a)->extend_to(32768).is_ok());
  ASSERT_TRUE((*a)->close().is_ok());
  ASSERT_TRUE((*b)->close().is_ok());
  ASSERT_TRUE(s.put("mysqlclone.json", manifest(TargetState::kComplete)).is_ok());
  ASSERT_TRUE(s.finish().is_ok());

  const fs::path dir = f.dir() / "out";
  auto r = extract(f.path(), dir);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  std::vector<uint8_t> want(32768, 0);
  std::copy(low.begin(), low.end(), want.begin());
  std::copy(fresh.begin(), fresh.end(), want.begin() + 100);
  std::copy(high.begin(), high.end(), want.begin() + 8192);
  std::copy(low.begin(), low.end(), want.begin() + 12288);
  EXPECT_EQ(slurp(dir / "db/c.ibd"), std::string(want.begin(), want.end()));
  EXPECT_FALSE(fs::exists(dir / "db/a.ibd"));
  EXPECT_FALSE(fs::exists(dir / "db/a.ibd.#clone_ddl"));
  EXPECT_FALSE(fs::exists(dir / "db/b.ibd"));
}

// A reader keeps at most kMaxOpenFiles open: the writer refuses one more, with words, rather
// than write a stream nobody can extract; a close makes room again.
TEST(Stream, RefusesMoreOpenFilesThanAReaderKeeps) {
  StreamFileFixture f({});
  StreamStorage& s = f.storage();
  ASSERT_TRUE(s.start().is_ok());
  std::vector<std::unique_ptr<StorageFile>> open;
  for (size_t i = 0; i < stream::kMaxOpenFiles; ++i) {
    // Not "f" + std::to_string(i): GCC 12 at -O3 reports a false overlap there (-Wrestrict).
    auto file = s.create(std::string("f").append(std::to_string(i)));
    ASSERT_TRUE(file.is_ok()) << i;
    open.push_back(std::move(file).value());
  }
  auto refused = s.create("one.more");
  EXPECT_EQ(refused.status().code(), ExitCode::kUnsupported);
  EXPECT_NE(refused.status().message().find("one.more"), std::string::npos) << refused.status().message();
  ASSERT_TRUE(open.front()->close().is_ok());
  EXPECT_TRUE(s.create("one.more").is_ok());
}

// Cut anywhere, the target is failed, and the names that make a datadir startable (the renamed
// redo, the complete manifest) never appear: they come after the last file record.
TEST(Extract, ACutStreamLeavesAFailedTargetThatNeverLooksStartable) {
  stream::Settings settings;
  settings.compression = {Codec::kLz4, 0};
  settings.key.emplace(key_of(9));
  StreamFileFixture f(settings);
  write_small_copy(f.storage(), 1);
  const auto bytes = f.bytes();
  std::ofstream(f.dir() / "key") << std::string(64, '0') << "\n";
  const std::string key_hex = []() {
    std::string h;
    for (int i = 0; i < 32; ++i) h += "09";
    return h;
  }();
  std::ofstream(f.dir() / "key9") << key_hex;
  auto whole = read_stream(bytes, key_of(9));
  ASSERT_TRUE(whole.status.is_ok());
  int n = 0;
  for (uint64_t cut : whole.boundaries) {
    const fs::path cut_file = f.dir() / "cut.mcs";
    std::ofstream(cut_file, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(cut));
    const fs::path dir = f.dir() / ("cut" + std::to_string(n++));
    auto r = extract(cut_file, dir, (f.dir() / "key9").string());
    EXPECT_EQ(r.status().code(), ExitCode::kVerifyFailed) << cut;
    EXPECT_FALSE(fs::exists(dir / "ib_logfile0")) << cut;
    auto finished = check_target_finished(dir.string());
    EXPECT_EQ(finished.status().code(), ExitCode::kVerifyFailed) << cut;
  }
  // The wrong key: one error, and no directory at all.
  auto wrong = extract(f.path(), f.dir() / "wrong", (f.dir() / "key").string());
  EXPECT_EQ(wrong.status().code(), ExitCode::kVerifyFailed);
  EXPECT_FALSE(fs::exists(f.dir() / "wrong"));
}

// Many threads appending to their own files and rewriting ranges of a shared one at once,
// compressed by fewer threads than write: every byte lands where it was written, and a range
// written twice by one thread holds its later bytes (records keep the order of the calls).
TEST(Extract, ManyWritersThroughFewCompressingThreadsKeepEveryByteAndEveryOrder) {
  stream::Settings settings;
  settings.compression = {Codec::kZstd, 1};
  settings.key.emplace(key_of(5));
  StreamFileFixture f(settings);
  StreamStorage& s = f.storage();
  ASSERT_TRUE(s.start().is_ok());
  constexpr int kWriters = 6;
  constexpr size_t kChunks = 40, kChunk = 70000;
  auto shared = s.create("shared");
  ASSERT_TRUE(shared.is_ok());
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto own = s.create("own" + std::to_string(w));
      if (!own.is_ok()) return void(++failures);
      for (size_t i = 0; i < kChunks; ++i) {
        if (!(*own)->append(as_bytes(pattern(kChunk, uint32_t(w * 1000 + i), i % 2 == 0))).is_ok()) ++failures;
        // Thread w owns bytes [w*4096, (w+1)*4096) of the shared file: first a stale page, then the fresh one.
        if (!(*shared)->write_at(uint64_t(w) * 4096, as_bytes(pattern(4096, uint32_t(900 + i), false))).is_ok() ||
            !(*shared)->write_at(uint64_t(w) * 4096, as_bytes(pattern(4096, uint32_t(w), true))).is_ok())
          ++failures;
      }
      if (!(*own)->close().is_ok()) ++failures;
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE((*shared)->close().is_ok());
  ASSERT_TRUE(s.put("mysqlclone.json", manifest(TargetState::kComplete)).is_ok());
  ASSERT_TRUE(s.finish().is_ok());

  const fs::path dir = f.dir() / "out";
  std::string key_hex;
  for (int i = 0; i < 32; ++i) key_hex += "05";  // key_of(5)
  std::ofstream(f.dir() / "key") << key_hex << "\n";
  auto r = extract(f.path(), dir, (f.dir() / "key").string());
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  for (int w = 0; w < kWriters; ++w) {
    std::string want;
    for (size_t i = 0; i < kChunks; ++i) {
      const auto p = pattern(kChunk, uint32_t(w * 1000 + i), i % 2 == 0);
      want.append(p.begin(), p.end());
    }
    EXPECT_EQ(slurp(dir / ("own" + std::to_string(w))), want) << w;
    const auto fresh = pattern(4096, uint32_t(w), true);
    EXPECT_EQ(slurp(dir / "shared").substr(size_t(w) * 4096, 4096), std::string(fresh.begin(), fresh.end())) << w;
  }
}

}  // namespace

// ---- extract's file writers ---------------------------------------------------------------------

// A file that notes what is applied to it, slowly enough for writes of two files to overlap.
struct NotingFile : StorageFile {
  std::mutex& mutex;
  std::vector<std::string>& log;
  std::atomic<int>& active;
  std::atomic<int>& most_active;
  std::string name;
  bool fail_writes = false;
  NotingFile(std::mutex& m, std::vector<std::string>& l, std::atomic<int>& a, std::atomic<int>& most, std::string n)
      : mutex(m), log(l), active(a), most_active(most), name(std::move(n)) {}
  Status note(const std::string& what) {
    const int now = ++active;
    for (int seen = most_active.load(); seen < now && !most_active.compare_exchange_weak(seen, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --active;
    std::lock_guard lock(mutex);
    log.push_back(name + " " + what);
    return Status::ok();
  }
  Status append(std::span<const uint8_t>) override { return Status::error(ExitCode::kInternal, "append"); }
  Status write_at(uint64_t offset, std::span<const uint8_t> bytes) override {
    if (fail_writes) return Status::error(ExitCode::kPath, name + ": no space left");
    return note("write " + std::to_string(offset) + " " + std::to_string(bytes.size()));
  }
  Status extend_to(uint64_t size) override { return note("extend " + std::to_string(size)); }
  Status close() override { return note("close"); }
};

TEST(FileWriters, KeepEachFilesOrderAndWriteFilesSideBySide) {
  std::mutex mutex;
  std::vector<std::string> log;
  std::atomic<int> active{0}, most{0};
  FileWriters writers(2);
  std::vector<std::unique_ptr<StorageFile>> files;
  for (int f = 0; f < 2; ++f) files.push_back(std::make_unique<NotingFile>(mutex, log, active, most, "f" + std::to_string(f)));
  for (uint64_t i = 0; i < 20; ++i)
    for (uint32_t f = 0; f < 2; ++f) ASSERT_TRUE(writers.write(f + 1, *files[f], i * 10, std::vector<uint8_t>(10)).is_ok());
  ASSERT_TRUE(writers.extend(1, *files[0], 500).is_ok());
  for (uint32_t f = 0; f < 2; ++f) ASSERT_TRUE(writers.close(f + 1, std::move(files[f]), 400).is_ok());
  ASSERT_TRUE(writers.drain().is_ok());
  EXPECT_EQ(most.load(), 2) << "the two files were never written at the same time";
  for (const std::string name : {"f0", "f1"}) {
    std::vector<std::string> mine;
    for (const std::string& l : log)
      if (l.rfind(name + " ", 0) == 0) mine.push_back(l.substr(3));
    ASSERT_EQ(mine.size(), name == "f0" ? 23u : 22u) << name;
    for (size_t i = 0; i < 20; ++i) EXPECT_EQ(mine[i], "write " + std::to_string(i * 10) + " 10") << name;
    const std::vector<std::string> tail = name == "f0" ? std::vector<std::string>{"extend 500", "extend 400", "close"}
                                                       : std::vector<std::string>{"extend 400", "close"};
    EXPECT_EQ(std::vector<std::string>(mine.begin() + 20, mine.end()), tail) << name;
  }
}

TEST(FileWriters, AFailedWriteIsReturnedAndNothingIsWrittenAfterIt) {
  std::mutex mutex;
  std::vector<std::string> log;
  std::atomic<int> active{0}, most{0};
  FileWriters writers(2);
  NotingFile bad(mutex, log, active, most, "bad");
  bad.fail_writes = true;
  NotingFile good(mutex, log, active, most, "good");
  ASSERT_TRUE(writers.write(1, bad, 0, std::vector<uint8_t>(10)).is_ok());
  const Status drained = writers.drain();
  EXPECT_EQ(drained.code(), ExitCode::kPath);
  EXPECT_NE(drained.message().find("no space left"), std::string::npos) << drained.message();
  EXPECT_EQ(writers.write(2, good, 0, std::vector<uint8_t>(10)).message(), drained.message());
  EXPECT_EQ(writers.drain().message(), drained.message());
  EXPECT_TRUE(log.empty());
}
